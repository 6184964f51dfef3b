import fc from 'fast-check';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { createRateLimiter, sharedRateLimiter } from '../src/index.js';

afterEach(() => {
  vi.useRealTimers();
});

/** Starts `n` takes at once on a fake clock and returns the admission times. */
async function admissions(limiter: ReturnType<typeof createRateLimiter>, n: number, runMs: number): Promise<number[]> {
  const times: number[] = [];
  const all = Promise.all(Array.from({ length: n }, () => limiter.take().then(() => times.push(Date.now()))));
  await vi.advanceTimersByTimeAsync(runMs);
  await all;
  return times;
}

describe('createRateLimiter', () => {
  test('property: never admits more than burst + rate·T in any window T', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 80 }),
        fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
        async (rate, burstOpt) => {
          vi.useFakeTimers({ now: 0 });
          const limiter = createRateLimiter({ perSecond: rate, burst: burstOpt, now: () => Date.now() });
          const burst = Math.max(1, burstOpt ?? rate);
          const n = burst + rate * 2 + 1;
          const times = await admissions(limiter, n, 4000);
          expect(times).toHaveLength(n);
          for (const windowMs of [100, 1000, 2000]) {
            for (const start of times) {
              const inWindow = times.filter((t) => t >= start && t < start + windowMs).length;
              expect(inWindow).toBeLessThanOrEqual(burst + (rate * windowMs) / 1000 + 1e-9);
            }
          }
          // ...and it is not needlessly slow: everything is admitted within the ideal time plus a tick per request.
          expect(Math.max(...times)).toBeLessThanOrEqual(Math.ceil(((n - burst) / rate) * 1000) + n);
          vi.useRealTimers();
        },
      ),
      { numRuns: 60 },
    );
  });

  test('admits the burst at once, then one request per 1/rate', async () => {
    vi.useFakeTimers({ now: 0 });
    const times = await admissions(createRateLimiter({ perSecond: 1, now: () => Date.now() }), 3, 3000);
    expect(times).toEqual([0, 1000, 2000]);
  });

  test('throttled(until) sends nothing before the server’s time, then resumes', async () => {
    vi.useFakeTimers({ now: 0 });
    const limiter = createRateLimiter({ perSecond: 100, now: () => Date.now() });
    limiter.throttled(1500);
    const times = await admissions(limiter, 3, 2000);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(1500);
  });

  test('blockedMs() tells a request that already holds a slot how long the endpoint is still closed', () => {
    let t = 1000;
    const limiter = createRateLimiter({ perSecond: 100, now: () => t });
    expect(limiter.blockedMs()).toBe(0);
    limiter.throttled(1400);
    expect(limiter.blockedMs()).toBe(400);
    t = 1500;
    expect(limiter.blockedMs()).toBe(0);
  });

  test('slows down on 429 and recovers towards the configured rate on success', () => {
    const limiter = createRateLimiter({ perSecond: 80 });
    limiter.throttled();
    expect(limiter.rate).toBe(40);
    limiter.throttled();
    limiter.throttled();
    limiter.throttled();
    expect(limiter.rate).toBe(10); // floor: an eighth of the configured rate
    for (let i = 0; i < 100; i++) limiter.succeeded();
    expect(limiter.rate).toBe(80);
  });

  test('an aborted take rejects and does not block the others', async () => {
    vi.useFakeTimers({ now: 0 });
    const limiter = createRateLimiter({ perSecond: 1, now: () => Date.now() });
    await limiter.take();
    const ac = new AbortController();
    const aborted = limiter.take(ac.signal);
    const next = limiter.take();
    ac.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    await vi.advanceTimersByTimeAsync(1000);
    await expect(next).resolves.toBeUndefined();
  });
});

describe('sharedRateLimiter', () => {
  test('returns one limiter per key for the whole process', () => {
    const a = sharedRateLimiter('test:env1:tier1', { perSecond: 1 });
    expect(sharedRateLimiter('test:env1:tier1', { perSecond: 1 })).toBe(a);
    expect(sharedRateLimiter('test:env2:tier1', { perSecond: 1 })).not.toBe(a);
  });
});
