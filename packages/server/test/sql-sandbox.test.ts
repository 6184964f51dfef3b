import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createSqlSandbox } from '../src/index.js';
import { listen, testServer, TOKEN, type TestServer } from './helpers.js';

let t: TestServer;
beforeAll(async () => {
  t = await testServer({ queryTimeoutMs: 1_500 });
});
afterAll(async () => {
  await t?.close();
});

const query = (sql: string) => t.json<{ error: { code: string; message: string }; rows?: unknown[] }>('POST', '/api/query', { sql });

describe('the SQL sandbox', () => {
  test('reads workspace files', async () => {
    const r = await query(`select count(*) as n from read_csv('${t.dir}/data/users.csv')`);
    expect(r.status).toBe(200);
    expect(r.body.rows).toEqual([{ n: '200' }]);
  });

  test.each([
    ["select * from read_csv('/etc/passwd')", /"\/etc\/passwd" is outside the workspace/],
    ["select * from read_text('../../../../etc/hostname')", /outside the workspace/],
    ["select * from read_csv('http://example.com/x.csv')", /URLs \(http:\/\/\)/],
    ["select * from read_parquet('s3://bucket/x.parquet')", /URLs \(s3:\/\/\)/],
    ["copy users to 'out.csv'", /COPY … TO writes files/],
    ["attach 'other.db' as o", /ATTACH opens another database/],
    ['install httpfs', /INSTALL downloads an extension/],
    ['load httpfs', /LOAD loads an extension/],
    ['set enable_external_access = true', /SET changes a setting/],
    ['pragma threads=8', /PRAGMA changes a setting/],
    ["create secret (type s3, key_id 'a', secret 'b')", /CREATE .*secrets/],
    ['select 1; select 2', /one statement per request, found 2/],
    ['delete from users', /DELETE writes data/],
  ])('refuses %s with a clear message', async (sql, message) => {
    const r = await query(sql);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('sql_refused');
    expect(r.body.error.message).toMatch(message);
  });

  test('a failing statement points at its line and column (core sqlErrorPosition), also in a long line DuckDB shows cut', async () => {
    const csv = `read_csv('${t.dir}/data/users.csv')`;
    const r = await t.json<{ error: { code: string; message: string; line?: number; column?: number } }>('POST', '/api/query', {
      sql: `select id,\n  emial from ${csv}`,
    });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'query_failed', line: 2, column: 3 });
    const long = `select ${Array.from({ length: 30 }, (_, i) => `id as c${i}`).join(', ')}, emial from ${csv}`;
    const cut = await t.json<{ error: { line?: number; column?: number } }>('POST', '/api/query', { sql: long });
    expect(cut.body.error).toMatchObject({ line: 1, column: long.indexOf('emial') + 1 });
  });

  test('settings are locked even if a statement got through', async () => {
    // The locked configuration is the second wall: the statement check is the first.
    const r = await query("select current_setting('lock_configuration') as locked, current_setting('enable_external_access') as ext");
    expect(r.body.rows).toEqual([{ locked: true, ext: false }]);
  });

  test('interrupts a runaway statement at its timeout, then keeps serving', async () => {
    const t0 = performance.now();
    const r = await query('select count(*) from range(10000000000000)');
    const ms = performance.now() - t0;
    expect(r.status).toBe(504);
    expect(r.body.error.code).toBe('query_timeout');
    expect(r.body.error.message).toMatch(/interrupted after 1500 ms/);
    expect(ms).toBeLessThan(1_500 + 2_500);
    expect((await query('select 42 as x')).body.rows).toEqual([{ x: 42 }]);
  });

  test('a crashed sandbox process is reported and replaced', async () => {
    const crash = await t.server.sandbox.crashForTest().catch((e: Error) => e);
    expect(String(crash)).toMatch(/sandbox process stopped/);
    expect(t.logs.some((l) => /sandbox process stopped/.test(l))).toBe(true);
    const r = await query('select 1 as one');
    expect(r.status).toBe(200);
    expect(r.body.rows).toEqual([{ one: 1 }]);
  });

  test('GET /api/health answers quickly while a statement runs', async () => {
    const slow = query('select count(*) from range(10000000000000)');
    await new Promise((r) => setTimeout(r, 200));
    const t0 = performance.now();
    const h = await t.server.app.request('/api/health');
    const ms = performance.now() - t0;
    expect(h.status).toBe(200);
    expect(ms).toBeLessThan(50 * 4); // 50 ms target; slack for a shared machine
    await slow;
  });

  test('a caller that stops a statement interrupts it at once (query_stopped), and the connection serves the next', async () => {
    const sandbox = createSqlSandbox({ dir: t.dir, tables: () => [], timeoutMs: 60_000, connections: 1 });
    try {
      const stop = new AbortController();
      const t0 = performance.now();
      const runaway = sandbox.query('select count(*) from range(10000000000000)', 10, stop.signal).catch((e: Error) => e);
      const queued = sandbox.query('select 7 as seven', 10);
      setTimeout(() => stop.abort(), 300);
      const e = (await runaway) as Error & { code?: string };
      expect(e.code).toBe('query_stopped');
      // Far below the 60 s timeout: the statement was interrupted, and the one connection is free again.
      expect((await queued).rows).toEqual([{ seven: 7 }]);
      expect(performance.now() - t0).toBeLessThan(10_000);
    } finally {
      await sandbox.close();
    }
  });

  test('POST /api/query: a client that goes away (the playground Stop) interrupts its statement', async () => {
    // Statements may run 60 s here, on the sandbox's 4 connections: 4 runaways whose clients left must not
    // hold them, or the next statement would wait for a minute.
    const slow = await testServer({ queryTimeoutMs: 60_000 });
    const http = await listen(slow.server.app);
    try {
      const stops = Array.from({ length: 4 }, () => new AbortController());
      const sent = stops.map((stop) =>
        fetch(`${http.origin}/api/query`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify({ sql: 'select count(*) from range(10000000000000)' }),
          signal: stop.signal,
        }).catch((e: Error) => e),
      );
      await new Promise((r) => setTimeout(r, 500));
      for (const stop of stops) stop.abort();
      for (const e of await Promise.all(sent)) expect(e).toBeInstanceOf(Error);
      const t0 = performance.now();
      const r = await slow.json<{ rows: unknown[] }>('POST', '/api/query', { sql: 'select 42 as x' });
      expect(r.body.rows).toEqual([{ x: 42 }]);
      expect(performance.now() - t0).toBeLessThan(15_000);
    } finally {
      await http.close();
      await slow.close();
    }
  });

  test('the timeout counts from when a statement runs, not while it waits behind others', async () => {
    const sandbox = createSqlSandbox({ dir: t.dir, tables: () => [], timeoutMs: 1_000, connections: 1 });
    try {
      const runaway = sandbox.query('select count(*) from range(10000000000000)', 10).catch((e: Error) => e);
      const queued = sandbox.query('select 7 as seven', 10);
      expect(String(await runaway)).toMatch(/interrupted after 1000 ms/);
      expect((await queued).rows).toEqual([{ seven: 7 }]);
    } finally {
      await sandbox.close();
    }
  });
});
