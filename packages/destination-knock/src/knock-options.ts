import { createRequire } from 'node:module';
import { SyncError } from '@syncline/core';
import type { Dispatcher } from 'undici';
import { z } from 'zod';

const version: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

const positive = z.number().positive();

/** Knock's documented requests per second of rate tiers 1 to 5 (https://docs.knock.app/api-reference/overview/rate-limits). */
export const KNOCK_TIERS: Readonly<Record<1 | 2 | 3 | 4 | 5, number>> = Object.freeze({ 1: 1, 2: 5, 3: 60, 4: 200, 5: 1_000 });

/**
 * Requests per second per Knock rate tier (https://docs.knock.app/api-reference/overview/rate-limits):
 * Knock's defaults, raised per tier for accounts with higher limits, or `off` for no pacing at all (a
 * local emulator run with `--no-rate-limits`, benchmarks). Also the `tiers:` of a sync.yaml destination.
 */
export const knockTiersSchema = z
  .union([
    z.literal('off'),
    z.strictObject({
      1: positive.default(KNOCK_TIERS[1]),
      2: positive.default(KNOCK_TIERS[2]),
      3: positive.default(KNOCK_TIERS[3]),
      4: positive.default(KNOCK_TIERS[4]),
      5: positive.default(KNOCK_TIERS[5]),
    }),
  ])
  .prefault({});

/** `tiers: off`: every tier this fast, so the rate limiters never wait (a finite rate keeps their arithmetic finite). */
export const UNPACED_RATE = 1_000_000;

/** The share of each tier's rate the limiter uses by default (`rateSafety`). */
export const DEFAULT_RATE_SAFETY = 0.97;

/** Options of `knockDestination`, validated with zod when the factory runs. */
export const knockOptionsSchema = z.object({
  /** Secret API key (`sk_…`) of the Knock environment. */
  apiKey: z.string({ error: 'required' }).min(1, 'required'),
  baseUrl: z.url().default('https://api.knock.app'),
  /** Knock service token (`knock_st_…`), only sent to the Management API to create static audiences. */
  serviceToken: z.string().min(1).optional(),
  managementBaseUrl: z.url().default('https://control.knock.app'),
  /** Management API environment slug in which audiences are created. */
  environment: z.string().min(1).default('development'),
  dispatcher: z
    .custom<Dispatcher>(
      (v) => typeof v === 'object' && v !== null && typeof (v as Dispatcher).request === 'function',
      'must be an undici Dispatcher',
    )
    .optional(),
  timeouts: z
    .object({
      connectMs: positive.default(5_000),
      headersMs: positive.default(30_000),
      bodyMs: positive.default(30_000),
      attemptMs: positive.default(60_000),
    })
    .prefault({}),
  maxBodyLogBytes: z
    .number()
    .int()
    .nonnegative()
    .default(8 * 1024),
  userAgent: z.string().min(1).default(`syncline-destination-knock/${version}`),
  /** Pool connections per origin. */
  connections: z.number().int().positive().default(32),
  retry: z
    .object({
      /** Attempts per request, the first included. */
      maxAttempts: z.number().int().min(1).default(6),
      baseMs: positive.default(500),
      capMs: positive.default(30_000),
      /** A longer `Retry-After` ends the attempt: rows fail with `rate_limited` and `retryAfterMs` is reported. */
      maxRetryAfterMs: positive.default(300_000),
      /** Retries of 5xx/connection errors allowed: `budgetMin` plus this share of first attempts. */
      budgetRatio: z.number().min(0).default(0.2),
      budgetMin: z.number().int().min(0).default(20),
    })
    .prefault({}),
  breaker: z
    .object({
      failureThreshold: z.number().int().min(1).default(5),
      cooldownMs: positive.default(2_000),
      maxCooldownMs: positive.default(30_000),
      maxWaitMs: positive.default(60_000),
    })
    .prefault({}),
  /** Requests per second per Knock rate tier, or `off` (see `knockTiersSchema`). */
  tiers: knockTiersSchema,
  /**
   * Share of each tier's rate actually used, so network jitter never pushes two sends into one server second.
   * Not applied below 2 requests/s, where each request waits a full interval after the previous answer.
   */
  rateSafety: z.number().gt(0).max(1).default(DEFAULT_RATE_SAFETY),
  bulk: z
    .object({
      pollIntervalMs: positive.default(250),
      maxPollIntervalMs: positive.default(2_000),
      pollTimeoutMs: positive.default(600_000),
      /**
       * Seconds a bulk job takes to be processed after its POST, as the planner estimates it (`chooseSplit`):
       * rows go as single calls only when that makes the run finish sooner (60/s identify: up to 90 rows).
       */
      singleOnlySeconds: z.number().min(0).default(1.5),
      /** Merge bulk operations applied at the same time into full 1,000-item jobs. */
      coalesce: z.boolean().default(true),
    })
    .prefault({}),
});

export type KnockOptions = z.input<typeof knockOptionsSchema>;
/** Tiers resolved to rates (`off` → `UNPACED_RATE` for every tier). */
export type ResolvedKnockOptions = Omit<z.output<typeof knockOptionsSchema>, 'tiers'> & { tiers: Record<1 | 2 | 3 | 4 | 5, number> };

/**
 * Validates options; a failure throws `SyncError('invalid_option', '[knock] option "apiKey": required')`.
 * @example parseKnockOptions({ apiKey: process.env.KNOCK_API_KEY })
 */
export function parseKnockOptions(options: KnockOptions): ResolvedKnockOptions {
  const r = knockOptionsSchema.safeParse(options ?? {});
  if (r.success) {
    const t = r.data.tiers;
    const tiers = t === 'off' ? { 1: UNPACED_RATE, 2: UNPACED_RATE, 3: UNPACED_RATE, 4: UNPACED_RATE, 5: UNPACED_RATE } : t;
    return { ...r.data, tiers };
  }
  const first = r.error.issues[0]!;
  const name = first.path.map(String).join('.') || 'options';
  const message = first.code === 'invalid_type' && first.input === undefined ? 'required' : first.message;
  throw new SyncError('invalid_option', `[knock] option "${name}": ${message}`, { adapter: 'knock' });
}
