import type { Change } from '@syncline/core';
import fc from 'fast-check';
import { audience } from './support.js';
import { describe, expect, test } from 'vitest';
import {
  knockDestination,
  chooseSplit,
  encodeId,
  idProblem,
  planOperations,
  splitRates,
  UNPACED_RATE,
  type KnockOpData,
  type KnockTarget,
} from '../src/index.js';

const tiers = { 1: 1, 2: 5, 3: 60, 4: 200, 5: 1000 };
const opts = { tiers, singleOnlySeconds: 1.5 };
const users: KnockTarget = { type: 'users', mode: 'upsert', onDelete: 'delete', nulls: 'skip' };
const objects: KnockTarget = { type: 'objects', mode: 'upsert', onDelete: 'delete', nulls: 'skip', collection: 'projects' };

const add = (key: string, payload: Record<string, unknown> = { name: key }): Change => ({ action: 'add', key, payload, hash: 'h' });
const remove = (key: string): Change => ({ action: 'remove', key, payload: null, hash: null });
const many = (n: number, f: (k: string) => Change = (k) => add(k)) => Array.from({ length: n }, (_, i) => f(`u${i}`));
const totalsOf = (changes: Change[]) => ({
  add: changes.filter((c) => c.action === 'add').length,
  change: changes.filter((c) => c.action === 'change').length,
  remove: changes.filter((c) => c.action === 'remove').length,
});
const data = (op: { data?: unknown }) => op.data as KnockOpData;

describe('planOperations', () => {
  test('sends a small run as single identify calls (tier 3)', () => {
    const { operations, skipped } = planOperations(many(5), { target: users, totals: { add: 5, change: 0, remove: 0 } }, opts);
    expect(skipped).toEqual([]);
    expect(operations).toHaveLength(5);
    expect(operations[0]).toMatchObject({
      endpoint: 'PUT /v1/users/{user_id}',
      tier: 3,
      data: { kind: 'single', request: { method: 'PUT', path: '/v1/users/u0', body: { name: 'u0' } } },
    });
  });

  test('spreads a large run over bulk jobs and single calls by estimated finish time', () => {
    const chunk = many(1000);
    const { operations } = planOperations(chunk, { target: users, totals: { add: 100_000, change: 0, remove: 0 } }, opts);
    const bulk = operations.filter((o) => data(o).kind === 'bulk');
    const single = operations.filter((o) => data(o).kind === 'single');
    expect(bulk).toHaveLength(1);
    expect(bulk[0]).toMatchObject({ endpoint: 'POST /v1/users/bulk/identify', tier: 1 });
    // 100k rows: 100 bulk jobs take 100.5 s; 95 jobs (95.5 s) beside 5,000 single calls (83 s) finish
    // first, so 5 % of the rows go single.
    expect(single).toHaveLength(50);
    expect((data(bulk[0]!).request.body as { users: unknown[] }).users).toHaveLength(1000 - single.length);
  });

  test('uses single calls only when they shorten the run (issue 10: a 1 % rerun of 1M rows)', () => {
    expect(chooseSplit(10_000, { singlePerSecond: 60, bulkPerSecond: 1, bulkLatencySeconds: 1.5 })).toEqual({
      singles: 0,
      bulkCalls: 10,
      seconds: 10.5,
      bulkOnlySeconds: 10.5,
    });
    const small = chooseSplit(80, { singlePerSecond: 60, bulkPerSecond: 1, bulkLatencySeconds: 1.5 });
    expect(small).toMatchObject({ singles: 80, bulkCalls: 0 });
    const big = chooseSplit(1_000_000, { singlePerSecond: 60, bulkPerSecond: 1, bulkLatencySeconds: 1.5 });
    expect(big.seconds).toBeLessThan(big.bulkOnlySeconds);
    expect(big.bulkCalls * 1000 + big.singles).toBe(1_000_000);
    const { operations } = planOperations(many(1000), { target: users, totals: { add: 10_000, change: 0, remove: 0 } }, opts);
    expect(operations.map((o) => data(o).kind)).toEqual(['bulk']);
  });

  test("counts the run loop's own cost: with tiers off a run is bound by its ledger writes, so no single calls (issue 10)", () => {
    const off = { tiers: { 1: UNPACED_RATE, 2: UNPACED_RATE, 3: UNPACED_RATE, 4: UNPACED_RATE, 5: UNPACED_RATE }, singleOnlySeconds: 1.5 };
    const rates = splitRates(off, 'users', 'upsert');
    // Scenario 2 (1M first sync, tiers off) sent 49,000 single PUTs beside 951 bulk jobs: the transport
    // alone finished ~2 s sooner, but every row still passes through the ledger (~100 s at 10,000 rows/s).
    expect(chooseSplit(1_000_000, rates)).toMatchObject({ singles: 0, bulkCalls: 1000 });
    // Scenario 3 (20,000 changed rows): 2,000 single PUTs beside 18 jobs before; bulk alone now.
    expect(chooseSplit(20_000, rates)).toMatchObject({ singles: 0, bulkCalls: 20 });
    // Without the run loop's cost the transport ceilings alone still pick singles (the old choice).
    const transport = { singlePerSecond: rates.singlePerSecond, bulkPerSecond: rates.bulkPerSecond, bulkLatencySeconds: 1.5 };
    expect(chooseSplit(1_000_000, transport).singles).toBeGreaterThan(0);
    // At Knock's real tiers the transport is the slower side, so singles still shorten a big run.
    const real = chooseSplit(1_000_000, splitRates(opts, 'users', 'upsert'));
    expect(real.singles).toBeGreaterThan(0);
    expect(real.seconds).toBeLessThan(real.bulkOnlySeconds);
    // A few rows still go as single calls: one call each beats a bulk job's processing time.
    expect(chooseSplit(50, rates)).toMatchObject({ singles: 50, bulkCalls: 0 });
  });

  test('weighs single calls at the rate the limiter sends them (rateSafety), so both kinds end together (issue 10)', () => {
    // Knock's tiers: bulk jobs 1/s (spaced by their answers, no safety cut), single PUTs 60/s, sent at 0.97 × 60.
    const raw = chooseSplit(1_000_000, splitRates({ ...opts, rateSafety: 1 }, 'users', 'upsert'));
    const paced = chooseSplit(1_000_000, splitRates({ ...opts, rateSafety: 0.97 }, 'users', 'upsert'));
    expect(raw).toMatchObject({ bulkCalls: 944, singles: 56_000 });
    expect(paced).toMatchObject({ bulkCalls: 945, singles: 55_000 });
    // When each kind ends at the rates the limiter sends at: weighed at the full tier, the single calls ran
    // ~18 s past the last bulk job (scenario 1's last minute fell to 92-94 % of its first); now within 1 s.
    const ends = (c: { singles: number; bulkCalls: number }) => ({ singles: c.singles / (60 * 0.97), bulk: c.bulkCalls - 1 + 1.5 });
    expect(ends(raw).singles - ends(raw).bulk).toBeGreaterThan(15);
    expect(Math.abs(ends(paced).singles - ends(paced).bulk)).toBeLessThan(1);
  });

  test('the Knock destination plans with its own rateSafety: a chunk of a 1M first sync sends 55 of 1,000 rows singly, not 56', () => {
    const chunk = many(1000);
    const singlesOf = (rateSafety: number) => {
      const knock = knockDestination({ apiKey: 'sk_test_split', baseUrl: 'http://127.0.0.1:9', rateSafety });
      const { operations } = knock.plan(chunk, { target: users, totals: { add: 1_000_000, change: 0, remove: 0 } });
      return operations.filter((o) => data(o).kind === 'single').length;
    };
    expect(singlesOf(1)).toBe(56);
    expect(singlesOf(0.97)).toBe(55);
  });

  test('uses the run totals, not the chunk size, to choose', () => {
    const { operations } = planOperations(many(10), { target: users, totals: { add: 5000, change: 0, remove: 0 } }, opts);
    expect(operations.some((o) => data(o).kind === 'bulk')).toBe(true);
  });

  test('deletes users with onDelete delete: single DELETE (tier 2) when few, bulk delete when many', () => {
    const few = planOperations([remove('a')], { target: users, totals: { add: 0, change: 0, remove: 1 } }, opts);
    expect(few.operations[0]).toMatchObject({
      endpoint: 'DELETE /v1/users/{user_id}',
      tier: 2,
      data: { request: { method: 'DELETE', path: '/v1/users/a', okStatuses: [404] } },
    });
    const lots = planOperations(many(500, remove), { target: users, totals: { add: 0, change: 0, remove: 500 } }, opts);
    const bulk = lots.operations.find((o) => data(o).kind === 'bulk')!;
    expect(bulk.endpoint).toBe('POST /v1/users/bulk/delete');
    expect(Object.keys(data(bulk).request.body as object)).toEqual(['user_ids']);
  });

  test('skips removals with onDelete nothing', () => {
    const target = { ...users, onDelete: 'nothing' as const };
    const changes = [add('a'), remove('b')];
    const plan = planOperations(changes, { target, totals: totalsOf(changes) }, opts);
    expect(plan.skipped.map((c) => c.key)).toEqual(['b']);
    expect(plan.operations.map((o) => o.changes[0]!.key)).toEqual(['a']);
  });

  test('sets and deletes objects within the collection', () => {
    const changes = [add('p 1', { name: 'P', owner: 'x' }), remove('p2')];
    const plan = planOperations(changes, { target: objects, totals: totalsOf(changes) }, opts);
    expect(plan.operations.map((o) => [o.endpoint, data(o).request.path])).toEqual([
      ['PUT /v1/objects/projects/{id}', '/v1/objects/projects/p%201'],
      ['DELETE /v1/objects/projects/{id}', '/v1/objects/projects/p2'],
    ]);
    const bulk = planOperations(many(2000), { target: objects, totals: { add: 2000, change: 0, remove: 0 } }, opts);
    expect(bulk.operations.filter((o) => data(o).kind === 'bulk').map((o) => o.endpoint)).toEqual([
      'POST /v1/objects/projects/bulk/set',
      'POST /v1/objects/projects/bulk/set',
    ]);
  });

  test.each([
    ['skip', { email: 'a@b.co' }],
    ['send', { email: 'a@b.co', name: null }],
  ] as const)('with nulls %s the body is %j', (nulls, body) => {
    const { operations } = planOperations(
      [add('a', { email: 'a@b.co', name: null })],
      { target: { ...users, nulls }, totals: { add: 1, change: 0, remove: 0 } },
      opts,
    );
    expect(data(operations[0]!).request.body).toEqual(body);
  });

  test('normalises created_at to an RFC 3339 date-time', () => {
    const { operations } = planOperations(
      [add('a', { created_at: '2024-05-22' }), add('b', { created_at: '2024-05-22T10:00+0200' })],
      { target: users, totals: { add: 2, change: 0, remove: 0 } },
      opts,
    );
    expect(operations.map((o) => (data(o).request.body as { created_at: string }).created_at)).toEqual([
      '2024-05-22T00:00:00.000Z',
      '2024-05-22T08:00:00.000Z',
    ]);
  });

  test('audience add mode: rows in the model are added with their user fields and tenant, leavers removed', () => {
    const changes = [add('u1', { email: 'a@b.co', tenant: 'acme', name: null }), remove('u2')];
    const plan = planOperations(changes, { target: audience('add'), totals: totalsOf(changes) }, opts);
    expect(plan.operations.map((o) => [o.endpoint, data(o).request])).toEqual([
      [
        'POST /v1/audiences/vips/members',
        {
          method: 'POST',
          tier: 3,
          route: 'POST /v1/audiences/{key}/members',
          path: '/v1/audiences/vips/members',
          body: { members: [{ user: { id: 'u1', email: 'a@b.co' }, tenant: 'acme' }] },
        },
      ],
      [
        'DELETE /v1/audiences/vips/members',
        {
          method: 'DELETE',
          tier: 3,
          route: 'DELETE /v1/audiences/{key}/members',
          path: '/v1/audiences/vips/members',
          body: { members: [{ user: { id: 'u2' } }] },
        },
      ],
    ]);
  });

  test('audience remove mode: rows in the model are removed, leavers need no call', () => {
    const changes = [add('u1', { tenant: 'acme' }), remove('u2')];
    const plan = planOperations(changes, { target: audience('remove'), totals: totalsOf(changes) }, opts);
    expect(plan.skipped.map((c) => c.key)).toEqual(['u2']);
    expect(plan.operations).toHaveLength(1);
    expect(data(plan.operations[0]!).request).toMatchObject({
      method: 'DELETE',
      body: { members: [{ user: { id: 'u1' }, tenant: 'acme' }] },
    });
  });

  test('audience add with createAudience asks Knock to create it', () => {
    const plan = planOperations(
      [add('u1')],
      { target: audience('add', { createAudience: true }), totals: { add: 1, change: 0, remove: 0 } },
      opts,
    );
    expect(data(plan.operations[0]!).request.path).toBe('/v1/audiences/vips/members?create_audience=true');
  });

  test('rejects targets it cannot serve', () => {
    expect(() => planOperations([add('a')], { target: { ...objects, collection: undefined }, totals: totalsOf([add('a')]) }, opts)).toThrow(
      /collection/,
    );
    expect(() => planOperations([add('a')], { target: { ...users, mode: 'add' }, totals: totalsOf([add('a')]) }, opts)).toThrow(/upsert/);
    expect(() => planOperations([add('a')], { target: audience('add', { audience: 'a/b' }), totals: totalsOf([add('a')]) }, opts)).toThrow(
      /audience/,
    );
  });

  const changeArb = fc.record({
    action: fc.constantFrom('add' as const, 'change' as const, 'remove' as const),
    key: fc.string({ minLength: 1, maxLength: 20 }),
    name: fc.option(fc.string(), { nil: null }),
  });
  const targetArb = fc.constantFrom<KnockTarget>(users, { ...users, onDelete: 'nothing' }, objects, audience('add'), audience('remove'));

  test('property: every change is planned exactly once, batches hold ≤ 1,000 and bodies carry the right ids', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(changeArb, { selector: (c) => c.key, maxLength: 2500 }),
        targetArb,
        fc.nat(200_000),
        (raw, target, extra) => {
          const changes: Change[] = raw.map((c) => ({
            action: c.action,
            key: c.key,
            payload: c.action === 'remove' ? null : { name: c.name },
            hash: c.action === 'remove' ? null : 'h',
          }));
          const totals = totalsOf(changes);
          totals.add += extra;
          const plan = planOperations(changes, { target, totals }, opts);
          const seen = [...plan.skipped, ...plan.operations.flatMap((o) => o.changes)].map((c) => c.key);
          expect(seen.sort()).toEqual(changes.map((c) => c.key).sort());
          expect(new Set(plan.operations.map((o) => o.id)).size).toBe(plan.operations.length);
          for (const op of plan.operations) {
            const d = data(op);
            expect(op.changes.length).toBeLessThanOrEqual(1000);
            expect(op.tier).toBe(d.request.tier);
            const body = d.request.body as Record<string, Array<string | { id?: string; user?: { id: string } }>> | undefined;
            if (d.kind === 'single') {
              expect(op.changes).toHaveLength(1);
              const seg = d.request.path.split('/').at(-1)!;
              expect(decodeURIComponent(seg)).toBe(op.changes[0]!.key);
            } else {
              const list = Object.values(body!)[0]!;
              const ids = list.map((x) => (typeof x === 'string' ? x : (x.user?.id ?? x.id)));
              expect(ids).toEqual(op.changes.map((c) => c.key));
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('encodeId', () => {
  test.each(['.', '..', ''])('refuses %j', (id) => {
    expect(() => encodeId(id)).toThrow();
  });

  test.each([
    ['../bulk/delete', '..%2Fbulk%2Fdelete'],
    ['a/b', 'a%2Fb'],
    ['%2F', '%252F'],
    ['a?b#c', 'a%3Fb%23c'],
    ["it's(*)", 'it%27s%28%2A%29'],
    ['ü', '%C3%BC'],
  ])('encodes %j as %j', (id, encoded) => {
    expect(encodeId(id)).toBe(encoded);
  });

  test('property: the encoded id round-trips and always stays one path segment of the intended endpoint', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('.', '..', '../x', '/', '%2e%2e', './.')),
        (id) => {
          fc.pre(id !== '' && id !== '.' && id !== '..' && (id as unknown as { isWellFormed(): boolean }).isWellFormed());
          const seg = encodeId(id);
          expect(seg).not.toMatch(/[/?#]/);
          expect(decodeURIComponent(seg)).toBe(id);
          const url = new URL(`https://api.knock.app/v1/users/${seg}`);
          expect(url.pathname).toBe(`/v1/users/${seg}`);
          // ids that Knock accepts are the ones the validator accepts
          if (!id.includes('/') && !id.includes('#') && id.length <= 256 && !/[\u0000-\u001f\u007f]/.test(id))
            expect(idProblem(id)).toBeUndefined();
        },
      ),
      { numRuns: 1000 },
    );
  });
});
