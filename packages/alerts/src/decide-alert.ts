import type { AlertEvent } from './alert-config.js';

/** How a sync stands for one alert channel: `ok`, or the bad status it is in. */
export type SyncHealth = 'ok' | 'failed' | 'resume_later' | 'row_failures';

/** What decides an alert: the run's status and row counts (a `RunResult` or a saved run record fits). */
export interface RunOutcome {
  status: string;
  rows: { added: number; changed: number; removed: number; failed: number; invalid: number };
}

/**
 * The health a run shows. `aborted` (Ctrl-C) says nothing about the sync, so it returns `undefined`
 * (keep the previous state); a run's share of failed and invalid rows among the rows it had to send (added,
 * changed, removed, invalid) above `threshold` is `row_failures`.
 * @example runHealth({ status: 'partial', rows: { added: 10, changed: 0, removed: 0, failed: 1, invalid: 0 } }, 0.05) // 'row_failures'
 */
export function runHealth(run: RunOutcome, threshold: number): SyncHealth | undefined {
  if (run.status === 'failed') return 'failed';
  if (run.status === 'resume_later') return 'resume_later';
  if (run.status !== 'succeeded' && run.status !== 'partial') return undefined;
  const r = run.rows;
  // Core counts an invalid row once, as invalid (not also as added or changed), so it joins the denominator.
  const sent = r.added + r.changed + r.removed + r.invalid;
  const bad = r.failed + r.invalid;
  return sent > 0 && bad / sent > threshold ? 'row_failures' : 'ok';
}

/**
 * One alert per change of status: given the health recorded after the last run (`undefined` before any,
 * counted as ok) and this run, returns the health to record and the event to alert on, if any. Ten failed
 * runs in a row give one `failed`; the first good run after them gives `recovered`. Pure.
 * @example decideAlert(undefined, { status: 'failed', rows }, 0.05) // { health: 'failed', event: 'failed' }
 */
export function decideAlert(
  previous: SyncHealth | undefined,
  run: RunOutcome,
  threshold: number,
): { health: SyncHealth; event: AlertEvent | undefined } {
  const before = previous ?? 'ok';
  const health = runHealth(run, threshold) ?? before;
  if (health === before) return { health, event: undefined };
  return { health, event: health === 'ok' ? 'recovered' : health };
}
