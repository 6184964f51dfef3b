import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runSql, startPglite, type TestDatabase } from '@syncline/test-utils/postgres-server';
import { postgresSource } from '../src/index.js';
import { TYPE_SETUP, typeMappingTests } from './type-cases.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await startPglite();
  await runSql(db.url, TYPE_SETUP);
});
afterAll(() => db?.stop());

describe('postgresSource on PGlite (over the wire protocol)', () => {
  typeMappingTests(() => db.url);

  test('streams a model through the cursor in batches', async () => {
    const source = postgresSource({ url: db.url, batchSize: 4 });
    try {
      const sizes: number[] = [];
      const ids: number[] = [];
      for await (const b of source.read('SELECT x AS id FROM generate_series(1, 10) AS x ORDER BY x;')) {
        sizes.push(b.length);
        ids.push(...b.map((r) => r.id as number));
      }
      expect(sizes).toEqual([4, 4, 2]);
      expect(ids).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    } finally {
      await source.close?.();
    }
  });

  test('an injected pg.Pool is used as given and left open by close()', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      const source = postgresSource({ pool });
      expect(await source.describe('SELECT 1::int8 AS id')).toEqual([{ name: 'id', type: 'VARCHAR' }]);
      await source.close?.();
      // Still usable: the application owns it.
      expect((await pool.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
      // And the source's reads returned its one client (a leak would block this forever at max: 1).
      const again = postgresSource({ pool });
      for await (const b of again.read('SELECT 3 AS id')) expect(b).toEqual([{ id: 3 }]);
      expect(pool.idleCount + pool.waitingCount).toBe(pool.totalCount);
    } finally {
      await pool.end();
    }
  });

  test('a model error names its line and column in the model', async () => {
    const source = postgresSource({ url: db.url });
    try {
      const e = await source.describe('SELECT 1 AS id,\n  nope AS email').catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'model_failed', details: { line: 2, column: 3 } });
      expect(String((e as Error).message)).toMatch(/^model query failed: column "nope" does not exist/);
    } finally {
      await source.close?.();
    }
  });

  test('the model runs read-only', async () => {
    await runSql(db.url, 'DROP TABLE IF EXISTS ro; CREATE TABLE ro (id int)');
    const source = postgresSource({ url: db.url });
    try {
      const read = async () => {
        for await (const b of source.read('WITH d AS (DELETE FROM ro RETURNING id) SELECT * FROM d')) void b;
      };
      await expect(read()).rejects.toThrow(/read-only transaction/);
    } finally {
      await source.close?.();
    }
  });

  test('options: a missing URL and a bad option are clear errors, and a password never shows', async () => {
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      expect(() => postgresSource({})).toThrow('[postgres] option "url": required (or set DATABASE_URL)');
    } finally {
      if (saved !== undefined) process.env.DATABASE_URL = saved;
    }
    expect(() => postgresSource({ url: db.url, batchSize: 0 })).toThrow(/^\[postgres\] option "batchSize": /);
    const source = postgresSource({ url: 'postgres://u:hunter2@127.0.0.1:1/db' });
    const e = await source.describe('select 1').catch((x: unknown) => x);
    expect(String((e as Error).message)).toMatch(/^\[postgres\] cannot connect to 127\.0\.0\.1:1\/db: /);
    expect(JSON.stringify(e) + String(e)).not.toContain('hunter2');
    await source.close?.();
  });
});
