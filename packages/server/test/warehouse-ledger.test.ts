import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { queryRows, realPostgres, runSql, startPostgres, type TestDatabase } from '@syncline/test-utils/postgres-server';
import { createServer } from '../src/index.js';
import { TOKEN, testServer, type TestServer } from './helpers.js';

// A sync file the CLI runs with `source: { type: postgres, ledger: warehouse }` (issue 15) planned, run and read
// back by the server: its snapshot, run records and exchanges live in Postgres, not in a DuckDB file. On a real
// PostgreSQL server (the sync process reaches it by URL, as the CLI does); skipped with one line when the server
// is not installed, a failure under CI=true.
const server = realPostgres();

const SYNC = [
  'name: wh-users',
  'source:',
  '  type: postgres',
  '  url: ${DATABASE_URL}',
  '  ledger: warehouse',
  'model: select id, email, name from people',
  'key: id',
  'destination: { type: knock }',
  'sync:',
  '  type: users',
  '  fields: { email: email, name: name }',
  '',
].join('\n');

describe.skipIf(server.skip)('the server with a warehouse ledger on a real PostgreSQL server', () => {
  let db: TestDatabase;
  let t: TestServer;
  beforeAll(async () => {
    if (server.skip) return;
    db = await startPostgres(server.bin);
    await runSql(
      db.url,
      `CREATE TABLE people (id text, email text, name text);
       INSERT INTO people SELECT 'p_' || lpad(i::text, 3, '0'), 'p' || i || '@example.com', 'Person ' || i FROM generate_series(1, 30) i`,
    );
    t = await testServer({ env: { ...process.env, DATABASE_URL: db.url } });
    writeFileSync(join(t.dir, 'syncs', 'wh-users.yaml'), SYNC);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await db?.stop();
  });

  test('plan, run, run history, one run, exchanges pages and the debugger replay go through the Postgres ledger', async () => {
    const plan = await t.json<{
      summary: Record<string, number>;
      changes: { key: string }[];
      requests: { path: string; example?: { method: string; path: string; body: Record<string, unknown>; rows: number } }[];
    }>('POST', '/api/syncs/wh-users/plan', {});
    expect(plan.status, JSON.stringify(plan.body)).toBe(200);
    expect(plan.body.summary).toMatchObject({ added: 30, changed: 0, removed: 0 });
    // The Requests tab's example call comes from the plan's own sample rows, so a Postgres model has one too.
    // 30 adds at Knock's tiers go as single PUTs: the first one is the first sample row's.
    expect(plan.body.requests[0]!.example).toEqual(
      expect.objectContaining({ method: 'PUT', path: '/v1/users/p_001', rows: 1, body: { email: 'p1@example.com', name: 'Person 1' } }),
    );
    expect(plan.body.changes[0]!.key).toBe('p_001');

    const started = await t.json<{ runId: string }>('POST', '/api/syncs/wh-users/run', {});
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const { runId } = started.body;
    await t.server.settle();
    expect(t.logs.filter((l) => l.includes('failed'))).toEqual([]);

    // The run is recorded in Postgres (the ledger's schema), and no DuckDB ledger file was made for the sync.
    const recorded = await queryRows<{ run_id: string; status: string }>(
      db.url,
      `SELECT run_id, status FROM syncline.runs WHERE sync = 'wh-users'`,
    );
    expect(recorded).toEqual([{ run_id: runId, status: 'succeeded' }]);
    const snapshot = await queryRows<{ n: string }>(db.url, `SELECT count(*)::text AS n FROM syncline.snapshot WHERE sync = 'wh-users'`);
    expect(snapshot[0]!.n).toBe('30');
    expect(existsSync(join(t.dir, 'syncs', '.syncline', 'wh-users.duckdb'))).toBe(false);
    const stored = await queryRows<{ n: string }>(db.url, `SELECT count(*)::text AS n FROM syncline.exchanges WHERE run_id = $1`, [runId]);
    expect(Number(stored[0]!.n)).toBeGreaterThan(0);

    // A new server over the same workspace holds nothing in memory: all of this comes from the Postgres ledger.
    const fresh = createServer({
      dir: t.dir,
      token: TOKEN,
      emulatorUrl: t.emulator.url,
      baseUrl: t.emulator.url,
      env: { ...process.env, DATABASE_URL: db.url },
      log: () => undefined,
    });
    try {
      const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
        const r = await fresh.app.request(path, { headers: { authorization: `Bearer ${TOKEN}` } });
        return { status: r.status, body: (await (path.endsWith('/events') ? r.text() : r.json())) as T };
      };
      const history = await get<{ runs: { runId: string; status: string; counts: Record<string, number> }[] }>('/api/syncs/wh-users/runs');
      expect(history.status).toBe(200);
      expect(history.body.runs).toEqual([
        expect.objectContaining({ runId, status: 'succeeded', counts: expect.objectContaining({ added: 30 }) }),
      ]);
      const run = await get<{ run: { runId: string; status: string }; failedRows: unknown[] }>(`/api/runs/${runId}`);
      expect(run.status).toBe(200);
      expect(run.body).toMatchObject({ run: { runId, status: 'succeeded' }, failedRows: [] });

      type Page = {
        exchanges: { seq: number; status: number; keys?: string[] }[];
        total: number;
        through: number;
        nextCursor: string | null;
      };
      const all = await get<Page>(`/api/runs/${runId}/exchanges?limit=1000`);
      expect(all.status).toBe(200);
      expect(all.body.total).toBe(Number(stored[0]!.n));
      expect(all.body.through).toBe(all.body.total);
      expect(all.body.exchanges.map((x) => x.seq)).toEqual(Array.from({ length: all.body.total }, (_, i) => i + 1));
      // Filtered by row key and by status class, and cut in pages, as for a DuckDB ledger.
      const byKey = await get<Page>(`/api/runs/${runId}/exchanges?key=p_007`);
      expect(byKey.body.total).toBeGreaterThan(0);
      for (const x of byKey.body.exchanges) expect(x.keys).toContain('p_007');
      expect((await get<Page>(`/api/runs/${runId}/exchanges?status=5xx`)).body.total).toBe(0);
      const first = await get<Page>(`/api/runs/${runId}/exchanges?status=2xx&limit=1`);
      expect(first.body.exchanges.map((x) => x.seq)).toEqual([all.body.exchanges.find((x) => x.status < 300)!.seq]);

      const events = await get<string>(`/api/runs/${runId}/events`);
      expect(events.status).toBe(200);
      expect(events.body.match(/event: exchange/g)?.length).toBe(all.body.total);
      expect(events.body).toMatch(/event: end\ndata: \{"status":"succeeded"/);
    } finally {
      await fresh.close();
    }

    // The next plan diffs in Postgres against what the run confirmed: only the edited row changes.
    await runSql(db.url, `UPDATE people SET name = 'Renamed' WHERE id = 'p_012'`);
    const next = await t.json<{ summary: Record<string, number> }>('POST', '/api/syncs/wh-users/plan', {});
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    expect(next.body.summary).toMatchObject({ added: 0, changed: 1, removed: 0 });
  }, 180_000);
});
