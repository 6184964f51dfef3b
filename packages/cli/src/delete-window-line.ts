import type { RunResult } from '@syncline/core';
import { n } from './format.js';

const pct = (x: number): string => `${Math.round(x * 1000) / 10} %`;

/**
 * The plan's line for the rolling mass-delete guard, when rows were deleted in the last 24 h:
 * "Deletes in the last 24 h: 15 + 10 planned = 25 % of the 100 rows synced at the window's start (limit 20 %)".
 */
export function deleteWindowLine(r: RunResult): string | undefined {
  const w = r.deleteWindow;
  if (!w || w.deleted === 0) return undefined;
  return `Deletes in the last 24 h: ${n(w.deleted)} + ${n(w.planned)} planned = ${pct(w.share)} of the ${n(w.base)} rows synced at the window's start (since ${w.since}; limit ${pct(w.limit)})`;
}
