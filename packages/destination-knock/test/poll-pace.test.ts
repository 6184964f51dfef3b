import type { RunningEmulator } from '@syncline/knock-emulator';
import { describe, expect, test } from 'vitest';
import { createPollPace } from '../src/poll-pace.js';
import { add, destination, sync, useEmulator, usersTarget } from './support.js';

const route = 'POST /v1/users/bulk/identify';

describe('poll pace', () => {
  test('polls after pollIntervalMs until a job of the endpoint was seen done', () => {
    const pace = createPollPace({ pollIntervalMs: 50, pollTimeoutMs: 10_000 });
    expect(pace.first(route)).toBe(50);
    pace.done('POST /v1/objects/{collection}/bulk/set', 400, true);
    expect(pace.first(route)).toBe(50);
  });

  test('first poll at the median of recent jobs: one stalled job does not delay the next ones', () => {
    const pace = createPollPace({ pollIntervalMs: 50, pollTimeoutMs: 600_000 });
    for (let i = 0; i < 5; i++) pace.done(route, 150, true);
    expect(pace.first(route)).toBe(150);
    pace.done(route, 30_000, true);
    expect(pace.first(route)).toBe(150);
  });

  test('a job done at its first poll moves the first poll earlier; never before pollIntervalMs', () => {
    const pace = createPollPace({ pollIntervalMs: 50, pollTimeoutMs: 600_000 });
    pace.done(route, 200, true);
    for (let i = 0; i < 100; i++) pace.done(route, pace.first(route), false);
    expect(pace.first(route)).toBe(50);
  });

  test('never later than half of pollTimeoutMs', () => {
    const pace = createPollPace({ pollIntervalMs: 50, pollTimeoutMs: 1_000 });
    pace.done(route, 5_000, true);
    expect(pace.first(route)).toBe(500);
  });
});

describe('bulk jobs polled at the pace of earlier jobs', () => {
  let emulator: RunningEmulator;
  useEmulator((e) => (emulator = e), { bulkDelayMs: 150 });
  const polls = () => emulator.control.requests().filter((e) => e.route === 'GET /v1/bulk_operations/{id}').length;
  const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => add(`p${from + i}`, { name: `N${i}` }));

  test('after the first job, later jobs of the same destination need about one poll each', async () => {
    await using knock = destination(emulator, { bulk: { pollIntervalMs: 20, maxPollIntervalMs: 50, singleOnlySeconds: 0 } });
    emulator.control.clearRequests();
    await sync(knock, usersTarget(), rows(0, 500));
    const firstJob = polls();
    expect(firstJob).toBeGreaterThanOrEqual(3); // 20, 30, 45, 50… ms until the 150 ms job is done
    emulator.control.clearRequests();
    for (let i = 1; i <= 4; i++) {
      const r = await sync(knock, usersTarget(), rows(i * 1000, 500));
      expect(r.failed).toEqual([]);
      expect(r.ok).toHaveLength(500);
    }
    expect(polls()).toBeLessThanOrEqual(4 * 2);
  });
});
