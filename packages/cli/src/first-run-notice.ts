import type { EndpointEstimate } from '@syncline/core';
import { limitsName, sendSeconds, tierRates, type KnockTiersInput } from '@syncline/destination-knock';
import { n } from './format.js';

/**
 * The notice `plan` and `run` print when the sync has no ledger: every row is sent as new, which is right
 * for a first run and a costly surprise when a ledger was lost (a restore avoids the resend).
 * The time is at the sync's rate tiers (`destination.tiers`, Knock's defaults otherwise; none with `off`).
 * With `endpoints` (a plan) it is the slowest endpoint's calls at its tier; without (a run, before
 * planning) it assumes bulk calls of 1,000 rows at the tier-1 rate.
 * @example firstRunNotice(5000, 'sync.yaml', undefined) // 'no ledger: this is a first run; 5,000 rows will be sent (≈ 5 s at Knock's limits); …'
 */
export function firstRunNotice(rows: number, config: string, tiers: KnockTiersInput | undefined, endpoints?: EndpointEstimate[]): string {
  const rates = tierRates(tiers);
  const seconds = endpoints?.length ? sendSeconds(endpoints, rates) : rates && Math.ceil(rows / 1000 / rates[1]!);
  const time = rates ? ` (≈ ${n(seconds ?? 0)} s at ${limitsName(rates)} limits)` : '';
  return (
    `no ledger: this is a first run; ${n(rows)} rows will be sent${time}; ` +
    `if a ledger existed, restore it first: syncline ledger restore ${config} <backup-file>\n`
  );
}
