import fc from 'fast-check';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, test } from 'vitest';
import { payloadProjection, rowSql, type Column } from '../src/index.js';

/** One column of each type the bound covers, at the edges of its JSON text's length. */
const COLUMNS: Column[] = [
  { name: 's', type: 'VARCHAR' },
  { name: 't', type: 'VARCHAR' },
  { name: 'n', type: 'HUGEINT' },
  { name: 'x', type: 'DOUBLE' },
  { name: 'd', type: 'DECIMAL(38,10)' },
  { name: 'b', type: 'BOOLEAN' },
  { name: 'u', type: 'UUID' },
  { name: 'dt', type: 'DATE' },
  { name: 'ts', type: 'TIMESTAMP' },
  { name: 'tz', type: 'TIMESTAMP WITH TIME ZONE' },
];
const FIELDS = { 'name "quoted"\u0001': 's', ünï: 't', n: 'n', x: 'x', d: 'd', b: 'b', u: 'u', day: 'dt', at: 'ts', tz: 'tz' };

/** Text a JSON writer escapes or widens: control characters, quotes, backslashes, slashes, non-ASCII, emoji. */
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: fc.constantFrom('\u0000', '\u001f', '"', '\\', '/', '\n', 'é', '😀', '\u2028', 'a'), maxLength: 200 }),
);
// Values as text (cast to each column's type in SQL); null is SQL NULL.
const some = (...xs: string[]) => fc.constantFrom(null, ...xs);
const row = fc.record({
  s: fc.option(text),
  t: fc.option(text),
  n: some('0', '-170141183460469231731687303715884105728', '170141183460469231731687303715884105727'),
  x: some('0', '-0.0', '-1.7976931348623157e308', '5e-324', 'nan', '-inf', '0.30000000000000004'),
  d: some('0', '-9999999999999999999999999999.9999999999', '0.0000000001'),
  b: some('true', 'false'),
  u: some('00000000-0000-0000-0000-000000000000'),
  day: some('5877642-06-25', '5877641-06-24 (BC)', 'infinity', '2024-02-29'),
  at: some('294247-01-10 04:00:54.775806', '290308-12-22 (BC) 00:00:00', 'infinity', '2024-01-01 00:00:00.123'),
  tz: some('294246-12-31 23:59:59.999999+00', '-infinity', '2024-01-01 12:00:00+05:30'),
});

describe('the payload length bound (rowSql.payloadMaxLength)', () => {
  test('is at least the payload text length for every row (property)', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    // Every type together, and one text field alone (where the bound is tightest).
    const mappings = [FIELDS, { s: 's' }];
    for (const m of mappings) expect(rowSql(m, COLUMNS).payloadMaxLength).toBeDefined();
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 20 }), fc.constantFrom(...mappings), async (rows, fields) => {
          const bound = rowSql(fields, COLUMNS).payloadMaxLength!;
          const projection = payloadProjection(fields, COLUMNS);
          // Bound as parameters: a NUL byte cannot sit in SQL text.
          const params: (string | null)[] = [];
          const values = rows.map(
            (r) => `(${[r.s, r.t, r.n, r.x, r.d, r.b, r.u, r.day, r.at, r.tz].map((v) => `$${params.push(v)}::VARCHAR`).join(', ')})`,
          );
          const model = `SELECT s::VARCHAR AS s, t::VARCHAR AS t, n::HUGEINT AS n, x::DOUBLE AS x, d::DECIMAL(38,10) AS d, b::BOOLEAN AS b,
              u::UUID AS u, dt::DATE AS dt, ts::TIMESTAMP AS ts, tz::TIMESTAMPTZ AS tz
            FROM (VALUES ${values.join(', ')}) AS v(s, t, n, x, d, b, u, dt, ts, tz)`;
          const r = await conn.runAndReadAll(
            `SELECT strlen(${projection}) AS len, ${bound} AS bound, ${projection} AS payload FROM (${model})`,
            params as never,
          );
          for (const x of r.getRowObjectsJson() as { len: string; bound: string; payload: string }[])
            expect(Number(x.len), x.payload).toBeLessThanOrEqual(Number(x.bound));
        }),
        { numRuns: 60 },
      );
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  });

  test('is absent when a mapped column has no cheap bound (a list, a JSON value)', () => {
    expect(rowSql({ tags: 'tags' }, [{ name: 'tags', type: 'VARCHAR[]' }]).payloadMaxLength).toBeUndefined();
    expect(rowSql({ data: 'data' }, [{ name: 'data', type: 'JSON' }]).payloadMaxLength).toBeUndefined();
    expect(rowSql({ n: 'n' }, [{ name: 'n', type: 'INTEGER' }]).payloadMaxLength).toMatch(/^\d+$/);
  });
});
