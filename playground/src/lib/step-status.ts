import type { ScreenPath } from './route.svelte.js';

/** A step's dot in the sidebar (ux.md §4): done, needs attention, blocked by an earlier step, or not yet. */
export type StepState = 'done' | 'attention' | 'blocked' | 'todo';

export interface StepStatus {
  state: StepState;
  /** Why, in a few words (the dot's title and accessible name). */
  reason: string;
}

/** What the sidebar knows of the workspace (all of it already in the page's state). */
export interface StepFacts {
  tables: number;
  /** The sync's model SQL ('' when none). */
  model: string;
  /** Columns of the model's last run, when known. */
  modelColumns: string[] | undefined;
  key: string | undefined;
  mappedFields: number;
  /** The Sync screen's problems (columns not in the model, key nulls or duplicates). */
  syncProblems: string[];
  /** The last dry run of this sync in this page, for the sync file as it is now; undefined when none. */
  dryRun: { error?: string; invalid: number } | undefined;
  /** The status of the sync's last run, if any. */
  lastRun: string | undefined;
}

/** Each step's dot, from the facts: a step is blocked while an earlier one it needs is not done. */
export function stepStatus(f: StepFacts): Record<ScreenPath, StepStatus> {
  const data: StepStatus = f.tables > 0 ? { state: 'done', reason: `${f.tables} tables` } : { state: 'attention', reason: 'no table yet' };
  const model: StepStatus =
    data.state !== 'done'
      ? { state: 'blocked', reason: 'load a table first' }
      : f.model.trim() === ''
        ? { state: 'todo', reason: 'no model yet' }
        : { state: 'done', reason: f.modelColumns ? `${f.modelColumns.length} columns` : 'model saved' };
  const sync: StepStatus =
    model.state !== 'done'
      ? { state: 'blocked', reason: 'write a model first' }
      : f.syncProblems.length
        ? { state: 'attention', reason: f.syncProblems.length === 1 ? f.syncProblems[0]! : `${f.syncProblems.length} problems` }
        : !f.key
          ? { state: 'attention', reason: 'choose a key column' }
          : f.mappedFields === 0
            ? { state: 'attention', reason: 'map a field' }
            : { state: 'done', reason: `key ${f.key}, ${f.mappedFields} fields` };
  const needsSync = (then: StepStatus): StepStatus => (sync.state === 'done' ? then : { state: 'blocked', reason: 'fix the sync first' });
  const dryRun = needsSync(
    !f.dryRun
      ? { state: 'todo', reason: 'not dry-run yet' }
      : f.dryRun.error
        ? { state: 'attention', reason: 'the last dry run failed' }
        : f.dryRun.invalid > 0
          ? { state: 'attention', reason: `${f.dryRun.invalid} invalid rows` }
          : { state: 'done', reason: 'dry run passed' },
  );
  const runs = needsSync(
    f.lastRun === undefined
      ? { state: 'todo', reason: 'no run yet' }
      : f.lastRun === 'succeeded'
        ? { state: 'done', reason: 'last run succeeded' }
        : f.lastRun === 'running'
          ? { state: 'todo', reason: 'running' }
          : { state: 'attention', reason: `last run ${f.lastRun}` },
  );
  return { '/data': data, '/model': model, '/sync': sync, '/dry-run': dryRun, '/runs': runs };
}
