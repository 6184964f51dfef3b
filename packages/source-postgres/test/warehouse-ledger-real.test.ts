import { describe, expect, test } from 'vitest';
import pg from 'pg';
import { runSql } from '@syncline/test-utils/postgres-server';
import { server, useRealPostgres } from './real-server.js';
import { ledgerConformance } from '@syncline/test-utils/ledger-conformance';
import { memoryDestination, runSync, syncSpecFieldsSchema, toSyncSpec } from '@syncline/core';
import { openPostgresLedger, postgresSource } from '../src/index.js';
import { loadPeople, warehouseLedgerUnderTest } from './warehouse-under-test.js';
import { warehouseTests } from './warehouse-cases.js';

describe.skipIf(server.skip)('warehouse ledger on a real PostgreSQL server', () => {
  const db = useRealPostgres();

  ledgerConformance(
    'Postgres warehouse ledger (PostgreSQL server)',
    warehouseLedgerUnderTest(() => db().url),
  );
  warehouseTests(() => db().url);

  test('a second concurrent run of the same sync is refused with `locked`; another sync and a later run go ahead', async () => {
    const first = await openPostgresLedger({ url: db().url, sync: 'users', schema: 'syncline_lock' });
    try {
      await expect(openPostgresLedger({ url: db().url, sync: 'users', schema: 'syncline_lock' })).rejects.toMatchObject({
        code: 'locked',
        message: expect.stringMatching(
          /^another run of sync "users" is in progress \(it holds the Postgres advisory lock of syncline_lock\.users on 127\.0\.0\.1:\d+\/postgres\)$/,
        ),
      });
      const other = await openPostgresLedger({ url: db().url, sync: 'accounts', schema: 'syncline_lock' });
      await other.close();
    } finally {
      await first.close();
    }
    const again = await openPostgresLedger({ url: db().url, sync: 'users', schema: 'syncline_lock' });
    await again.close();
  });

  test('only the changed rows leave Postgres: 3 of 2,000 changed rows stream out', async () => {
    const people = (plan: (i: number) => string) =>
      Array.from({ length: 2000 }, (_, i) => ({ id: `u${i}`, email: `u${i}@example.com`, plan: plan(i) }));
    const spec = toSyncSpec(
      syncSpecFieldsSchema.parse({
        name: 'traffic',
        model: 'select * from people',
        key: 'id',
        sync: { type: 'users', mode: 'upsert', fields: { email: 'email', plan: 'plan' } },
      }),
    );
    const ledger = await openPostgresLedger({ url: db().url, sync: 'traffic', schema: 'syncline_traffic' });
    const source = postgresSource({ url: db().url });
    try {
      const dest = memoryDestination();
      await loadPeople(
        db().url,
        people(() => 'free'),
      );
      expect((await runSync({ spec, source, destination: dest, ledger })).rows).toMatchObject({ added: 2000, synced: 2000 });
      await loadPeople(
        db().url,
        people((i) => (i % 700 === 0 ? 'pro' : 'free')),
      );
      const before = { ...ledger.traffic };
      const r = await runSync({ spec, source, destination: dest, ledger });
      expect(r.rows).toMatchObject({ changed: 3, unchanged: 1997, synced: 3 });
      expect(ledger.traffic.rows - before.rows).toBe(3);
      expect(dest.records.get('u700')).toMatchObject({ plan: 'pro' });
    } finally {
      await source.close?.();
      await ledger.close();
    }
  });

  test('an abort cancels the model on the server; nothing is staged', async () => {
    const ledger = await openPostgresLedger({ url: db().url, sync: 'slow', schema: 'syncline_slow' });
    try {
      const t0 = Date.now();
      await expect(
        ledger.stage({
          modelSql: 'SELECT x::text AS id, pg_sleep(30) AS slept FROM generate_series(1, 1) AS x',
          key: 'id',
          projection: '',
          fields: { id: 'id' },
          columns: [{ name: 'id', type: 'text' }],
          salt: 's',
          signal: AbortSignal.timeout(300),
        }),
      ).rejects.toMatchObject({ code: 'aborted' });
      expect(Date.now() - t0).toBeLessThan(10_000);
      // The session is usable afterwards.
      expect(await ledger.snapshotSize()).toBe(0);
    } finally {
      await ledger.close();
    }
  });

  test('the diff runs with parallel workers (PostgreSQL plans no parallel query for INSERT … SELECT or a full join)', async () => {
    // A database whose planner picks a parallel plan for any table size, and a model slow enough per row
    // (pg_sleep is parallel safe) for a second connection to see the ledger's parallel workers.
    await runSql(db().url, `DROP DATABASE IF EXISTS par`);
    await runSql(db().url, `CREATE DATABASE par`);
    await runSql(
      db().url,
      `ALTER DATABASE par SET parallel_setup_cost = 0; ALTER DATABASE par SET parallel_tuple_cost = 0;
       ALTER DATABASE par SET min_parallel_table_scan_size = 0; ALTER DATABASE par SET max_parallel_workers_per_gather = 2`,
    );
    const url = db().url.replace(/\/postgres$/, '/par');
    await runSql(url, `CREATE TABLE spin AS SELECT 'k' || x AS id, 'free' AS plan FROM generate_series(1, 300) AS x`);
    const spec = toSyncSpec(
      syncSpecFieldsSchema.parse({
        name: 'par',
        model: `select id || pg_sleep(0.004)::text AS id, plan from spin`,
        key: 'id',
        sync: { type: 'users', mode: 'upsert', fields: { plan: 'plan' } },
      }),
    );
    const ledger = await openPostgresLedger({ url, sync: 'par', schema: 'syncline_par' });
    const source = postgresSource({ url });
    const watcher = new pg.Client({ connectionString: url });
    await watcher.connect();
    try {
      const dest = memoryDestination();
      expect((await runSync({ spec, source, destination: dest, ledger })).rows).toMatchObject({ added: 300 });
      await runSql(url, `UPDATE spin SET plan = 'pro' WHERE id = 'k7'`);
      // Workers seen while the ledger's session runs the diff statement itself.
      let workers = 0;
      let watching = true;
      const watch = (async () => {
        while (watching) {
          const r = await watcher.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_stat_activity w JOIN pg_stat_activity l ON w.leader_pid = l.pid
              WHERE w.backend_type = 'parallel worker' AND l.application_name = 'syncline-ledger'
                AND l.query LIKE 'CREATE TEMP TABLE syncline_staged%'`,
          );
          workers = Math.max(workers, Number(r.rows[0]!.n));
          await new Promise((done) => setTimeout(done, 20));
        }
      })();
      const r = await runSync({ spec, source, destination: dest, ledger, dryRun: true });
      watching = false;
      await watch;
      expect(r.rows).toMatchObject({ changed: 1, unchanged: 299 });
      expect(workers).toBeGreaterThan(0);
    } finally {
      await watcher.end();
      await source.close?.();
      await ledger.close();
    }
  });
});
