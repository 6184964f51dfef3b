import { chunkCounts, type Destination, type SyncSpec } from '@syncline/core';
import { duration, n } from './format.js';
import { estimateSeconds } from './saved-plan.js';

/** The diff's counts, from the `diff` phase's end event. */
export type DiffCounts = { add: number; change: number; remove: number };

/**
 * The send's estimate at Knock's rate limits, from the destination's own estimate of the calls: the line
 * `Send: 10,000,000 changes · ETA ≈ 2h37m at Knock's rate limits` (empty when nothing is sent) and its seconds,
 * which also seed the progress bar's ETA so both show the same figure at the start.
 */
export function sendEta(
  destination: Destination,
  target: SyncSpec['target'],
  counts: DiffCounts,
  maxRows: number | undefined,
): { line: string; seconds: number | undefined } {
  const all = counts.add + counts.change + counts.remove;
  const rows = Math.min(all, maxRows ?? all);
  if (rows === 0 || !destination.estimate) return { line: '', seconds: undefined };
  const seconds = estimateSeconds(destination.estimate(chunkCounts(counts, 0, 1000), { target, totals: counts }));
  const share = all === 0 ? 0 : rows / all;
  const eta = Math.ceil(seconds * share);
  return {
    line: `Send: ${n(rows)}${rows < all ? ` of ${n(all)}` : ''} changes · ETA ≈ ${duration(eta)} at Knock's rate limits\n`,
    seconds: eta,
  };
}
