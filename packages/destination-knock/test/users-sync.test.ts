import type { RunningEmulator } from '@syncline/knock-emulator';
import { describe, expect, test } from 'vitest';
import { add, change, destination, getUser, remove, sync, useEmulator, usersTarget } from './support.js';

let emulator: RunningEmulator;
useEmulator((e) => (emulator = e));

const many = (n: number, prefix = 'u') =>
  Array.from({ length: n }, (_, i) => add(`${prefix}${i}`, { name: `N${i}`, email: `u${i}@example.com` }));
const routes = () => emulator.control.requests().map((e) => e.route);

describe('users upsert', () => {
  test('upserts a few users with single identify calls and percent-encoded ids', async () => {
    await using knock = destination(emulator);
    const r = await sync(knock, usersTarget(), [
      add('u1', { name: 'Ann', email: 'ann@example.com', plan: 'pro' }),
      add('ü 2', { name: 'Bo' }),
    ]);
    expect(r.failed).toEqual([]);
    expect(r.ok.sort()).toEqual(['u1', 'ü 2']);
    expect(routes()).toEqual(['PUT /v1/users/{user_id}', 'PUT /v1/users/{user_id}']);
    expect(emulator.control.requests().map((e) => e.path)).toContain('/v1/users/%C3%BC%202');
    expect(await getUser(emulator, 'u1')).toMatchObject({ id: 'u1', name: 'Ann', email: 'ann@example.com', plan: 'pro' });
    expect(await getUser(emulator, 'ü 2')).toMatchObject({ id: 'ü 2', name: 'Bo' });
  });

  test('upserts a large run through bulk identify jobs and single calls together', async () => {
    await using knock = destination(emulator);
    const r = await sync(knock, usersTarget(), many(2500));
    expect(r.failed).toEqual([]);
    expect(r.ok).toHaveLength(2500);
    const count = (route: string) => routes().filter((x) => x === route).length;
    // chooseSplit at the test tiers (bulk 20/s, singles capped at 1,000/s, a job done 1.5 s after its POST):
    // 3 jobs finish at 1.6 s, 2 jobs + 500 singles at 1.55 s, 1 job + 1,500 singles at 1.5 s, 2,500 singles
    // at 2.5 s. So 1,500 singles (600 + 600 + 300 of the three chunks) and 1,000 rows in bulk jobs.
    expect(count('PUT /v1/users/{user_id}')).toBe(1500);
    const bulkRows = emulator.control
      .requests()
      .filter((e) => e.route === 'POST /v1/users/bulk/identify')
      .map((e) => (e.body as { users: unknown[] }).users.length);
    expect(bulkRows.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(bulkRows.length).toBeGreaterThanOrEqual(1);
    expect(bulkRows.length).toBeLessThanOrEqual(3);
    expect(count('GET /v1/bulk_operations/{id}')).toBeGreaterThanOrEqual(bulkRows.length);
    expect(await getUser(emulator, 'u2499')).toMatchObject({ name: 'N2499', email: 'u2499@example.com' });
  });

  test('merges bulk operations applied together into full 1,000-row jobs', async () => {
    await using knock = destination(emulator);
    const target = usersTarget();
    const totals = { add: 3000, change: 0, remove: 0 };
    const rows = many(3000);
    const ops = [0, 1000, 2000]
      .flatMap((i) => knock.plan(rows.slice(i, i + 1000), { target, totals }).operations)
      .filter((o) => o.endpoint.includes('bulk'));
    // chooseSplit over 3,000 rows: 2 jobs + 1,000 singles (1.55 s) beat 3 jobs (1.6 s), so each chunk
    // sends 333 singles and a bulk operation of 667 rows.
    expect(ops.map((o) => o.changes.length)).toEqual([667, 667, 667]);
    const outcomes = await Promise.all(ops.map((op) => knock.apply(op, { target })));
    expect(outcomes.flatMap((o) => o.ok)).toHaveLength(3 * 667);
    const sizes = emulator.control
      .requests()
      .filter((e) => e.route === 'POST /v1/users/bulk/identify')
      .map((e) => (e.body as { users: unknown[] }).users.length);
    expect(sizes).toEqual([1000, 1000, 1]);
  });

  test('reports a key Knock rejects as failed with its reason, and the rest as ok', async () => {
    await using knock = destination(emulator);
    const r = await sync(knock, usersTarget(), [add('good'), add('bad/id')]);
    expect(r.ok).toEqual(['good']);
    expect(r.failed).toEqual([expect.objectContaining({ key: 'bad/id', status: 422, code: 'invalid_params' })]);
  });

  test.each([
    ['skip', 'Ann'],
    ['send', null],
  ] as const)('with nulls %s a null column leaves the name as %j', async (nulls, name) => {
    await using knock = destination(emulator);
    await sync(knock, usersTarget(), [add('u1', { name: 'Ann', email: 'a@example.com' })]);
    const r = await sync(knock, usersTarget({ nulls }), [change('u1', { name: null, email: 'b@example.com' })]);
    expect(r.ok).toEqual(['u1']);
    expect(await getUser(emulator, 'u1')).toMatchObject({ name, email: 'b@example.com' });
  });

  test.each([
    ['single', 3],
    ['bulk', 1500],
  ] as const)('with nulls skip and send in %s mode the request bodies differ only in nulls', async (_mode, n) => {
    await using knock = destination(emulator);
    const rows = Array.from({ length: n }, (_, i) => change(`n${i}`, { name: null, locale: 'en' }));
    await sync(knock, usersTarget({ nulls: 'send' }), rows);
    const sent = emulator.control
      .requests()
      .filter((e) => e.method !== 'GET')
      .map((e) => JSON.stringify(e.body));
    expect(sent.every((b) => b.includes('"name":null'))).toBe(true);
    emulator.control.clearRequests();
    await sync(knock, usersTarget({ nulls: 'skip' }), rows);
    const skipped = emulator.control
      .requests()
      .filter((e) => e.method !== 'GET')
      .map((e) => JSON.stringify(e.body));
    expect(skipped.some((b) => b.includes('name'))).toBe(false);
  });
});

describe('users on removal', () => {
  test('onDelete nothing skips removals without a request', async () => {
    await using knock = destination(emulator);
    const r = await sync(knock, usersTarget(), [remove('u1')]);
    expect(r.skipped).toEqual(['u1']);
    expect(emulator.control.requests()).toEqual([]);
  });

  test('onDelete delete removes a few users with DELETE and treats a missing one as gone', async () => {
    await using knock = destination(emulator);
    await sync(knock, usersTarget(), [add('u1'), add('u2')]);
    emulator.control.clearRequests();
    const r = await sync(knock, usersTarget({ onDelete: 'delete' }), [remove('u1'), remove('never-existed')]);
    expect(r.ok.sort()).toEqual(['never-existed', 'u1']);
    expect(routes()).toEqual(['DELETE /v1/users/{user_id}', 'DELETE /v1/users/{user_id}']);
    expect(await getUser(emulator, 'u1')).toBeUndefined();
    expect(await getUser(emulator, 'u2')).toBeDefined();
  });

  test('onDelete delete removes many users with bulk delete', async () => {
    await using knock = destination(emulator);
    await sync(knock, usersTarget(), many(300));
    emulator.control.clearRequests();
    const r = await sync(
      knock,
      usersTarget({ onDelete: 'delete' }),
      many(300).map((c) => remove(c.key)),
    );
    expect(r.ok).toHaveLength(300);
    expect(routes()).toContain('POST /v1/users/bulk/delete');
    expect(await getUser(emulator, 'u123')).toBeUndefined();
  });
});
