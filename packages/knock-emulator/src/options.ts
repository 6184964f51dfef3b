/**
 * Emulator options. Every point the Knock reference marks UNCONFIRMED is a switch here, with the default
 * we believe most likely; destination tests should pass under every setting
 * (shared/reference/knock-api.md, "Emulator notes").
 */

/**
 * How a 429 tells the client when to come back. Knock's real headers are UNCONFIRMED (§1.6):
 * `retry-after` in seconds, `retry-after-date` as an HTTP date (RFC 9110 §10.2.3), `retry-after-ms`.
 */
export type RateLimitHeaderMode = 'none' | 'retry-after' | 'retry-after-date' | 'retry-after-ms';

/** Every {@link RateLimitHeaderMode}. */
export const RATE_LIMIT_HEADER_MODES: readonly RateLimitHeaderMode[] = ['none', 'retry-after', 'retry-after-date', 'retry-after-ms'];

/** Switches for behaviours the Knock reference marks UNCONFIRMED. */
export interface KnockSwitches {
  /** Status for a `pk_` (publishable) key on /v1 server endpoints (§1.2). Default 403. */
  publishableKeyStatus: 401 | 403;
  /** Body fields of a 401 (§1.2, exact code/message/type UNCONFIRMED). */
  unauthorized: { code: string; message: string; type: string };
  /** Reject ids longer than 256 chars or containing `/` or `#` with 422 (§2, server check UNCONFIRMED). Default true. */
  validateIds: boolean;
  /** `page_size` outside 1–50: `reject` with 422, or `clamp` (§6). Default `reject`. */
  pageSizeOutOfRange: 'reject' | 'clamp';
  /** Add `total_count` to `page_info` (§6, documented by [OVR] but not in [SPEC]). Default false. */
  totalCount: boolean;
  /** Status for deleting a user/object/tenant that does not exist (§2.4, §3.2). Default 204. */
  deleteMissingStatus: 204 | 404;
  /** A key set to `null` stays as `null` (`keep`) or disappears (`drop`) (§2.1). Default `keep`. */
  nullProperties: 'keep' | 'drop';
  /**
   * Per-item rule failures inside bulk requests (id rules, 256 kB properties): `async` reports them as
   * `error_items` of a completed job, `sync` rejects the whole request with 422 (§2.5). Missing ids and
   * batches over 1,000 are always rejected synchronously. Default `async`.
   */
  bulkItemValidation: 'async' | 'sync';
  /** Add members to an unknown audience without `create_audience=true`: 404 or create it (§4.1). Default `not_found`. */
  missingAudience: 'not_found' | 'create';
  /** Remove a member given without `tenant`: only the tenant-less membership, or all of the user's (§4.2). Default `tenantless`. */
  removeWithoutTenant: 'tenantless' | 'all';
  /** Audience member list: `ignore` pagination params and return every member, or `paginate` like users (§4.3). Default `ignore`. */
  audienceListPagination: 'ignore' | 'paginate';
  /** Audience add with only `{id}` creates the user (`always`) or only when other properties are sent (§4.1). Default `always`. */
  audienceCreatesUsers: 'always' | 'with-properties';
  /** A delete stays readable for this many ms, mimicking Knock's async delete (§2.4). Default 0. */
  deleteVisibilityMs: number;
  /** Reusing an Idempotency-Key with a different trigger body: 400 error or replay the original (§1.4). Default `error`. */
  idempotencyMismatch: 'error' | 'replay';
  /** `progress_path` of a BulkOperation: absolute URL (as [SPEC]'s example) or relative (legacy Go fixture) (§5). Default `absolute`. */
  progressPath: 'absolute' | 'relative';
  /** `code` of a 429 body (§1.6, UNCONFIRMED). Default `rate_limit_exceeded`. */
  rateLimitCode: string;
}

/** Options of {@link createEmulatorApp} and {@link startEmulator}. All optional. */
export interface EmulatorOptions {
  /** Port for {@link startEmulator}; `0` picks a free one. Default 3100. Always bound to 127.0.0.1. */
  port?: number;
  /** Directory for a JSON snapshot of all environments; a restart keeps its data. Default: in memory only. */
  dataDir?: string;
  /** Debounce of snapshot writes after a change, in ms. Default 250. */
  persistDebounceMs?: number;
  /** Enforce Knock's per-endpoint rate tiers (1/5/60/200/1000 rps per environment). Default true. */
  rateLimits?: boolean;
  /** Retry hint on 429s. Default `retry-after`. */
  rateLimitHeaders?: RateLimitHeaderMode;
  /**
   * Send `x-should-retry` on every error response (Knock's SDK checks it first, §1.5–1.6): `true` for
   * 408/409/429/5xx, `false` for other statuses. A fault rule's `shouldRetry` wins. Default false.
   */
  shouldRetryHeader?: boolean;
  /** Time a bulk operation spends queued+processing before it applies, in ms. Default 150. */
  bulkDelayMs?: number;
  /** Only these API keys are valid (others get 401). Default: any `sk_` key, one environment each. */
  apiKeys?: string[];
  /** Request log capacity (oldest entries drop first). Default 10,000. */
  requestLogLimit?: number;
  /** Keep each request's parsed JSON body in the request log. Default false. */
  logBodies?: boolean;
  /** Switches for UNCONFIRMED behaviours. */
  switches?: Partial<KnockSwitches>;
}

/** Options with defaults applied. */
export interface ResolvedOptions {
  port: number;
  dataDir: string | undefined;
  persistDebounceMs: number;
  rateLimits: boolean;
  rateLimitHeaders: RateLimitHeaderMode;
  shouldRetryHeader: boolean;
  bulkDelayMs: number;
  apiKeys: Set<string> | undefined;
  requestLogLimit: number;
  logBodies: boolean;
  switches: KnockSwitches;
}

/** The default switch settings (see {@link KnockSwitches}). */
export const defaultSwitches: Readonly<KnockSwitches> = Object.freeze({
  publishableKeyStatus: 403,
  unauthorized: {
    code: 'api_key_missing',
    message: 'The API key is missing or invalid.',
    type: 'authentication_error',
  },
  validateIds: true,
  pageSizeOutOfRange: 'reject',
  totalCount: false,
  deleteMissingStatus: 204,
  nullProperties: 'keep',
  bulkItemValidation: 'async',
  missingAudience: 'not_found',
  removeWithoutTenant: 'tenantless',
  audienceListPagination: 'ignore',
  audienceCreatesUsers: 'always',
  deleteVisibilityMs: 0,
  idempotencyMismatch: 'error',
  progressPath: 'absolute',
  rateLimitCode: 'rate_limit_exceeded',
} satisfies KnockSwitches);

/**
 * Applies defaults and checks ranges.
 * @example resolveOptions({ port: 0, rateLimits: false })
 */
export function resolveOptions(options: EmulatorOptions = {}): ResolvedOptions {
  const port = options.port ?? 3100;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`[knock-emulator] option "port": must be an integer 0..65535`);
  }
  const bulkDelayMs = options.bulkDelayMs ?? 150;
  if (!(bulkDelayMs >= 0)) throw new RangeError(`[knock-emulator] option "bulkDelayMs": must be >= 0`);
  const headers = options.rateLimitHeaders ?? 'retry-after';
  if (!RATE_LIMIT_HEADER_MODES.includes(headers)) {
    throw new RangeError(`[knock-emulator] option "rateLimitHeaders": ${RATE_LIMIT_HEADER_MODES.join(' | ')}`);
  }
  return {
    port,
    dataDir: options.dataDir,
    persistDebounceMs: options.persistDebounceMs ?? 250,
    rateLimits: options.rateLimits ?? true,
    rateLimitHeaders: headers,
    shouldRetryHeader: options.shouldRetryHeader ?? false,
    bulkDelayMs,
    apiKeys: options.apiKeys ? new Set(options.apiKeys) : undefined,
    requestLogLimit: options.requestLogLimit ?? 10_000,
    logBodies: options.logBodies ?? false,
    switches: { ...defaultSwitches, ...options.switches },
  };
}
