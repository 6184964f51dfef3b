import type { Change, HttpExchange } from '@syncline/core';
import type { RunningEmulator } from '@syncline/knock-emulator';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { planOperations, type KnockOpData, type KnockTarget } from '../src/index.js';
import { SERVER_OWNED_FIELDS } from '../src/field-catalog.js';
import { sentAsText } from '../src/plan-operations.js';
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

describe('deciding from the text alone', () => {
  /** The check as it was: on the parsed payload, every row. */
  const exact = (json: string, nulls: KnockTarget['nulls']): boolean => {
    if (json.charCodeAt(0) !== 123 || (json.charCodeAt(1) !== 34 && json !== '{}')) return false;
    const payload = JSON.parse(json) as Record<string, unknown>;
    for (const k in payload) {
      const v = payload[k];
      if (v === undefined || (v === null && nulls !== 'send') || SERVER_OWNED_FIELDS.has(k) || k === 'created_at') return false;
    }
    return true;
  };
  // Keys and strings built from pieces that look like what the text test searches for.
  const piece = fc.constantFrom(
    'id',
    'created_at',
    'updated_at',
    '__typename',
    'name',
    'null',
    ':null',
    '":null',
    '"',
    '\\',
    'i',
    'd',
    'é',
    '\u0069',
    ' ',
    ':',
    ',',
    '{',
    '}',
  );
  const text = fc.array(piece, { maxLength: 5 }).map((p) => p.join(''));
  const value = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      text,
      fc.array(tie('v'), { maxLength: 3 }),
      fc.dictionary(fc.oneof(text, piece), tie('v'), { maxKeys: 3 }),
    ),
  })).v;
  const payloadArb = fc.dictionary(
    fc.oneof(text, piece, fc.constantFrom('id', 'created_at', 'updated_at', '__typename', 'i\u0064')),
    value,
    { maxKeys: 5 },
  );

  test('decides exactly as the check on the parsed payload, on compact and spaced texts (property)', () => {
    fc.assert(
      fc.property(payloadArb, fc.constantFrom<KnockTarget['nulls']>('skip', 'send'), fc.boolean(), (payload, nulls, spaced) => {
        const json = spaced ? JSON.stringify(payload, null, 1).replace(/^\{\n/, '{') : JSON.stringify(payload);
        let reads = 0;
        const c = {
          get payload() {
            reads += 1;
            return JSON.parse(json) as Record<string, unknown>;
          },
        };
        expect(sentAsText(json, c, { nulls })).toBe(exact(json, nulls));
        return reads <= 1;
      }),
      { numRuns: 3000 },
    );
  });

  test('reads no payload for the plain rows of a bulk job', () => {
    let reads = 0;
    const plain = (i: number) => ({ name: `N${i}`, plan: 'pro', seats: i, co: { key: 'c', tags: ['a'] } });
    const changes = rows(300, plain).map((c) => {
      const json = c.payloadJson!;
      return {
        action: c.action,
        key: c.key,
        hash: c.hash,
        payloadJson: json,
        get payload() {
          reads += 1;
          return JSON.parse(json) as Record<string, unknown>;
        },
      } as Change;
    });
    const bulk = bulkOf(changes);
    expect(reads).toBe(0);
    expect(JSON.parse(bulk.request.json!)).toEqual({ users: rows(300, plain).map((c) => ({ id: c.key, ...c.payload })) });
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
