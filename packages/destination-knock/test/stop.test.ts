import type { Operation } from '@syncline/core';
import type { RunningEmulator } from '@syncline/knock-emulator';
import { describe, expect, test } from 'vitest';
import { add, destination, useEmulator, usersTarget } from './support.js';

// ApplyContext.stop (a first Ctrl-C, SIGTERM, --max-duration, a resume-later): requests that have not left
// are not sent and come back as `notSent`; requests already sent finish. Slow tiers make the waits visible
// (odd rates, so these buckets are not shared with other tests of the process).
let emulator: RunningEmulator;
useEmulator((e) => (emulator = e));
const target = usersTarget();
const writes = () => emulator.control.requests().filter((e) => e.method !== 'GET');

async function applyAllThenStop(ops: Operation[], knock: ReturnType<typeof destination>, stopWhen: () => boolean) {
  const stop = new AbortController();
  const poll = setInterval(() => stopWhen() && stop.abort(), 5);
  try {
    return await Promise.all(ops.map((op) => knock.apply(op, { target, stop: stop.signal })));
  } finally {
    clearInterval(poll);
  }
}

describe('a stopping run', () => {
  test('single calls waiting for a rate-limit slot are not sent; the one sent is confirmed', async () => {
    await using knock = destination(emulator, { tiers: { 1: 3, 2: 7, 3: 3, 4: 7, 5: 7 }, bulk: { singleOnlySeconds: 10 } });
    const changes = Array.from({ length: 12 }, (_, i) => add(`s${i}`));
    const ops = knock.plan(changes, { target, totals: { add: 12, change: 0, remove: 0 } }).operations;
    expect(ops.every((o) => o.endpoint === 'PUT /v1/users/{user_id}')).toBe(true);
    const t0 = performance.now();
    const outcomes = await applyAllThenStop(ops, knock, () => writes().length >= 1);
    // 12 calls at 3/s would take 4 s; the waiting ones return at once.
    expect(performance.now() - t0).toBeLessThan(2500);
    const sent = writes().length;
    expect(sent).toBeGreaterThanOrEqual(1);
    expect(sent).toBeLessThanOrEqual(4);
    expect(outcomes.flatMap((o) => o.ok)).toHaveLength(sent);
    expect(outcomes.flatMap((o) => o.failed)).toEqual([]);
    expect(outcomes.flatMap((o) => o.notSent ?? [])).toHaveLength(12 - sent);
  });

  test('bulk jobs queued behind the first POST are not sent; the posted job is confirmed', async () => {
    await using knock = destination(emulator, {
      tiers: { 1: 1, 2: 7, 3: 3, 4: 7, 5: 7 },
      bulk: { singleOnlySeconds: 0, pollIntervalMs: 20 },
    });
    const changes = Array.from({ length: 3000 }, (_, i) => add(`b${i}`));
    const totals = { add: 3000, change: 0, remove: 0 };
    const ops = [0, 1000, 2000].flatMap((i) => knock.plan(changes.slice(i, i + 1000), { target, totals }).operations);
    expect(ops.map((o) => o.endpoint)).toEqual(Array(3).fill('POST /v1/users/bulk/identify'));
    const outcomes = await applyAllThenStop(ops, knock, () => writes().length >= 1);
    expect(writes()).toHaveLength(1);
    expect(outcomes.flatMap((o) => o.ok)).toHaveLength(1000);
    expect(outcomes.flatMap((o) => o.failed)).toEqual([]);
    expect(outcomes.flatMap((o) => o.notSent ?? [])).toHaveLength(2000);
  });
});
