import fc from 'fast-check';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { describe, expect, test } from 'vitest';
import {
  configHash,
  fingerprintSql,
  literal,
  memoryDestination,
  payloadProjection,
  runSync,
  syncSpecFieldsSchema,
  toSyncSpec,
  type Column,
  type Source,
  type SyncSpec,
} from '../src/index.js';
import { trackLedgers } from './model-source.js';

/** Typed columns whose JSON is easy to get wrong: -0.0, 1 vs 1.0, lists of text with commas, nulls vs ''. */
const COLUMNS: Column[] = [
  { name: 'id', type: 'VARCHAR' },
  { name: 'n', type: 'INTEGER' },
  { name: 'x', type: 'DOUBLE' },
  { name: 'r', type: 'FLOAT' },
  { name: 's', type: 'VARCHAR' },
  { name: 'tags', type: 'VARCHAR[]' },
  { name: 'amount', type: 'DECIMAL(8,2)' },
  { name: 'at', type: 'TIMESTAMP' },
  { name: 'ok', type: 'BOOLEAN' },
];
const FIELDS = { n: 'n', x: 'x', r: 'r', s: 's', tags: 'tags', amount: 'amount', at: 'at', ok: 'ok' };

interface Row {
  id: string;
  n: number | null;
  x: number | null;
  r: number | null;
  s: string | null;
  tags: readonly string[] | null;
  amount: string | null;
  at: string | null;
  ok: boolean | null;
}

const value = {
  n: fc.constantFrom(null, 0, 1, -1, 2147483647),
  x: fc.constantFrom(null, 0, -0, 1, 1.5, 0.1, 0.30000000000000004, 1e300, -2.5),
  r: fc.constantFrom(null, 0, -0, 1.1, 1.5),
  s: fc.constantFrom(null, '', ' ', '1', '1.0', 'a,b', 'quote"d', "o'brien", 'ünï', 'null'),
  tags: fc.constantFrom(null, [], [''], ['a, b'], ['a', 'b'], ['b', 'a'], ['1']),
  amount: fc.constantFrom(null, '0.00', '1.00', '1.10', '-1.00', '10.00'),
  at: fc.constantFrom(null, '2024-01-01 00:00:00', '2024-01-01 00:00:00.001', '2024-01-01 00:00:01', '1970-01-01 00:00:00'),
  ok: fc.constantFrom(null, true, false),
};
const rowArb = (id: string): fc.Arbitrary<Row> => fc.record({ id: fc.constant(id), ...value });

/** SQL literal of a row in the typed table's column order. */
function rowSql(r: Row): string {
  const v = (x: unknown, type: string): string =>
    x === null ? `NULL::${type}` : `${literal(typeof x === 'string' ? x : JSON.stringify(x))}::${type}`;
  const x = r.x === null ? 'NULL::DOUBLE' : Object.is(r.x, -0) ? `(-(0.0::DOUBLE))` : `${literal(String(r.x))}::DOUBLE`;
  const rr = r.r === null ? 'NULL::FLOAT' : Object.is(r.r, -0) ? `(-(0.0::FLOAT))` : `${literal(String(r.r))}::FLOAT`;
  const tags = r.tags === null ? 'NULL::VARCHAR[]' : `[${r.tags.map(literal).join(', ')}]::VARCHAR[]`;
  return `SELECT ${literal(r.id)} AS id, ${v(r.n, 'INTEGER')} AS n, ${x} AS x, ${rr} AS r, ${v(r.s, 'VARCHAR')} AS s, ${tags} AS tags,
    ${v(r.amount, 'DECIMAL(8,2)')} AS amount, ${v(r.at, 'TIMESTAMP')} AS at, ${v(r.ok, 'BOOLEAN')} AS ok`;
}

async function withConnection<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    return await fn(c);
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

const spec = (fields: Record<string, string>, model: string): SyncSpec =>
  toSyncSpec(
    syncSpecFieldsSchema.parse({ name: 'fp', model, key: 'id', sync: { type: 'users', mode: 'upsert', fields, onDelete: 'delete' } }),
  );

describe('row fingerprint', { timeout: 180_000 }, () => {
  test('equal fingerprints mean equal payloads: random edits of a typed row change the fingerprint whenever they change the payload', async () => {
    await withConnection(async (c) => {
      const projection = payloadProjection(FIELDS, COLUMNS);
      const fp = fingerprintSql(FIELDS, COLUMNS, 'salt', 'engine');
      const both = async (a: Row, b: Row) => {
        const r = await c.runAndReadAll(
          `SELECT ${projection} AS p, ${fp} AS f FROM (${rowSql(a)}) UNION ALL SELECT ${projection} AS p, ${fp} AS f FROM (${rowSql(b)})`,
        );
        const [x, y] = r.getRowObjectsJson() as { p: string; f: string }[];
        return { x: x!, y: y! };
      };
      let payloadChanges = 0;
      await fc.assert(
        fc.asyncProperty(
          rowArb('u1'),
          rowArb('u1'),
          fc.subarray(Object.keys(value) as (keyof typeof value)[]),
          async (a, other, edited) => {
            // b: a with some fields (0–8) taken from another random row.
            const b: Row = { ...a };
            for (const k of edited) (b as unknown as Record<string, unknown>)[k] = other[k];
            const { x, y } = await both(a, b);
            if (x.p !== y.p) payloadChanges += 1;
            // A false "unchanged" would be a missed change: never allowed.
            if (x.f === y.f) expect(y.p).toBe(x.p);
            // The other way round (same payload, other fingerprint) only costs a payload hash.
          },
        ),
        { numRuns: 400 },
      );
      expect(payloadChanges).toBeGreaterThan(100);
      // Tricky pairs spelled out: -0.0 vs 0.0, list ['a, b'] vs ['a', 'b'], NULL vs ''.
      const base: Row = { id: 'u', n: 1, x: 0, r: 0, s: '', tags: ['a, b'], amount: '1.00', at: null, ok: null };
      for (const edit of [{ x: -0 }, { r: -0 }, { tags: ['a', 'b'] }, { s: null }, { amount: '1.10' }, { at: '2024-01-01 00:00:00.001' }]) {
        const { x, y } = await both(base, { ...base, ...edit });
        expect(y.p, JSON.stringify(edit)).not.toBe(x.p);
        expect(y.f, JSON.stringify(edit)).not.toBe(x.f);
      }
    });
  });

  test('the salt covers the mapping, the column types and the engine', () => {
    const cols = (type: string): Column[] => [{ name: 'n', type }];
    const base = fingerprintSql({ n: 'n' }, cols('INTEGER'), 'salt', 'v1');
    expect(fingerprintSql({ n: 'n' }, cols('DOUBLE'), 'salt', 'v1')).not.toBe(base);
    expect(fingerprintSql({ m: 'n' }, cols('INTEGER'), 'salt', 'v1')).not.toBe(base);
    expect(fingerprintSql({ n: 'n' }, cols('INTEGER'), 'other', 'v1')).not.toBe(base);
    expect(fingerprintSql({ n: 'n' }, cols('INTEGER'), 'salt', 'v2')).not.toBe(base);
  });

  const open = trackLedgers();
  /** A source whose `people` table is the given typed rows (1 vs 1.0: `score`'s type varies by state). */
  const typedSource = (rows: Row[], scoreType: 'INTEGER' | 'DOUBLE'): Source => ({
    name: 'typed',
    describe: async () => [],
    read: async function* () {},
    async attach(conn) {
      const body = rows.length
        ? rows.map(rowSql).join(' UNION ALL ')
        : `${rowSql({ id: '', n: null, x: null, r: null, s: null, tags: null, amount: null, at: null, ok: null })} LIMIT 0`;
      await conn.run(`CREATE OR REPLACE TEMP TABLE people AS SELECT *, n::${scoreType} AS score FROM (${body})`);
    },
  });

  test('runs over random typed states: the snapshot always holds exactly the model payloads (nothing missed, nothing resent)', async () => {
    const fields = { ...FIELDS, score: 'score' };
    const stateArb = fc.record({
      rows: fc
        .uniqueArray(fc.integer({ min: 0, max: 12 }), { maxLength: 10 })
        .chain((ids) => fc.tuple(...ids.map((i) => rowArb(`k${i}`))) as fc.Arbitrary<Row[]>),
      scoreType: fc.constantFrom('INTEGER' as const, 'DOUBLE' as const),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(stateArb, { minLength: 2, maxLength: 5 }), async (states) => {
        const ledger = await open();
        const dest = memoryDestination();
        for (const state of states) {
          const s = spec(fields, 'select * from people');
          const r = await runSync({
            spec: s,
            source: typedSource(state.rows, state.scoreType),
            destination: dest,
            ledger,
            allowMassDelete: true,
          });
          expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
          // The reference: every model row's payload text as the engine builds it, compared by text.
          const columns = await ledger.describe('select * from people');
          const expected = (
            await ledger.connection.runAndReadAll(
              `SELECT CAST(id AS VARCHAR) AS k, ${payloadProjection(fields, columns)} AS p FROM people ORDER BY k`,
            )
          ).getRowObjectsJson() as { k: string; p: string }[];
          const snap = (await ledger.connection.runAndReadAll(`SELECT k, payload AS p FROM snapshot ORDER BY k`)).getRowObjectsJson();
          expect(snap).toEqual(expected);
          // A rerun of the same state finds nothing to send.
          const again = await runSync({ spec: s, source: typedSource(state.rows, state.scoreType), destination: dest, ledger });
          expect(again.rows).toMatchObject({ added: 0, changed: 0, removed: 0, unchanged: state.rows.length });
        }
      }),
      { numRuns: 15 },
    );
  });

  test('a snapshot without fingerprints (an older ledger) or with stale ones compares by hash: nothing is resent, and a run fills them in', async () => {
    const ledger = await open();
    const rows: Row[] = Array.from({ length: 30 }, (_, i) => ({
      id: `k${i}`,
      n: i,
      x: i / 2,
      r: null,
      s: `s${i}`,
      tags: ['t'],
      amount: '1.00',
      at: null,
      ok: true,
    }));
    const s = spec(FIELDS, 'select * from people');
    const dest = memoryDestination();
    const first = await runSync({ spec: s, source: typedSource(rows, 'INTEGER'), destination: dest, ledger });
    expect(first.rows.added).toBe(30);
    const count = async (where: string): Promise<number> =>
      Number((await ledger.connection.runAndReadAll(`SELECT count(*) AS n FROM snapshot WHERE ${where}`)).getRowObjectsJson()[0]!.n);
    expect(await count('f IS NOT NULL')).toBe(30);
    // Forget them (as a ledger written before fingerprints), and make some stale (as after an engine upgrade).
    await ledger.connection.run(`UPDATE snapshot SET f = CASE WHEN k < 'k2' THEN f + 1 END`);
    const dry = await runSync({ spec: s, source: typedSource(rows, 'INTEGER'), destination: dest, ledger, dryRun: true });
    expect(dry.rows).toMatchObject({ added: 0, changed: 0, unchanged: 30 });
    expect(await count('f IS NULL')).toBeGreaterThan(0); // a dry run writes nothing
    const edited = rows.map((r, i) => (i === 3 ? { ...r, s: 'edited' } : r));
    const run = await runSync({ spec: s, source: typedSource(edited, 'INTEGER'), destination: dest, ledger });
    expect(run.rows).toMatchObject({ added: 0, changed: 1, unchanged: 29 });
    expect(dest.applied.slice(-1)[0]!.changes.map((c) => c.key)).toEqual(['k3']);
    // Every key's fingerprint is now the model's: the next stage skips every payload.
    const salt = configHash(s, dest);
    const fp = ledger.fingerprintSql(FIELDS, await ledger.describe(s.model), salt);
    expect(await count(`f IS NULL`)).toBe(0);
    const mismatched = await ledger.connection.runAndReadAll(
      `SELECT count(*) AS n FROM snapshot AS p JOIN (SELECT id AS k, ${fp} AS f FROM people) AS m USING (k) WHERE p.f <> m.f`,
    );
    expect(Number(mismatched.getRowObjectsJson()[0]!.n)).toBe(0);
  });
});
