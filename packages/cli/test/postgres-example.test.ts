import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '@syncline/knock-emulator';
import { queryRows, realPostgres, runSql, startPglite, startPostgres, type TestDatabase } from '@syncline/test-utils/postgres-server';
import { runBin } from './cli-io.js';

const API_KEY = 'sk_test_postgres_example';
const example = fileURLToPath(new URL('../../../examples/postgres/', import.meta.url));
const server = realPostgres();

// The same walk on PGlite (in this process, behind a wire-protocol socket) and on a real PostgreSQL server
// (skipped with one line when it is not installed; a failure under CI=true).
const backends = [
  { name: 'PGlite', skip: false, start: startPglite },
  { name: 'a real PostgreSQL server', skip: server.skip, start: () => startPostgres(server.skip ? '' : server.bin) },
];
// Each with the local DuckDB ledger (sync.yaml) and with the warehouse ledger inside Postgres (sync-warehouse.yaml).
const ledgers = [
  { ledger: 'local', file: 'sync.yaml' },
  { ledger: 'warehouse', file: 'sync-warehouse.yaml' },
];
const cases = backends.flatMap((b) => ledgers.map((l) => ({ ...b, ...l })));

describe.each(cases)('examples/postgres through the real `syncline` bin on $name, $ledger ledger', ({ skip, start, file }) => {
  let db: TestDatabase;
  let emulator: RunningEmulator;
  let dir: string;
  beforeAll(async () => {
    if (skip) return;
    db = await start();
    emulator = await startEmulator({ port: 0, logBodies: true, bulkDelayMs: 20 });
    dir = mkdtempSync(join(tmpdir(), 'syncline-pg-example-'));
    cpSync(example, dir, { recursive: true });
    await runSql(db.url, readFileSync(join(dir, 'seed.sql'), 'utf8'));
  }, 120_000);
  afterAll(async () => {
    await emulator?.close();
    await db?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const env = (): NodeJS.ProcessEnv => ({ DATABASE_URL: db.url, KNOCK_API_KEY: API_KEY, KNOCK_BASE_URL: emulator.url });
  const user = async (id: string): Promise<Record<string, unknown> | null> => {
    const res = await fetch(`${emulator.url}/v1/users/${id}`, { headers: { authorization: `Bearer ${API_KEY}` } });
    return res.status === 200 ? ((await res.json()) as Record<string, unknown>) : null;
  };
  /** The user ids the emulator received writes for (bulk identify bodies and deletes) since the last clear. */
  const written = (): string[] =>
    emulator.control
      .requests()
      .filter((r) => r.path.startsWith('/v1/users') && r.method !== 'GET')
      .flatMap((r) => {
        const body = r.body as { users?: { id: string }[]; user_ids?: string[] } | undefined;
        if (body?.users) return body.users.map((u) => u.id);
        if (body?.user_ids) return body.user_ids.map((id) => `-${id}`);
        const m = /^\/v1\/users\/([^/]+)$/.exec(r.path);
        return m ? [r.method === 'DELETE' ? `-${m[1]}` : m[1]!] : [];
      })
      .sort();

  test.skipIf(skip)(
    'plan shows 45 adds, run sends them with exact types, a rerun after changes sends only the changes',
    async () => {
      const config = join(dir, file);
      // Every relation and schema outside the sessions' temporary schemas: a plan must leave them as they were.
      const catalog = async () =>
        (
          await queryRows<{ r: string }>(
            db.url,
            `SELECT n.nspname || '.' || coalesce(c.relname, '') AS r FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid
              WHERE n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%' ORDER BY 1`,
          )
        ).map((x) => x.r);
      const before = await catalog();
      const plan = await runBin(['plan', config, '--json'], env());
      expect(plan.code).toBe(0);
      // Nothing created in Postgres (the warehouse ledger's schema included): the plan read a fresh ledger.
      expect(await catalog()).toEqual(before);
      expect(before.some((r) => r.startsWith('syncline.'))).toBe(false);
      if (file === 'sync-warehouse.yaml') {
        // Reading the runs of a sync that never ran creates nothing either.
        const runs = await runBin(['runs', config], env());
        expect([runs.code, runs.err]).toEqual([
          expect.any(Number),
          expect.stringContaining('example-postgres-warehouse has no runs yet (no ledger tables in Postgres (schema syncline))'),
        ]);
        expect(runs.code).not.toBe(0);
        expect(await catalog()).toEqual(before);
      }
      expect(JSON.parse(plan.out)).toMatchObject({ model: { rows: 45 }, summary: { add: 45, change: 0, delete: 0, invalid: 0 } });
      expect(emulator.control.requests().filter((r) => r.path.startsWith('/v1/users') && r.method !== 'GET')).toEqual([]);

      const first = await runBin(['run', config, '--json'], env());
      expect(first.code).toBe(0);
      expect(JSON.parse(first.out.trim().split('\n').at(-1)!)).toMatchObject({ status: 'succeeded', rows: { added: 45, synced: 45 } });
      expect(await user('9000000000000014')).toMatchObject({
        email: 'customer14@example.com',
        name: 'Customer 14',
        plan: 'enterprise',
        // 2024-01-01 + 14 × (1 day 1 hour 1.5 s), in UTC, microseconds kept by Postgres' own text.
        signed_up_at: '2024-01-15T14:00:21Z',
        lifetime_value: '17283.94',
        tags: ['beta', 'vip'],
      });
      expect(await user('9000000000000010')).toBeNull(); // inactive

      emulator.control.clearRequests();
      await runSql(
        db.url,
        `UPDATE customers SET plan = 'pro' WHERE id = 9000000000000003;
       UPDATE customers SET active = false WHERE id = 9000000000000005;
       INSERT INTO customer_tags VALUES (9000000000000001, 'new');
       UPDATE customers SET full_name = full_name WHERE id = 9000000000000002;`,
      );
      const second = await runBin(['run', config, '--json'], env());
      expect(second.code).toBe(0);
      expect(JSON.parse(second.out.trim().split('\n').at(-1)!)).toMatchObject({
        rows: { added: 0, changed: 2, removed: 1, unchanged: 42, synced: 3 },
      });
      // Only the changed rows reached Knock: the plan change, the new tag and the deactivated customer's delete.
      expect(written()).toEqual(['-9000000000000005', '9000000000000001', '9000000000000003']);
      expect(await user('9000000000000001')).toMatchObject({ tags: ['new'] });
      expect(await user('9000000000000005')).toBeNull();

      emulator.control.clearRequests();
      const third = await runBin(['run', config, '--json'], env());
      expect(JSON.parse(third.out.trim().split('\n').at(-1)!)).toMatchObject({ rows: { changed: 0, added: 0, removed: 0, unchanged: 44 } });
      expect(written()).toEqual([]);
    },
    300_000,
  );

  // Warehouse ledgers only: defined for those cases alone (a local ledger has no such test, rather than a skipped one).
  if (file === 'sync-warehouse.yaml')
    test.skipIf(skip)(
      '`runs` shows the warehouse ledger and its size in Postgres; `ledger verify/backup/restore` refuse it naming source.ledger',
      async () => {
        const config = join(dir, file);
        const runs = await runBin(['runs', config], env());
        expect(runs.code).toBe(0);
        const size = Number(
          (
            await queryRows<{ n: string }>(
              db.url,
              `SELECT sum(pg_total_relation_size(c.oid)) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'syncline' AND c.relkind = 'r'`,
            )
          )[0]!.n,
        );
        expect(size).toBeGreaterThan(0);
        const shown = /^Ledger in Postgres \(schema syncline\) · ([\d.]+) (kB|MB)/m.exec(runs.out);
        expect(shown, runs.out).not.toBeNull();
        expect(Math.abs(Number(shown![1]) * (shown![2] === 'MB' ? 1e6 : 1e3) - size) / size).toBeLessThan(0.01);
        for (const args of [['verify'], ['backup'], ['restore', join(dir, 'x.duckdb')]]) {
          const r = await runBin(['ledger', args[0]!, config, ...args.slice(1)], env());
          expect(r.code).not.toBe(0);
          expect(r.err).toContain(
            `${config}: source.ledger: warehouse keeps the ledger of example-postgres-warehouse in Postgres (schema syncline)`,
          );
          expect(r.err).toContain(`\`syncline ledger ${args[0]}\` works on DuckDB ledger files only`);
        }
      },
      120_000,
    );
});
