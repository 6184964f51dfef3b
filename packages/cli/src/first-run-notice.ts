import type { EndpointEstimate } from '@syncline/core';
import { n } from './format.js';

/** Knock's documented requests per second of rate tiers 1..5. */
const TIER_RPS = [1, 5, 60, 200, 1000];

/**
 * The notice `plan` and `run` print when the sync has no ledger: every row is sent as new, which is right
 * for a first run and a costly surprise when a ledger was lost (a restore avoids the resend).
 * With `endpoints` (a plan) the time is the slowest endpoint's calls at its tier; without (a run, before
 * planning) it assumes bulk calls of 1,000 rows at 1 call/s.
 * @example firstRunNotice(5000, 'sync.yaml') // 'no ledger: this is a first run; 5,000 rows will be sent (≈ 5 s at Knock's limits); …'
 */
export function firstRunNotice(rows: number, config: string, endpoints?: EndpointEstimate[]): string {
  const seconds = endpoints?.length
    ? Math.max(...endpoints.map((e) => Math.ceil(e.calls / (e.tier ? TIER_RPS[e.tier - 1]! : 1))))
    : Math.ceil(rows / 1000);
  return (
    `no ledger: this is a first run; ${n(rows)} rows will be sent (≈ ${n(seconds)} s at Knock's limits); ` +
    `if a ledger existed, restore it first: syncline ledger restore ${config} <backup-file>\n`
  );
}
