import { sleep } from '@syncline/core';

/**
 * A circuit breaker for server failures (5xx, timeouts, connection errors): after `failureThreshold`
 * consecutive failures it opens, and requests wait (they are not failed) until a cool-down has passed;
 * then exactly one probe goes out. A good probe closes it, a bad one reopens it with a doubled cool-down
 * (Amazon Builders' Library, "Timeouts, retries and backoff with jitter"; reliability.md §2.4).
 */
/** A request waited `maxWaitMs` for an open breaker and gave up. */
export class BreakerOpenError extends Error {
  constructor(readonly waitedMs: number) {
    super(`circuit breaker open for ${Math.round(waitedMs)} ms`);
    this.name = 'BreakerOpenError';
  }
}

export interface CircuitBreaker {
  /** Waits until a request may go out; resolves `true` when this request is the half-open probe. */
  acquire(signal?: AbortSignal): Promise<boolean>;
  /** The server answered (anything but a failure). */
  success(probe: boolean): void;
  /** A 5xx, a timeout or a connection error. */
  failure(probe: boolean): void;
  /** The request was not sent after all (the run stopped): if it was the probe, the next request is. */
  release(probe: boolean): void;
  readonly state: 'closed' | 'open' | 'half-open';
  /** How many times it opened. */
  readonly opened: number;
}

export interface CircuitBreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  maxCooldownMs: number;
  /**
   * How long an outage is waited out: a request gives up with `BreakerOpenError` once the breaker has been
   * open this long since it first opened (not since the request began to wait), so a short storm is ridden
   * out and a persistent one ends the run's calls at once instead of each call waiting in turn. Probes still
   * go out once per cool-down, so calls resume if Knock recovers.
   */
  maxWaitMs?: number;
  now?: () => number;
}

/**
 * @example const breaker = createCircuitBreaker({ failureThreshold: 5, cooldownMs: 2000, maxCooldownMs: 30000 });
 * const probe = await breaker.acquire(signal); // then breaker.success(probe) or breaker.failure(probe)
 */
export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  const now = options.now ?? (() => performance.now());
  let state: 'closed' | 'open' | 'half-open' = 'closed';
  let consecutive = 0;
  let cooldown = options.cooldownMs;
  let openUntil = 0;
  let opened = 0;
  /** When the current outage began: the breaker left `closed`. */
  let outageStart = 0;

  const open = (): void => {
    if (state === 'closed') outageStart = now();
    state = 'open';
    openUntil = now() + cooldown;
    opened += 1;
  };

  return {
    get state() {
      return state;
    },
    get opened() {
      return opened;
    },
    async acquire(signal) {
      const started = now();
      const limit = options.maxWaitMs ?? Infinity;
      for (;;) {
        signal?.throwIfAborted();
        if (state === 'closed') return false;
        const t = now();
        if (state === 'open' && t >= openUntil) {
          state = 'half-open';
          return true;
        }
        const deadline = Math.min(started, outageStart) + limit;
        if (t >= deadline) throw new BreakerOpenError(t - Math.min(started, outageStart));
        if (state === 'open') {
          await sleep(Math.max(1, Math.min(Math.ceil(openUntil - t), Math.ceil(deadline - t))), signal);
          continue;
        }
        // Half-open: one probe is out; everyone else waits for its verdict.
        await sleep(20, signal);
      }
    },
    success(probe) {
      consecutive = 0;
      if (probe || state === 'closed') {
        state = 'closed';
        cooldown = options.cooldownMs;
      }
    },
    release(probe) {
      if (probe && state === 'half-open') {
        state = 'open';
        openUntil = now();
      }
    },
    failure(probe) {
      consecutive += 1;
      if (probe && state === 'half-open') {
        cooldown = Math.min(options.maxCooldownMs, cooldown * 2);
        open();
      } else if (state === 'closed' && consecutive >= options.failureThreshold) {
        open();
      }
    },
  };
}
