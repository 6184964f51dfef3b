import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, test } from 'vitest';
import { duckdbSource } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'syncline-src-'));
const file = (name: string, text: string): string => {
  writeFileSync(join(dir, name), text);
  return name;
};

async function query(tables: Parameters<typeof duckdbSource>[0]['tables'], sql: string) {
  const source = duckdbSource({ tables, baseDir: dir });
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await source.attach!(conn);
    return (await conn.runAndReadAll(sql)).getRowObjectsJson();
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

describe('duckdbSource', () => {
  test('reads CSV, TSV, NDJSON and Parquet files as tables inside the ledger connection', async () => {
    file('u.csv', 'id,email,age\n1,a@x.io,30\n2,"b,c@x.io",41\n');
    file('u.tsv', 'id\tplan\n1\tpro\n2\tfree\n');
    file('u.ndjson', '{"id":1,"tags":["a"]}\n{"id":2,"tags":[]}\n');
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    await c.run(`COPY (SELECT 1 AS id, 'x' AS name UNION ALL SELECT 2, 'y') TO '${join(dir, 'u.parquet')}' (FORMAT parquet)`);
    c.closeSync();
    instance.closeSync();
    const rows = await query(
      { a: 'u.csv', b: 'u.tsv', c: 'u.ndjson', d: 'u.parquet' },
      'select a.id, a.email, a.age, b.plan, len(c.tags) as tags, d.name from a join b using (id) join c using (id) join d using (id) order by id',
    );
    expect(rows).toEqual([
      { id: '1', email: 'a@x.io', age: '30', plan: 'pro', tags: '1', name: 'x' },
      { id: '2', email: 'b,c@x.io', age: '41', plan: 'free', tags: '0', name: 'y' },
    ]);
  });

  test('reads a semicolon CSV when told its delimiter', async () => {
    file('semi.csv', 'id;email\n1;a@x.io\n');
    expect(await query({ s: { file: 'semi.csv', delim: ';' } }, 'select * from s')).toEqual([{ id: '1', email: 'a@x.io' }]);
  });

  test('names the line of a ragged CSV instead of reading it wrongly', async () => {
    file('ragged.csv', 'id,email\n1,a@x\n2,b@x,extra\n3,c@x\n');
    await expect(query({ users: 'ragged.csv' }, 'select * from users')).rejects.toThrow(
      '[duckdb] table "users" (ragged.csv) line 3: Expected Number of Columns: 2 Found: 3',
    );
  });

  test.each([['a missing file', { users: 'nope.csv' }, /\[duckdb\] table "users": file not found: nope\.csv/]])(
    'fails clearly on %s',
    async (_n, tables, message) => {
      await expect(query(tables, 'select 1')).rejects.toThrow(message);
    },
  );

  test.each([
    [
      'an unsupported extension',
      { users: 'users.xlsx' },
      '[duckdb] option "tables.users": users.xlsx is not .csv, .tsv, .parquet, .json or .ndjson',
    ],
    ['a bad table name', { 'my-users': 'u.csv' }, /\[duckdb\] option "tables\.my-users": a table name/],
    ['an unknown CSV option', { users: { file: 'u.csv', sep: ';' } }, /\[duckdb\] option "tables\.users"/],
  ])('rejects %s when created', (_n, tables, message) => {
    expect(() => duckdbSource({ tables: tables as never })).toThrow(message);
  });

  test('streams rows in batches through read()', async () => {
    file('many.csv', 'id\n' + Array.from({ length: 5000 }, (_, i) => i).join('\n') + '\n');
    const source = duckdbSource({ tables: { many: 'many.csv' }, baseDir: dir });
    const sizes: number[] = [];
    for await (const batch of source.read('select * from many', { batchSize: 2000 })) sizes.push(batch.length);
    expect(sizes).toEqual([2000, 2000, 1000]);
    expect(await source.describe('select * from many')).toEqual([{ name: 'id', type: 'BIGINT' }]);
    await source.close!();
  });
});
