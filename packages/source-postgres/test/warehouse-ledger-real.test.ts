import { describe, expect, test } from 'vitest';
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
});
