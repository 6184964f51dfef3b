import {
  configHash,
  literal,
  openDuckdbLedger,
  payloadProjection,
  rowSql,
  runSync,
  stagedRowSql,
  syncSpecFieldsSchema,
  toSyncSpec,
  type RunResult,
  type Source,
} from '@syncline/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { knockDestination, validateRow } from '../src/index.js';
import { estimateOperations, planOperations } from '../src/plan-operations.js';

/** Values at the edges of each rule: valid, invalid, and valid ones that only JavaScript can clear. */
const VALUES = {
  id: ['u1', 'user_01:a@b|c', 'a/b', '.', 'u 1', 'ü1', 'x'.repeat(257), 'tab\there'],
  email: ['ada@example.com', 'a@b', 'bad@', 'a@-b.com', 'ü@x.de', '', 'a@b..c', `${'a'.repeat(250)}@b.co`],
  phone: ['+14155550100', '+0123', '14155550100', '+1 415', '+1234567890123456'],
  timezone: ['Europe/Paris', 'UTC', 'US/Pacific', 'Mars/Base', '+01:00', 'europe/paris'],
  locale: ['en', 'en-US', 'EN', 'x', 'en_US', 'zh-Hant-TW'],
  created: ['2024-01-05', '2024-02-30', '2024-02-29', '2024-01-05T10:00:00Z', '2024-01-31T10:00:00.5Z', '2024-01-05T24:00:00Z', 'soon'],
  note: ['hi', 'x'.repeat(300_000), '\u0001'],
};
const pick = <T>(xs: T[]): fc.Arbitrary<T | null> => fc.oneof(fc.constantFrom(...xs), fc.constant(null));
const rowArb = fc.record({
  email: pick(VALUES.email),
  phone: pick(VALUES.phone),
  timezone: pick(VALUES.timezone),
  locale: pick(VALUES.locale),
  created: pick(VALUES.created),
  note: pick(VALUES.note),
});
type TestRow = {
  id: string;
  email: string | null;
  phone: string | null;
  timezone: string | null;
  locale: string | null;
  created: string | null;
  note: string | null;
};
const modelArb = fc.array(fc.tuple(fc.constantFrom(...VALUES.id), rowArb), { maxLength: 40 }).map((rows) =>
  // Unique keys (duplicates stop a plan before the diff): each row's id gets its index.
  rows.map(([id, r], i): TestRow => ({ ...r, id: id.length > 200 ? id : `${id}${i}` })),
);

const COLUMNS = ['id', 'email', 'phone', 'timezone', 'locale', 'created', 'note'] as const;
function tableSource(rows: TestRow[]): Source {
  return {
    name: 'inline',
    describe: async () => [],
    read: async function* () {},
    async attach(conn) {
      await conn.run(`CREATE OR REPLACE TEMP TABLE people (${COLUMNS.map((c) => `${c} VARCHAR`).join(', ')})`);
      if (rows.length === 0) return;
      const ap = await conn.createAppender('people', 'main', 'temp');
      for (const r of rows) {
        for (const c of COLUMNS) r[c] === null ? ap.appendNull() : ap.appendVarchar(r[c]);
        ap.endRow();
      }
      ap.closeSync();
    },
  };
}

const knock = knockDestination({ apiKey: 'sk_test_dry', baseUrl: 'http://127.0.0.1:9' });
const spec = toSyncSpec(
  syncSpecFieldsSchema.parse({
    name: 'people',
    model: 'select * from people',
    key: 'id',
    sync: {
      type: 'users',
      mode: 'upsert',
      onDelete: 'delete',
      fields: { email: 'email', phone_number: 'phone', timezone: 'timezone', locale: 'locale', created_at: 'created', note: 'note' },
    },
  }),
  knock,
);

describe('validSql (the SQL twin of validateRow)', () => {
  test('clears only rows that validateRow accepts, and clears the ordinary valid ones', async () => {
    await using ledger = await openDuckdbLedger({ path: ':memory:' });
    const conn = ledger.connection;
    await fc.assert(
      fc.asyncProperty(modelArb, async (rows) => {
        await tableSource(rows).attach!(conn);
        const columns = await ledger.describe(spec.model);
        const sql = knock.validSql!(spec.target, rowSql(spec.fields, columns));
        const r = await conn.runAndReadAll(
          `SELECT __syncline_k AS k, __syncline_payload AS payload, (${sql}) AS ok FROM (SELECT *, CAST(id AS VARCHAR) AS __syncline_k,
             ${payloadProjection(spec.fields, columns)} AS __syncline_payload FROM people)`,
        );
        for (const row of r.getRowObjectsJson() as { k: string; payload: string; ok: boolean | null }[]) {
          const issues = validateRow({ key: row.k, payload: JSON.parse(row.payload) as Record<string, unknown> }, spec.target);
          if (row.ok === true) expect(issues, `${row.k} ${row.payload}`).toEqual([]);
        }
      }),
      { numRuns: 60 },
    );
    // The same SQL over a staged change (key and payload only), as a run's diff evaluates it on its changes.
    await fc.assert(
      fc.asyncProperty(modelArb, async (rows) => {
        await tableSource(rows).attach!(conn);
        const columns = await ledger.describe(spec.model);
        const sql = knock.validSql!(spec.target, stagedRowSql(spec.fields, columns)!);
        const r = await conn.runAndReadAll(
          `SELECT k, payload, (${sql}) AS ok FROM (SELECT CAST(id AS VARCHAR) AS k, ${payloadProjection(spec.fields, columns)} AS payload FROM people)`,
        );
        for (const row of r.getRowObjectsJson() as { k: string; payload: string; ok: boolean | null }[]) {
          const issues = validateRow({ key: row.k, payload: JSON.parse(row.payload) as Record<string, unknown> }, spec.target);
          if (row.ok === true) expect(issues, `${row.k} ${row.payload}`).toEqual([]);
        }
      }),
      { numRuns: 60 },
    );
    // The everyday valid row is cleared in SQL (otherwise the large dry run gains nothing).
    await tableSource([
      { id: 'u1', email: 'ada@example.com', phone: '+14155550100', timezone: 'UTC', locale: 'en-US', created: '2024-01-05', note: 'hi' },
    ]).attach!(conn);
    const columns = await ledger.describe(spec.model);
    const sql = knock.validSql!(spec.target, rowSql(spec.fields, columns));
    const r = await conn.runAndReadAll(
      `SELECT (${sql}) AS ok FROM (SELECT *, CAST(id AS VARCHAR) AS __syncline_k, ${payloadProjection(spec.fields, columns)} AS __syncline_payload FROM people)`,
    );
    expect(r.getRowObjectsJson()).toEqual([{ ok: true }]);
    const staged = await conn.runAndReadAll(
      `SELECT (${knock.validSql!(spec.target, stagedRowSql(spec.fields, columns)!)}) AS ok FROM (SELECT CAST(id AS VARCHAR) AS k, ${payloadProjection(spec.fields, columns)} AS payload FROM people)`,
    );
    expect(staged.getRowObjectsJson()).toEqual([{ ok: true }]);
  }, 120_000);
});

describe('estimateOperations', () => {
  test('counts exactly the calls planOperations makes, chunk by chunk', () => {
    const tiers = { 1: 1, 2: 5, 3: 60, 4: 200, 5: 1000 };
    const targets = [
      spec.target,
      { ...spec.target, onDelete: 'nothing' as const },
      { type: 'objects' as const, mode: 'upsert' as const, onDelete: 'delete' as const, nulls: 'skip' as const, collection: 'projects' },
      { type: 'audiences' as const, mode: 'add' as const, onDelete: 'nothing' as const, nulls: 'skip' as const, audience: 'vip' },
      { type: 'audiences' as const, mode: 'remove' as const, onDelete: 'nothing' as const, nulls: 'skip' as const, audience: 'vip' },
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...targets),
        fc.array(fc.record({ upserts: fc.nat(1000), removes: fc.nat(1000) }), { minLength: 1, maxLength: 6 }),
        fc.nat(200_000),
        (target, chunks, extra) => {
          const totals = {
            add: chunks.reduce((n, c) => n + c.upserts, 0) + extra,
            change: 0,
            remove: chunks.reduce((n, c) => n + c.removes, 0),
          };
          const options = { tiers, singleOnlySeconds: 1.5 };
          const planned = new Map<string, { calls: number; rows: number }>();
          let k = 0;
          for (const c of chunks) {
            const changes = [
              ...Array.from({ length: c.upserts }, () => ({ action: 'add' as const, key: `u${k++}`, payload: { name: 'x' }, hash: 'h' })),
              ...Array.from({ length: c.removes }, () => ({ action: 'remove' as const, key: `u${k++}`, payload: null, hash: null })),
            ];
            for (const op of planOperations(changes, { target, totals }, options).operations) {
              const e = planned.get(op.endpoint) ?? { calls: 0, rows: 0 };
              e.calls += 1;
              e.rows += op.changes.length;
              planned.set(op.endpoint, e);
            }
          }
          const estimated = estimateOperations(chunks, { target, totals }, options);
          expect(new Map(estimated.map((e) => [e.endpoint, { calls: e.calls, rows: e.rows }]))).toEqual(planned);
        },
      ),
      { numRuns: 80 },
    );
  });
});

describe('a large dry run summarised in SQL', () => {
  const dryRun = async (rows: TestRow[], summarizeFrom: number, previous: TestRow[] = []): Promise<RunResult> => {
    await using ledger = await openDuckdbLedger({ path: ':memory:' });
    if (previous.length) {
      // A snapshot of earlier rows, so the plan has changes and removals too.
      await tableSource(previous).attach!(ledger.connection);
      const columns = await ledger.describe(spec.model);
      await ledger.connection
        .run(`INSERT INTO snapshot (k, h, payload, run_id, synced_at) SELECT k, ${ledger.rowHash(`(${literal(configHash(spec))} || payload)`)}, payload, 'r0', now()
        FROM (SELECT CAST(id AS VARCHAR) AS k, ${payloadProjection(spec.fields, columns)} AS payload FROM people)`);
    }
    return await runSync({
      spec,
      source: tableSource(rows),
      destination: knock,
      ledger,
      dryRun: true,
      previewLimit: 3,
      summarizeFrom,
      chunkSize: 7,
    });
  };

  /** Each row's payload as a run maps it, computed apart from the plan by the same projection. */
  const mappedPayloads = async (rows: TestRow[]): Promise<Map<string, unknown>> => {
    await using ledger = await openDuckdbLedger({ path: ':memory:' });
    await tableSource(rows).attach!(ledger.connection);
    const columns = await ledger.describe(spec.model);
    const r = await ledger.connection.runAndReadAll(
      `SELECT CAST(id AS VARCHAR) AS k, ${payloadProjection(spec.fields, columns)} AS payload FROM people`,
    );
    return new Map((r.getRowObjectsJson() as { k: string; payload: string }[]).map((x) => [x.k, JSON.parse(x.payload) as unknown]));
  };

  test('finds the same counts, invalid rows and preview as the row-by-row dry run, and the same calls when no row is invalid', async () => {
    await fc.assert(
      fc.asyncProperty(modelArb, fc.boolean(), async (rows, withSnapshot) => {
        const previous = withSnapshot ? rows.filter((_, i) => i % 3 !== 0).map((r, i) => (i % 2 ? { ...r, note: 'old' } : r)) : [];
        const exact = await dryRun(rows, Number.POSITIVE_INFINITY, previous);
        const fast = await dryRun(rows, 0, previous);
        expect(fast.status).toBe(exact.status);
        expect(fast.rows).toEqual(exact.rows);
        expect(fast.invalid.map((i) => `${i.key} ${i.field} ${i.rule}`).sort()).toEqual(
          exact.invalid.map((i) => `${i.key} ${i.field} ${i.rule}`).sort(),
        );
        expect(fast.preview).toEqual(exact.preview);
        // Each previewed upsert carries the payload the run would send (the playground's example calls are built
        // from it): the model row mapped by the sync's projection; a removal carries none.
        const sent = await mappedPayloads(rows);
        for (const p of exact.preview) expect(p.payload).toEqual(p.action === 'remove' ? undefined : sent.get(p.key));
        expect(fast.invalidByReason).toEqual(exact.invalidByReason);
        const calls = (r: RunResult) => r.endpoints.reduce((n, e) => n + e.calls, 0);
        if (exact.rows.invalid === 0) expect(new Set(fast.endpoints)).toEqual(new Set(exact.endpoints));
        else expect(Math.abs(calls(fast) - calls(exact))).toBeLessThanOrEqual(exact.rows.invalid);
        expect(fast.requests).toBe(calls(fast));
      }),
      { numRuns: 25 },
    );
  }, 240_000);

  test('a first dry run below summarizeFrom reads the model once: a model whose keys differ on every read still plans', async () => {
    await using ledger = await openDuckdbLedger({ path: ':memory:' });
    const moving = toSyncSpec(
      syncSpecFieldsSchema.parse({
        name: 'people',
        // A second read of the model (to rebuild payloads) would find none of the staged keys.
        model: `select id || '-' || (random() * 1e15)::BIGINT AS id, email from people`,
        key: 'id',
        sync: { type: 'users', mode: 'upsert', fields: { email: 'email' } },
      }),
      knock,
    );
    const rows = ['a@example.com', 'b@example.com', 'c@example.com'].map((email, i) => ({
      ...Object.fromEntries(COLUMNS.map((c) => [c, null])),
      id: `u${i}`,
      email,
    })) as TestRow[];
    const r = await runSync({ spec: moving, source: tableSource(rows), destination: knock, ledger, dryRun: true, summarizeFrom: 20 });
    expect(r.status, r.error?.message).toBe('succeeded');
    expect(r.rows).toMatchObject({ total: 3, added: 3, invalid: 0 });
    expect(r.preview.map((p) => p.payload)).toEqual(rows.map((x) => ({ email: x.email })));
  });
});
