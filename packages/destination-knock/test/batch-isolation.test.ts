import type { RunningEmulator } from '@syncline/knock-emulator';
import type { Operation } from '@syncline/core';
import { describe, expect, test } from 'vitest';
import { knockDestination, type KnockTarget } from '../src/index.js';
import { add, audience, destination, emulatorFor, fast, getUser, remove, sync, useEmulator, usersTarget } from './support.js';

let emulator: RunningEmulator;
useEmulator((e) => (emulator = e));

const BULK = 'POST /v1/users/bulk/identify';
const MEMBERS = 'POST /v1/audiences/{key}/members';
const count = (route: string) => emulator.control.requests().filter((e) => e.route === route).length;
/** The bound of reliability.md H-07: ⌈log2 n⌉ + 1 extra requests per bad row. */
const bound = (n: number, bad: number) => bad * (Math.ceil(Math.log2(n)) + 1);
const rows = (n: number, prefix = 'b') => Array.from({ length: n }, (_, i) => add(`${prefix}${i}`, { name: `N${i}` }));

/** The first bulk job of a plan of `n` rows (no single-only shortcut), applied alone. */
async function oneBulkJob(knock: ReturnType<typeof destination>, n: number): Promise<Operation> {
  const changes = rows(n);
  const plan = knock.plan(changes, { target: usersTarget(), totals: { add: n, change: 0, remove: 0 } });
  return plan.operations.find((op) => op.endpoint.includes('/bulk/'))!;
}

describe('a batch rejected as a whole is split to isolate its bad rows (H-07)', () => {
  test.each([
    [1, 400, 'bad_request'],
    [3, 422, 'invalid_params'],
  ] as const)(
    'a 1,000-row bulk identify with %i bad row(s) answering %i: bad rows fail with the reason, good rows land, ≤ log2(n)+1 extra requests each',
    async (badCount, status, code) => {
      await using knock = destination(emulator, { bulk: { pollIntervalMs: 20, maxPollIntervalMs: 50, singleOnlySeconds: 0 } });
      const op = await oneBulkJob(knock, 1100);
      const n = op.changes.length;
      expect(n).toBe(1000);
      const bad = [op.changes[137]!.key, op.changes[501]!.key, op.changes[998]!.key].slice(0, badCount);
      emulator.control.addFault({ match: BULK, ids: bad, status, count: null });
      const outcome = await knock.apply(op, { target: usersTarget() });

      expect(outcome.failed.map((f) => f.key).sort()).toEqual([...bad].sort());
      for (const f of outcome.failed) {
        expect(f).toMatchObject({ code, status });
        expect(f.message).toMatch(new RegExp(`HTTP ${status}`));
        expect(f.inDoubt).toBeUndefined();
      }
      expect(outcome.ok).toHaveLength(n - badCount);
      const extra = count(BULK) - 1;
      expect(extra).toBeGreaterThan(0);
      expect(extra).toBeLessThanOrEqual(bound(n, badCount));
      expect(outcome.requests).toBe(emulator.control.requests().length);
      // Good rows are in Knock (a sample around each bad row), bad rows are not.
      for (const i of [0, 136, 138, 500, 502, 997, 999])
        expect(await getUser(emulator, op.changes[i]!.key)).toMatchObject({ name: expect.any(String) });
      for (const key of bad) expect(await getUser(emulator, key)).toBeUndefined();
    },
  );

  test('2 % of audience members rejected (422) and one batch 400: every bad member isolated within the bound, the rest added', async () => {
    await using knock = destination(emulator);
    const members = Array.from({ length: 1000 }, (_, i) => add(`m${i}`, { email: `m${i}@example.com` }));
    const bad = members.filter((_, i) => i % 50 === 7).map((c) => c.key);
    expect(bad).toHaveLength(20);
    // The first bad member makes its batch a 400 (rules match in order); the others make theirs 422.
    emulator.control.addFault({ match: MEMBERS, ids: bad.slice(0, 1), status: 400, count: null });
    emulator.control.addFault({ match: MEMBERS, ids: bad.slice(1), status: 422, count: null });
    const r = await sync(knock, audience('add', { createAudience: true }), members);

    expect(r.failed.map((f) => f.key).sort()).toEqual([...bad].sort());
    expect(r.failed.find((f) => f.key === bad[0])).toMatchObject({ code: 'bad_request', status: 400 });
    for (const f of r.failed.filter((x) => x.key !== bad[0])) expect(f).toMatchObject({ code: 'invalid_params', status: 422 });
    expect(r.ok).toHaveLength(980);
    const calls = count(MEMBERS);
    expect(calls - 1).toBeLessThanOrEqual(bound(1000, 20));
    const entries = emulator.control.audienceEntries('vips').map((e) => e.user_id);
    expect(entries.sort()).toEqual(
      members
        .map((c) => c.key)
        .filter((k) => !bad.includes(k))
        .sort(),
    );
  });

  test('a bulk request failing with a 503 (not a rejection) is not split: its rows fail in doubt', async () => {
    await using knock = destination(emulator, {
      bulk: { pollIntervalMs: 20, maxPollIntervalMs: 50, singleOnlySeconds: 0 },
      retry: { maxAttempts: 2 },
    });
    const op = await oneBulkJob(knock, 1100);
    emulator.control.addFault({ match: BULK, status: 503, count: 2 });
    const outcome = await knock.apply(op, { target: usersTarget() });
    expect(count(BULK)).toBe(2);
    expect(outcome.ok).toEqual([]);
    expect(new Set(outcome.failed.map((f) => f.code))).toEqual(new Set(['http_503']));
    expect(outcome.failed.every((f) => f.inDoubt)).toBe(true);
  });
});

describe('Knock’s own validation (no injected fault)', () => {
  test('an id over 256 chars: a sync-validating bulk identify and an audience add are split, the row fails with the field reason', async () => {
    const strict = await emulatorFor({ switches: { bulkItemValidation: 'sync' } });
    try {
      await using knock = knockDestination(fast(strict, { bulk: { pollIntervalMs: 20, maxPollIntervalMs: 50, singleOnlySeconds: 0 } }));
      const long = 'x'.repeat(300);
      const changes = [...rows(400), add(long)];
      const users = await sync(knock, usersTarget(), changes);
      expect(users.failed).toEqual([expect.objectContaining({ key: long, code: 'invalid_params', status: 422 })]);
      expect(users.failed[0]!.message).toMatch(/users\[\d+\]\.id/);
      expect(users.ok).toHaveLength(400);
      const members = await sync(knock, audience('add', { createAudience: true }), changes);
      expect(members.failed).toEqual([expect.objectContaining({ key: long, code: 'invalid_params', status: 422 })]);
      expect(members.failed[0]!.message).toMatch(/members\[\d+\]\.user\.id/);
      expect(members.ok).toHaveLength(400);
      const calls = (route: string) => strict.control.requests().filter((e) => e.route === route).length;
      expect(calls(BULK) - 1).toBeLessThanOrEqual(bound(401, 1));
      expect(calls(MEMBERS) - 1).toBeLessThanOrEqual(bound(401, 1));
    } finally {
      await strict.close();
    }
  });
});

describe('every bulk endpoint splits a rejected job', () => {
  const objects: KnockTarget = { type: 'objects', mode: 'upsert', collection: 'teams', onDelete: 'delete', nulls: 'skip' };
  test.each([
    ['POST /v1/users/bulk/delete', usersTarget({ onDelete: 'delete' }), 'remove'],
    ['POST /v1/objects/{collection}/bulk/set', objects, 'add'],
    ['POST /v1/objects/{collection}/bulk/delete', objects, 'remove'],
  ] as const)('%s', async (route, target, action) => {
    await using knock = destination(emulator, { bulk: { pollIntervalMs: 20, maxPollIntervalMs: 50, singleOnlySeconds: 0 } });
    const changes = rows(600).map((c) => (action === 'remove' ? remove(c.key) : c));
    const plan = knock.plan(changes, {
      target,
      totals: { add: action === 'add' ? 600 : 0, change: 0, remove: action === 'remove' ? 600 : 0 },
    });
    const op = plan.operations.find((o) => o.endpoint.includes('/bulk/'))!;
    const bad = [op.changes[42]!.key, op.changes[400]!.key];
    emulator.control.addFault({ match: route, ids: bad, status: 422, count: null });
    const outcome = await knock.apply(op, { target });
    expect(outcome.failed.map((f) => f.key).sort()).toEqual([...bad].sort());
    expect(outcome.failed.every((f) => f.code === 'invalid_params' && f.status === 422)).toBe(true);
    expect(outcome.ok).toHaveLength(op.changes.length - 2);
    expect(count(route) - 1).toBeLessThanOrEqual(bound(op.changes.length, 2));
  });
});

describe('a rejected audience removal is split too', () => {
  test('removing 300 members of which 2 are rejected removes the other 298', async () => {
    await using knock = destination(emulator);
    const members = rows(300, 'r');
    await sync(knock, audience('add', { createAudience: true }), members);
    const bad = ['r10', 'r250'];
    emulator.control.addFault({ match: 'DELETE /v1/audiences/{key}/members', ids: bad, status: 422, count: null });
    const r = await sync(
      knock,
      audience('remove'),
      members.map((c) => ({ ...c, action: 'change' as const })),
    );
    expect(r.failed.map((f) => f.key).sort()).toEqual(bad);
    expect(r.ok).toHaveLength(298);
    expect(count('DELETE /v1/audiences/{key}/members') - 1).toBeLessThanOrEqual(bound(300, 2));
  });
});
