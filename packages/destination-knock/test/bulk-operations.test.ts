import type { RunningEmulator } from '@syncline/knock-emulator';
import { beforeEach, describe, expect, test } from 'vitest';
import { add, destination, getUser, remove, sync, useEmulator, usersTarget } from './support.js';

let emulator: RunningEmulator;
useEmulator((e) => (emulator = e));
beforeEach(() => {
  emulator.control.setBulkFaults({});
});

// No single-only shortcut: 300 rows go mostly to one bulk job (about 6 % single calls).
const bulkOnly = (bulk: Record<string, number> = {}) => ({
  bulk: { pollIntervalMs: 20, maxPollIntervalMs: 50, singleOnlySeconds: 0, ...bulk },
});
const rows = (n = 300) => Array.from({ length: n }, (_, i) => add(`b${i}`, { name: `N${i}` }));
const count = (route: string) => emulator.control.requests().filter((e) => e.route === route).length;

describe('bulk operations', () => {
  test('polls a job that stays processing until it completes', async () => {
    emulator.control.setBulkFaults({ holdPolls: 4 });
    await using knock = destination(emulator, bulkOnly());
    const r = await sync(knock, usersTarget(), rows());
    expect(r.failed).toEqual([]);
    expect(r.ok).toHaveLength(300);
    expect(count('GET /v1/bulk_operations/{id}')).toBeGreaterThanOrEqual(5);
    const bulkOutcome = r.outcomes.find((o) => o.ok.length > 1)!;
    expect(bulkOutcome.requests).toBeGreaterThanOrEqual(6);
  });

  test('calls onSent when the bulk request was accepted, before the job completes', async () => {
    emulator.control.setBulkFaults({ stall: true });
    await using knock = destination(emulator, bulkOnly());
    const target = usersTarget();
    const changes = rows();
    const plan = knock.plan(changes, { target, totals: { add: changes.length, change: 0, remove: 0 } });
    const bulk = plan.operations.find((op) => op.endpoint.includes('/bulk/'))!;
    let sent = false;
    let done = false;
    const applied = knock.apply(bulk, { target, onSent: () => (sent = true) }).then((o) => ((done = true), o));
    const deadline = Date.now() + 5000;
    while (!sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(sent).toBe(true);
    expect(done).toBe(false);
    emulator.control.setBulkFaults({});
    emulator.control.flushBulk({ force: true });
    expect((await applied).ok).toHaveLength(bulk.changes.length);
  });

  test('retries error_items singly: a row that then succeeds is ok', async () => {
    emulator.control.setBulkFaults({ failItemIds: ['b7', 'b8'] });
    await using knock = destination(emulator, bulkOnly());
    const r = await sync(knock, usersTarget(), rows());
    expect(r.failed).toEqual([]);
    expect(r.ok).toHaveLength(300);
    const singles = emulator.control
      .requests()
      .filter((e) => e.route === 'PUT /v1/users/{user_id}')
      .map((e) => e.path);
    expect(singles).toEqual(expect.arrayContaining(['/v1/users/b7', '/v1/users/b8']));
    expect(await getUser(emulator, 'b7')).toMatchObject({ name: 'N7' });
  });

  test('retries error_items singly: a row Knock rejects again is failed with the single call’s reason', async () => {
    await using knock = destination(emulator, bulkOnly());
    const bad = add('x'.repeat(300), { name: 'too long' });
    const r = await sync(knock, usersTarget(), [...rows(), bad]);
    expect(r.ok).toHaveLength(300);
    expect(r.failed).toEqual([expect.objectContaining({ key: bad.key, status: 422, code: 'invalid_params' })]);
  });

  test('reports every row failed when the whole job fails', async () => {
    emulator.control.setBulkFaults({ failJobs: 1 });
    await using knock = destination(emulator, bulkOnly());
    const r = await sync(knock, usersTarget(), rows());
    // The single-call share is confirmed; every row of the failed job is reported failed.
    expect(r.ok).toHaveLength(count('PUT /v1/users/{user_id}'));
    expect(r.failed).toHaveLength(300 - r.ok.length);
    expect(r.failed.length).toBeGreaterThan(250);
    expect(new Set(r.failed.map((f) => f.code))).toEqual(new Set(['bulk_operation_failed']));
    expect(r.failed[0]!.message).toBe('[knock] bulk operation failed');
  });

  test('gives up on a job that never finishes at pollTimeoutMs', async () => {
    emulator.control.setBulkFaults({ stall: true });
    await using knock = destination(emulator, bulkOnly({ pollTimeoutMs: 300 }));
    const r = await sync(knock, usersTarget(), rows());
    const codes = new Set(r.failed.map((f) => f.code));
    expect(codes).toEqual(new Set(['bulk_timeout']));
    // The job may still complete at Knock: core must keep these rows in doubt.
    expect(r.failed.every((f) => f.inDoubt === true)).toBe(true);
    expect(r.failed.length).toBeGreaterThan(250);
    emulator.control.setBulkFaults({});
  });

  test('deletes many users with bulk delete and confirms after the job completes', async () => {
    await using knock = destination(emulator, bulkOnly());
    await sync(knock, usersTarget(), rows());
    emulator.control.setBulkFaults({ holdPolls: 2 });
    const r = await sync(
      knock,
      usersTarget({ onDelete: 'delete' }),
      rows().map((c) => remove(c.key)),
    );
    expect(r.ok).toHaveLength(300);
    expect(count('POST /v1/users/bulk/delete')).toBe(1);
    expect(await getUser(emulator, 'b0')).toBeUndefined();
  });

  test('retries a bulk request whose response was lost after Knock enqueued it', async () => {
    emulator.control.addFault({ match: 'POST /v1/users/bulk/identify', reset: 'after', count: 1 });
    await using knock = destination(emulator, bulkOnly());
    const r = await sync(knock, usersTarget(), rows());
    expect(r.failed).toEqual([]);
    expect(count('POST /v1/users/bulk/identify')).toBe(2);
  });
});
