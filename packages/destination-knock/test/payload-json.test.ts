import type { Change, HttpExchange } from '@syncline/core';
import type { RunningEmulator } from '@syncline/knock-emulator';
import { describe, expect, test } from 'vitest';
import { planOperations, type KnockOpData, type KnockTarget } from '../src/index.js';
import { destination, getUser, sync, useEmulator, usersTarget } from './support.js';

const tiers = { 1: 1, 2: 5, 3: 60, 4: 200, 5: 1000 };
const opts = { tiers, singleOnlySeconds: 0 };
const users: KnockTarget = { type: 'users', mode: 'upsert', onDelete: 'nothing', nulls: 'skip' };
const objects: KnockTarget = { type: 'objects', mode: 'upsert', onDelete: 'nothing', nulls: 'skip', collection: 'projects' };

/** A change as core's run loop makes it: the payload parsed from its JSON text, which it keeps. */
const row = (key: string, payload: Record<string, unknown>): Change => {
  const payloadJson = JSON.stringify(payload);
  return { action: 'add', key, payload: JSON.parse(payloadJson) as Record<string, unknown>, hash: 'h', payloadJson };
};
const bulkOf = (changes: Change[], target = users) => {
  const { operations } = planOperations(changes, { target, totals: { add: changes.length, change: 0, remove: 0 } }, opts);
  return operations.map((o) => o.data as KnockOpData).find((d) => d.kind === 'bulk')!;
};
const rows = (n: number, f: (i: number) => Record<string, unknown> = (i) => ({ name: `N${i}`, plan: 'pro', seats: i, co: { id: 'c' } })) =>
  Array.from({ length: n }, (_, i) => row(`u${i}`, f(i)));

describe('bulk bodies from the rows’ JSON text', () => {
  test('the planned body text holds the same users as the body objects', () => {
    const bulk = bulkOf(rows(300));
    expect(bulk.request.json).toBeDefined();
    expect(JSON.parse(bulk.request.json!)).toEqual(bulk.request.body);
    const objectsBulk = bulkOf(rows(300), objects);
    expect(JSON.parse(objectsBulk.request.json!)).toEqual(objectsBulk.request.body);
  });

  test('an empty payload gives just the id', () => {
    const bulk = bulkOf([row('a', {}), ...rows(200)]);
    expect(JSON.parse(bulk.request.json!)).toEqual(bulk.request.body);
  });

  test('no text when a row needs a field dropped or rewritten, or has no text', () => {
    const cases: Array<[string, Change]> = [
      ['null under nulls: skip', row('x', { name: null })],
      ['mapped id', row('x', { id: 'other', name: 'X' })],
      ['server-owned field', row('x', { updated_at: '2024-01-01T00:00:00Z' })],
      ['created_at', row('x', { created_at: '2024-01-01' })],
      ['no text', { action: 'add', key: 'x', payload: { name: 'X' }, hash: 'h' }],
      ['text not compact', { action: 'add', key: 'x', payload: { name: 'X' }, hash: 'h', payloadJson: '{ "name": "X" }' }],
    ];
    for (const [, c] of cases) expect(bulkOf([c, ...rows(200)]).request.json).toBeUndefined();
    // nulls: 'send' keeps nulls, so the text is used as is.
    const send = bulkOf([row('x', { name: null }), ...rows(200)], { ...users, nulls: 'send' });
    expect(JSON.parse(send.request.json!)).toEqual(send.request.body);
  });
});

describe('sending planned body text', () => {
  let emulator: RunningEmulator;
  useEmulator((e) => (emulator = e));

  test('a bulk job posts the planned text; users land as with serialised bodies', async () => {
    await using knock = destination(emulator, { bulk: { pollIntervalMs: 20, maxPollIntervalMs: 50, singleOnlySeconds: 0 } });
    const changes = rows(500, (i) => ({ name: `N${i}`, email: `u${i}@example.com`, big: 1234567890123, co: { id: `c${i % 3}` } }));
    const exchanges: HttpExchange[] = [];
    const totals = { add: changes.length, change: 0, remove: 0 };
    const { operations } = knock.plan(changes, { target: usersTarget(), totals });
    const bulk = operations.find((o) => (o.data as KnockOpData).kind === 'bulk')!;
    const outcome = await knock.apply(bulk, { target: usersTarget(), log: (x) => exchanges.push(x) });
    expect(outcome.failed).toEqual([]);
    const post = exchanges.find((x) => x.method === 'POST')!;
    expect(post.requestBody?.startsWith((bulk.data as KnockOpData & { kind: 'bulk' }).request.json!.slice(0, 200))).toBe(true);
    expect(await getUser(emulator, 'u7')).toMatchObject({ id: 'u7', name: 'N7', email: 'u7@example.com', co: { id: 'c1' } });
    const r = await sync(knock, usersTarget(), changes);
    expect(r.failed).toEqual([]);
    expect(r.ok).toHaveLength(500);
  });

  test('rows of a text-sent job that must go again (error_items, a rejected batch) are sent from the body objects', async () => {
    await using knock = destination(emulator, { bulk: { pollIntervalMs: 20, maxPollIntervalMs: 50, singleOnlySeconds: 0 } });
    const changes = rows(300);
    const totals = { add: changes.length, change: 0, remove: 0 };
    const bulkOp = () =>
      knock.plan(changes, { target: usersTarget(), totals }).operations.find((o) => (o.data as KnockOpData).kind === 'bulk')!;

    emulator.control.setBulkFaults({ failItemIds: ['u7'] });
    const retried = await knock.apply(bulkOp(), { target: usersTarget() });
    emulator.control.setBulkFaults({});
    expect(retried.failed).toEqual([]);
    expect(await getUser(emulator, 'u7')).toMatchObject({ id: 'u7', name: 'N7', seats: 7, co: { id: 'c' } });

    emulator.control.addFault({ match: 'POST /v1/users/bulk/identify', ids: ['u9'], status: 422, count: null });
    const split = await knock.apply(bulkOp(), { target: usersTarget() });
    emulator.control.clearFaults();
    expect(split.failed.map((f) => f.key)).toEqual(['u9']);
    expect(split.ok).toContain('u10');
  });
});
