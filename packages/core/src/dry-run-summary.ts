import type { Destination, RowIssue, SyncTarget } from './contract.js';
import type { SyncSpec } from './sync-spec.js';
import type { StagedChange } from './duckdb-ledger.js';
import type { Ledger } from './ledger.js';
import { diffFields } from './field-diff.js';
import type { PreviewChange, RunResult } from './run-sync.js';

/** A preview row waiting for its field diffs (computed once the preview is complete). */
export interface PendingPreview {
  item: PreviewChange;
  before: Record<string, unknown> | null;
  payload: Record<string, unknown> | null;
}

/**
 * Fills the preview rows' field diffs. Without `before` in the changes (`withBefore` false), the rows'
 * `before` come from the ledger in one query.
 */
export async function diffPreview(ledger: Ledger, previewed: PendingPreview[], withBefore: boolean): Promise<void> {
  // A removal is shown as one line (what happens to the record), never field by field.
  const fetched = withBefore
    ? new Map<string, string>()
    : await ledger.befores(previewed.filter((p) => p.item.action === 'change').map((p) => p.item.key));
  for (const { item, before, payload } of previewed) {
    if (item.action === 'remove') continue;
    const text = fetched.get(item.key);
    const d = diffFields(text === undefined ? before : (JSON.parse(text) as Record<string, unknown>), payload);
    item.fields = d.fields;
    item.unchangedFields = d.unchanged;
  }
}

/** Where each shown invalid row is in the model: one more read of the model, only when there are some. */
export async function locateInvalid(
  ledger: Ledger,
  spec: SyncSpec,
  result: RunResult,
  inner: { plan: number },
  signal: AbortSignal | undefined,
): Promise<void> {
  if (result.invalid.length === 0) return;
  const t0 = performance.now();
  const keys = result.invalid.map((i) => i.key);
  // Only a label: if the second read fails (or is interrupted), the rows are shown without their number.
  const at = await ledger.rowNumbers({ modelSql: spec.model, key: spec.key, keys, signal }).catch(() => new Map<string, number>());
  for (const i of result.invalid) if (at.has(i.key)) i.row = at.get(i.key)!;
  inner.plan += performance.now() - t0;
}

/**
 * A large dry run without reading every change into JavaScript: the stage's `validSql` cleared most rows
 * inside DuckDB, so only the rows it did not clear are read (10,000 per query) and validated exactly; the
 * preview is a top-N per action; and the calls come from the destination's `estimate` over chunk counts.
 * Same counts, invalid rows and preview as the row-by-row dry run; the estimate is exact when no upsert
 * is invalid (an invalid row is taken out of the last chunk of its action, not of its own chunk, so the
 * calls can differ by at most the number of invalid rows).
 */
export async function summarizeDryRun(o: {
  ledger: Ledger;
  destination: Destination;
  estimate: NonNullable<Destination['estimate']>;
  target: SyncTarget;
  result: RunResult;
  totals: { add: number; change: number; remove: number };
  limit: number;
  chunkSize: number;
  inner: { plan: number };
  /** Counts an invalid row (as the row-by-row dry run does). */
  recordInvalid: (s: StagedChange, issues: RowIssue[], payload: Record<string, unknown>) => void;
  spec: SyncSpec;
  signal?: AbortSignal | undefined;
}): Promise<void> {
  const { ledger, destination, target, result, totals, limit } = o;
  // Preview first (it reads `staged`, which `diff` drops): the first valid rows of each action by key.
  // Up to 1,000 invalid rows among the first keys are skipped over.
  const shown = { add: 0, change: 0, remove: 0 };
  const previewed: PendingPreview[] = [];
  for (const s of await ledger.previewChanges(limit + Math.min(1000, result.rows.total))) {
    if (shown[s.action] >= limit) continue;
    const payload = s.payload === null ? null : (JSON.parse(s.payload) as Record<string, unknown>);
    if (payload && destination.validate({ key: s.key, payload }, target).length > 0) continue;
    shown[s.action] += 1;
    const item: PreviewChange = { action: s.action, key: s.key, fields: [], unchangedFields: 0, ...(payload ? { payload } : {}) };
    result.preview.push(item);
    previewed.push({ item, before: null, payload });
  }
  await diffPreview(ledger, previewed, false);

  const t0 = performance.now();
  const unsure = await ledger.diff({ before: false, only: 'unsure' });
  const invalid = { add: 0, change: 0 };
  const block = 10_000;
  const total = unsure.add + unsure.change;
  for (let from = 1; from <= total; from += block)
    for (const s of await ledger.readChanges(from, from + block)) {
      const payload = JSON.parse(s.payload!) as Record<string, unknown>;
      const issues = destination.validate({ key: s.key, payload }, target);
      if (issues.length === 0) continue;
      o.recordInvalid(s, issues, payload);
      invalid[s.action as 'add' | 'change'] += 1;
    }
  result.endpoints = o.estimate(chunkCounts(totals, invalid.add + invalid.change, o.chunkSize), { target, totals });
  result.requests = result.endpoints.reduce((n, e) => n + e.calls, 0);
  o.inner.plan += performance.now() - t0;
  await locateInvalid(ledger, o.spec, result, o.inner, o.signal);
  result.invalidByReason.sort((a, b) => b.count - a.count);
}

/**
 * The valid upserts and the removals of each chunk of `chunkSize` changes, numbered add → change →
 * remove as the run reads them; the invalid upserts are taken from the last upsert chunks.
 */
export function chunkCounts(
  totals: { add: number; change: number; remove: number },
  invalid: number,
  chunkSize: number,
): { upserts: number; removes: number }[] {
  const upserts = totals.add + totals.change;
  const all = upserts + totals.remove;
  const chunks: { upserts: number; removes: number }[] = [];
  for (let at = 0; at < all; at += chunkSize) {
    const end = Math.min(all, at + chunkSize);
    const u = Math.max(0, Math.min(end, upserts) - at);
    chunks.push({ upserts: u, removes: end - at - u });
  }
  for (let i = chunks.length - 1; i >= 0 && invalid > 0; i--) {
    const take = Math.min(invalid, chunks[i]!.upserts);
    chunks[i]!.upserts -= take;
    invalid -= take;
  }
  return chunks;
}
