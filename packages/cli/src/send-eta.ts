import { chunkCounts, type Destination, type SyncSpec } from '@syncline/core';
import { limitsName, sendSeconds, tierRates, type KnockTiersInput } from '@syncline/destination-knock';
import { duration, n } from './format.js';

/** The diff's counts, from the `diff` phase's end event. */
export type DiffCounts = { add: number; change: number; remove: number };

/**
 * The send's estimate at the sync's rate tiers (`destination.tiers`, Knock's defaults otherwise), from the
 * destination's own estimate of the calls: the line `Send: 10,000,000 changes · ETA ≈ 2h37m at Knock's rate
 * limits` (empty when nothing is sent, and without an ETA under `tiers: off`) and its seconds, which also seed
 * the progress bar's ETA so both show the same figure at the start.
 */
export function sendEta(
  destination: Destination,
  target: SyncSpec['target'],
  counts: DiffCounts,
  maxRows: number | undefined,
  tiers?: KnockTiersInput,
): { line: string; seconds: number | undefined } {
  const all = counts.add + counts.change + counts.remove;
  const rows = Math.min(all, maxRows ?? all);
  if (rows === 0 || !destination.estimate) return { line: '', seconds: undefined };
  const rates = tierRates(tiers);
  const what = `Send: ${n(rows)}${rows < all ? ` of ${n(all)}` : ''} changes`;
  if (!rates) return { line: `${what} · no pacing (tiers: off)\n`, seconds: undefined };
  const seconds = sendSeconds(destination.estimate(chunkCounts(counts, 0, 1000), { target, totals: counts }), rates);
  const share = all === 0 ? 0 : rows / all;
  const eta = Math.ceil(seconds * share);
  return {
    line: `${what} · ETA ≈ ${duration(eta)} at ${limitsName(rates)} rate limits\n`,
    seconds: eta,
  };
}
