import type { z } from 'zod';
import { KNOCK_TIERS, type knockTiersSchema } from './knock-options.js';

/** A sync's `destination.tiers` as written: `off`, or per-tier overrides of Knock's defaults. */
export type KnockTiersInput = z.input<typeof knockTiersSchema>;

/** Requests per second of Knock's rate tiers 1 to 5. */
export type TierRates = Readonly<Record<1 | 2 | 3 | 4 | 5, number>>;

/**
 * Requests per second of each rate tier under a sync's `tiers`: Knock's defaults, with the config's raised
 * tiers on top; `undefined` for `tiers: off` (no pacing, so no time estimate).
 * @example tierRates({ 5: 2000 })?.[5] // 2000
 */
export function tierRates(tiers: KnockTiersInput | undefined): TierRates | undefined {
  return tiers === 'off' ? undefined : { ...KNOCK_TIERS, ...(tiers ?? {}) };
}

/**
 * Seconds the calls need at those rates. Endpoints are paced side by side, so it is the slowest endpoint's
 * calls ÷ its tier's rate; 0 without rates (`tiers: off`). Knock's own processing of bulk jobs is excluded.
 * @example sendSeconds([{ calls: 120, tier: 3 }], tierRates(undefined)) // 2
 */
export function sendSeconds(endpoints: readonly { calls: number; tier?: number | undefined }[], rates: TierRates | undefined): number {
  let s = 0;
  for (const e of endpoints) s = Math.max(s, endpointSeconds(e, rates));
  return s;
}

/** One endpoint's seconds at its tier's rate (0 when unpaced or the tier is unknown). */
export function endpointSeconds(e: { calls: number; tier?: number | undefined }, rates: TierRates | undefined): number {
  const perSecond = tierRate(e.tier, rates);
  return perSecond ? Math.ceil(e.calls / perSecond) : 0;
}

/** Requests per second of `tier` at those rates; `undefined` when unpaced or the tier is unknown. */
export function tierRate(tier: number | undefined, rates: TierRates | undefined): number | undefined {
  return tier && rates ? (rates as Record<number, number>)[tier] : undefined;
}

/** Whose limits these rates are, for messages: `Knock's` (the documented defaults) or `the configured` (raised in the config). */
export function limitsName(rates: TierRates): "Knock's" | 'the configured' {
  return (Object.keys(KNOCK_TIERS) as unknown as (keyof TierRates)[]).every((t) => rates[t] === KNOCK_TIERS[t])
    ? "Knock's"
    : 'the configured';
}
