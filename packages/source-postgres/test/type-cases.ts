import { expect, test } from 'vitest';
import { memoryDestination, openDuckdbLedger, runSync, syncSpecFieldsSchema, toSyncSpec } from '@syncline/core';
import { runSql } from '@syncline/test-utils/postgres-server';
import { postgresSource } from '../src/index.js';

/** One Postgres type: a value's SQL, the DuckDB type the ledger stores it as and the value Syncline sees. */
export interface TypeCase {
  type: string;
  sql: string;
  duckdb: string;
  value: unknown;
}

/** One row per Postgres type (NULL of each type is checked too). */
export const TYPE_CASES: TypeCase[] = [
  { type: 'boolean', sql: `true`, duckdb: 'BOOLEAN', value: true },
  { type: 'smallint', sql: `(-32768)::int2`, duckdb: 'SMALLINT', value: -32768 },
  { type: 'integer', sql: `2147483647::int4`, duckdb: 'INTEGER', value: 2147483647 },
  { type: 'bigint', sql: `9223372036854775807::int8`, duckdb: 'VARCHAR', value: '9223372036854775807' },
  {
    type: 'numeric',
    sql: `'-12345678901234567890.000000000000000001'::numeric`,
    duckdb: 'VARCHAR',
    value: '-12345678901234567890.000000000000000001',
  },
  { type: 'numeric(10,2)', sql: `12.5::numeric(10,2)`, duckdb: 'VARCHAR', value: '12.50' },
  { type: 'real', sql: `1.5::float4`, duckdb: 'DOUBLE', value: 1.5 },
  { type: 'double precision', sql: `0.1::float8`, duckdb: 'DOUBLE', value: 0.1 },
  { type: 'text', sql: `'héllo "q" \\ ✓'::text`, duckdb: 'VARCHAR', value: 'héllo "q" \\ ✓' },
  { type: 'character varying', sql: `'abc'::varchar(10)`, duckdb: 'VARCHAR', value: 'abc' },
  { type: 'character', sql: `'ab'::char(4)`, duckdb: 'VARCHAR', value: 'ab  ' },
  { type: 'name', sql: `'pg_class'::name`, duckdb: 'VARCHAR', value: 'pg_class' },
  { type: 'uuid', sql: `'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid`, duckdb: 'VARCHAR', value: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' },
  { type: 'json', sql: `'{"b": 1, "a": 12345678901234567890}'::json`, duckdb: 'JSON', value: '{"b": 1, "a": 12345678901234567890}' },
  { type: 'jsonb', sql: `'{"b":1,"a":[1,2.50]}'::jsonb`, duckdb: 'JSON', value: '{"a": [1, 2.50], "b": 1}' },
  { type: 'date', sql: `'2024-02-29'::date`, duckdb: 'VARCHAR', value: '2024-02-29' },
  { type: 'timestamp', sql: `'2024-01-02 03:04:05.123456'::timestamp`, duckdb: 'VARCHAR', value: '2024-01-02T03:04:05.123456Z' },
  { type: 'timestamptz', sql: `'2024-01-02 03:04:05.5+02'::timestamptz`, duckdb: 'VARCHAR', value: '2024-01-02T01:04:05.5Z' },
  { type: 'time', sql: `'12:34:56.789'::time`, duckdb: 'VARCHAR', value: '12:34:56.789' },
  { type: 'timetz', sql: `'12:34:56+05:30'::timetz`, duckdb: 'VARCHAR', value: '12:34:56+05:30' },
  { type: 'interval', sql: `'1 year 2 mons 3 days 04:05:06'::interval`, duckdb: 'VARCHAR', value: 'P1Y2M3DT4H5M6S' },
  { type: 'inet', sql: `'192.168.0.1/24'::inet`, duckdb: 'VARCHAR', value: '192.168.0.1/24' },
  { type: 'cidr', sql: `'10.0.0.0/8'::cidr`, duckdb: 'VARCHAR', value: '10.0.0.0/8' },
  { type: 'macaddr', sql: `'08:00:2b:01:02:03'::macaddr`, duckdb: 'VARCHAR', value: '08:00:2b:01:02:03' },
  { type: 'enum', sql: `'sad'::mood`, duckdb: 'VARCHAR', value: 'sad' },
  { type: 'boolean[]', sql: `'{t,f,NULL}'::bool[]`, duckdb: 'JSON', value: '[true,false,null]' },
  { type: 'integer[]', sql: `'{1,NULL,3}'::int4[]`, duckdb: 'JSON', value: '[1,null,3]' },
  { type: 'bigint[]', sql: `'{1,9223372036854775807}'::int8[]`, duckdb: 'JSON', value: '["1","9223372036854775807"]' },
  { type: 'numeric[][]', sql: `'{{1.5,2},{3,4}}'::numeric[]`, duckdb: 'JSON', value: '[["1.5","2"],["3","4"]]' },
  { type: 'double precision[]', sql: `'{0.1,2}'::float8[]`, duckdb: 'JSON', value: '[0.1,2]' },
  { type: 'text[]', sql: `ARRAY['a,b', 'c"d', NULL, '']`, duckdb: 'JSON', value: '["a,b","c\\"d",null,""]' },
  {
    type: 'uuid[]',
    sql: `'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'::uuid[]`,
    duckdb: 'JSON',
    value: '["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]',
  },
  { type: 'jsonb[]', sql: `ARRAY['{"a":1}'::jsonb, NULL]`, duckdb: 'JSON', value: '[{"a": 1},null]' },
  { type: 'timestamptz[]', sql: `ARRAY['2024-01-02 03:04:05+00'::timestamptz]`, duckdb: 'JSON', value: '["2024-01-02T03:04:05Z"]' },
  { type: 'date[]', sql: `ARRAY['2024-01-02'::date]`, duckdb: 'JSON', value: '["2024-01-02"]' },
  { type: 'enum[]', sql: `ARRAY['ok'::mood, 'sad'::mood]`, duckdb: 'JSON', value: '["ok","sad"]' },
];

/** Types with no faithful JSON form: each is refused, naming the column. */
export const REFUSED_CASES = [
  { type: 'bytea', sql: `'\\xdead'::bytea`, hint: `encode("v", 'base64')` },
  { type: 'money', sql: `12.5::money`, hint: `"v"::numeric` },
  { type: 'point', sql: `point(1, 2)`, hint: 'cast it in the model' },
  { type: 'int4range', sql: `int4range(1, 5)`, hint: 'cast it in the model' },
];

/** Values with no JSON or ISO 8601 form: the read fails naming the column and the row, not the value. */
export const BAD_VALUE_CASES = [
  { type: 'numeric', sql: `'NaN'::numeric` },
  { type: 'double precision', sql: `'Infinity'::float8` },
  { type: 'timestamp with time zone', sql: `'infinity'::timestamptz` },
  { type: 'date', sql: `'-infinity'::date` },
];

/** Creates what the cases need (the `mood` enum). */
export const TYPE_SETUP = `DROP TYPE IF EXISTS mood CASCADE; CREATE TYPE mood AS ENUM ('ok', 'sad');`;

/** Registers the type-mapping tests against the database `url()` returns (PGlite or a real server). */
export function typeMappingTests(url: () => string): void {
  test.each(TYPE_CASES)('$type maps to $duckdb', async (c) => {
    const source = postgresSource({ url: url() });
    try {
      // NULL of the same type: enum → the `mood` type; a 2-D array type is written like a 1-D one.
      const nullType = c.type.replace('enum', 'mood').replace('[][]', '[]');
      const model = `SELECT ${c.sql} AS v, NULL::${nullType} AS n`;
      expect(await source.describe(model)).toEqual([
        { name: 'v', type: c.duckdb },
        { name: 'n', type: c.duckdb },
      ]);
      const batches = [];
      for await (const b of source.read(model)) batches.push(b);
      expect(batches).toEqual([[{ v: c.value, n: null }]]);
    } finally {
      await source.close?.();
    }
  });

  test.each(REFUSED_CASES)('$type is refused, naming the column', async (c) => {
    const source = postgresSource({ url: url() });
    try {
      await expect(source.describe(`SELECT 1 AS id, ${c.sql} AS v`)).rejects.toThrow(
        new RegExp(`^\\[postgres\\] column "v": type \\w+ has no faithful JSON mapping; .*${escape(c.hint)}`),
      );
    } finally {
      await source.close?.();
    }
  });

  test.each(BAD_VALUE_CASES)('a $type without a JSON form fails naming column and row', async (c) => {
    const source = postgresSource({ url: url() });
    try {
      const read = async () => {
        for await (const b of source.read(`SELECT x AS id, CASE WHEN x = 2 THEN ${c.sql} END AS v FROM generate_series(1, 3) AS x`)) void b;
      };
      await expect(read()).rejects.toThrow(new RegExp(`^\\[postgres\\] column "v" \\(${escape(c.type)}\\), row 2 of the model: `));
    } finally {
      await source.close?.();
    }
  });

  test('every type reaches the ledger payload exactly', async () => {
    await runSql(
      url(),
      `DROP TABLE IF EXISTS typed; CREATE TABLE typed AS SELECT 'k1' AS id, ${TYPE_CASES.map((c, i) => `${c.sql} AS c${i}`).join(', ')}`,
    );
    const fields = Object.fromEntries(TYPE_CASES.map((_, i) => [`f${i}`, `c${i}`]));
    const spec = toSyncSpec(
      syncSpecFieldsSchema.parse({
        name: 'typed',
        model: 'select * from typed',
        key: 'id',
        sync: { type: 'users', mode: 'upsert', fields, nulls: 'send' },
      }),
    );
    const ledger = await openDuckdbLedger({ path: ':memory:' });
    const source = postgresSource({ url: url() });
    try {
      const dest = memoryDestination();
      const r = await runSync({ spec, source, destination: dest, ledger });
      expect(r.error).toBeUndefined();
      const payload = JSON.parse(dest.applied[0]!.changes[0]!.payloadJson!) as Record<string, unknown>;
      TYPE_CASES.forEach((c, i) => {
        const expected = c.duckdb === 'JSON' ? JSON.parse(c.value as string) : c.value;
        expect([c.type, payload[`f${i}`]]).toEqual([c.type, expected]);
      });
      // Exact in the JSON text itself: no number went through a double.
      const text = dest.applied[0]!.changes[0]!.payloadJson!;
      expect(text).toContain('"9223372036854775807"');
      expect(text).toContain('12345678901234567890');
    } finally {
      await source.close?.();
      await ledger.close();
    }
  });
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
