/**
 * Token-bucket rate limiter, adaptive on 429. One bucket per (scope, tier) is shared by every sync in the
 * process via `sharedRateLimiter`, because Knock's limits are per environment, not per sync.
 * Tiers: https://docs.knock.app/api-reference/overview/rate-limits
 */
export interface RateLimiter {
  /** Waits until a request may be sent. */
  take(signal?: AbortSignal): Promise<void>;
  /**
   * A 429 arrived. With `untilMs` (epoch ms, from Retry-After) nothing is sent before it and the rate is
   * kept: the server said exactly when. Without it the rate halves (down to an eighth), recovering on success.
   */
  throttled(untilMs?: number): void;
  /**
   * Ms until the endpoint may be called again after a 429 (0 when it may). Checked right before a request
   * leaves: a slot taken before the 429 arrived does not entitle a request to go out inside the wait.
   */
  blockedMs(): number;
  /** A request succeeded: recover towards the configured rate. */
  succeeded(): void;
  readonly rate: number;
}

export interface RateLimiterOptions {
  /** Requests per second. */
  perSecond: number;
  /** Bucket size; defaults to `perSecond` (one second of burst), at least 1. */
  burst?: number;
  /** Injectable clock for tests. */
  now?: () => number;
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const now = options.now ?? (() => performance.timeOrigin + performance.now());
  const max = options.perSecond;
  const burst = Math.max(1, options.burst ?? Math.floor(max));
  let rate = max;
  let tokens = burst;
  let last = now();
  let blockedUntil = 0;
  let chain: Promise<void> = Promise.resolve();

  const refill = (): void => {
    const t = now();
    tokens = Math.min(burst, tokens + ((t - last) / 1000) * rate);
    last = t;
  };

  const takeOne = async (signal?: AbortSignal): Promise<void> => {
    for (;;) {
      signal?.throwIfAborted();
      refill();
      const t = now();
      if (t < blockedUntil) {
        await sleep(blockedUntil - t, signal);
        continue;
      }
      if (tokens >= 1) {
        tokens -= 1;
        return;
      }
      await sleep(Math.ceil(((1 - tokens) / rate) * 1000), signal);
    }
  };

  return {
    get rate() {
      return rate;
    },
    take(signal) {
      // Serialise waiters so they are served in order (fairness) and never overdraw the bucket.
      const p = chain.then(() => takeOne(signal));
      chain = p.catch(() => undefined);
      return p;
    },
    throttled(untilMs) {
      tokens = Math.min(tokens, 0);
      if (untilMs !== undefined) blockedUntil = Math.max(blockedUntil, untilMs);
      else rate = Math.max(max / 8, rate / 2);
    },
    blockedMs() {
      return Math.max(0, blockedUntil - now());
    },
    succeeded() {
      if (rate < max) rate = Math.min(max, rate + max / 20);
    },
  };
}

const shared = new Map<string, RateLimiter>();

/** The process-wide limiter for `key` (e.g. `knock:<env hash>:tier1`), created on first use. */
export function sharedRateLimiter(key: string, options: RateLimiterOptions): RateLimiter {
  let l = shared.get(key);
  if (!l) shared.set(key, (l = createRateLimiter(options)));
  return l;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
