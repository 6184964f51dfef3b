/** Requests per second of Knock's rate tiers 1..5 (https://docs.knock.app/api-reference/overview/rate-limits). */
export const TIER_RPS: Readonly<Record<number, number>> = Object.freeze({ 1: 1, 2: 5, 3: 60, 4: 200, 5: 1000 });

interface Bucket {
  tokens: number;
  last: number;
}

/**
 * Token buckets per (environment, endpoint), refilled at the endpoint's tier rate with one second of
 * burst. Knock scopes limits per endpoint and per environment (reference §1.6); its algorithm is not
 * documented, so "at most burst + rate·T requests in any window T" is the guarantee.
 * @example limiter.take('env1', 'POST /v1/users/bulk/identify', 1) // 0 = admitted, else ms to wait
 */
export class TierLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /** Admits a request (returns 0) or returns how many ms until a token is available. */
  take(envId: string, endpoint: string, tier: number, now = performance.now()): number {
    const rate = TIER_RPS[tier] ?? 1;
    const key = `${envId} ${endpoint}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: rate, last: now };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.last) / 1000) * rate);
    bucket.last = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / rate) * 1000);
  }

  /** Forgets all buckets. */
  clear(): void {
    this.buckets.clear();
  }
}
