import type { RunningEmulator } from '@syncline/knock-emulator';
import { describe, expect, test } from 'vitest';
import { limiterRate } from '../src/knock-http.js';
import { add, destination, sync, useEmulator, usersTarget } from './support.js';

// Bulk jobs (tier 1, 1 request/s) are spaced by their answers: each leaves a full second after the previous
// one was answered, so Knock counts them a second apart whether it counts at arrival or at the answer. That
// already is the jitter margin: the 3 % `rateSafety` is not taken on top (it made every job also wait
// ≥ 1,031 ms after the previous one left: 3 % of a first sync at Knock's ceiling, on a quiet machine).
test('limiterRate: rateSafety cuts the rate of endpoints of 2 requests/s and more, not of those spaced by their answers', () => {
  expect(limiterRate(1, 0.97)).toBe(1);
  expect(limiterRate(60, 0.97)).toBeCloseTo(58.2, 9);
  expect(limiterRate(5, 0.97)).toBeCloseTo(4.85, 9);
  // A raised tier 1 (a config's `tiers: { 1: 10 }`) is paced by the bucket again, with the margin.
  expect(limiterRate(10, 0.97)).toBeCloseTo(9.7, 9);
});

describe('bulk jobs at Knock tier 1, against the emulator with its limits on', () => {
  let emulator: RunningEmulator;
  useEmulator((e) => (emulator = e), { rateLimits: true, bulkDelayMs: 10 });

  test('no 429 without the margin: each job leaves at least a second after the one before', async () => {
    await using knock = destination(emulator, {
      tiers: { 1: 1, 2: 5, 3: 60, 4: 200, 5: 1000 },
      bulk: { pollIntervalMs: 20, maxPollIntervalMs: 50, singleOnlySeconds: 0 },
    });
    const r = await sync(
      knock,
      usersTarget(),
      Array.from({ length: 6 * 1000 }, (_, i) => add(`s${i}`)),
      { concurrency: 4 },
    );
    expect(r.failed).toEqual([]);
    const posts = r.exchanges.filter((x) => x.method === 'POST' && x.path.endsWith('/bulk/identify'));
    // The emulator counts each at its arrival, with Knock's 1 request/s and no burst: an early one is a 429.
    expect(posts.map((x) => x.status)).toEqual(Array(6).fill(200));
    const starts = posts.map((x) => Date.parse(x.startedAt));
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(1000);
  }, 60_000);
});
