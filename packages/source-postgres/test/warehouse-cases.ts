import { expect, test } from 'vitest';
import { memoryDestination, openDuckdbLedger, runSync, syncSpecFieldsSchema, toSyncSpec, type Ledger } from '@syncline/core';
import { queryRows, runSql } from '@syncline/test-utils/postgres-server';
import { openPostgresLedger, postgresSource } from '../src/index.js';
import { TYPE_CASES } from './type-cases.js';
import { loadPeople } from './warehouse-under-test.js';

/**
 * Types whose payload text differs between the engines (the values are equal as JSON): DuckDB re-prints
 * JSON values minified (`{"a":1}`), while Postgres keeps `jsonb`'s spaces (`{"a": 1}`) and a `json` value's
 * text as written; Postgres has no built-in function that minifies JSON text.
 */
export const INEXACT_TYPES = new Set(['json', 'jsonb', 'jsonb[]']);

let schemas = 0;
const schema = (): string => `syncline_w${process.pid}_${++schemas}`;

/** Tests of the warehouse ledger beyond the conformance suite, against the database `url()` returns. */
export function warehouseTests(url: () => string): void {
  const typedSpec = (cases: typeof TYPE_CASES) =>
    toSyncSpec(
      syncSpecFieldsSchema.parse({
        name: 'typed',
        model: 'select * from typed',
        key: 'id',
        sync: {
          type: 'users',
          mode: 'upsert',
          fields: Object.fromEntries(cases.map((c) => [`f_${c.type}`, `c${TYPE_CASES.indexOf(c)}`])),
          nulls: 'send',
        },
      }),
    );
  /** The payload text and row hash of row `k1` synced through `ledger`. */
  const synced = async (ledger: Ledger, cases: typeof TYPE_CASES) => {
    const source = postgresSource({ url: url() });
    try {
      const dest = memoryDestination();
      const r = await runSync({ spec: typedSpec(cases), source, destination: dest, ledger });
      expect(r.error).toBeUndefined();
      const change = dest.applied[0]!.changes[0]!;
      return { text: change.payloadJson!, hash: change.hash! };
    } finally {
      await source.close?.();
    }
  };

  test('a row has the same payload text and row hash whichever engine built it (local DuckDB ledger vs warehouse)', async () => {
    await runSql(
      url(),
      `DROP TABLE IF EXISTS typed; CREATE TABLE typed AS SELECT 'k1' AS id, ${TYPE_CASES.map((c, i) => `${c.sql} AS c${i}`).join(', ')}`,
    );
    const exact = TYPE_CASES.filter((c) => !INEXACT_TYPES.has(c.type));
    const both = async (cases: typeof TYPE_CASES) => {
      const local = await openDuckdbLedger({ path: ':memory:' });
      const warehouse = await openPostgresLedger({ url: url(), sync: 'typed', schema: schema() });
      try {
        return { local: await synced(local, cases), warehouse: await synced(warehouse, cases) };
      } finally {
        await local.close();
        await warehouse.close();
      }
    };
    const e = await both(exact);
    expect(e.warehouse.text).toBe(e.local.text);
    expect(e.warehouse.hash).toBe(e.local.hash);
    // The others carry equal JSON values in a different text.
    const all = await both(TYPE_CASES);
    expect(JSON.parse(all.warehouse.text)).toEqual(JSON.parse(all.local.text));
    for (const c of TYPE_CASES.filter((c) => INEXACT_TYPES.has(c.type))) {
      const one = await both([c]);
      expect([c.type, one.warehouse.text === one.local.text]).toEqual([c.type, false]);
    }
  });

  test('a model error names the line and column in the model', async () => {
    const ledger = await openPostgresLedger({ url: url(), sync: 'bad', schema: schema() });
    try {
      await expect(ledger.describe('SELECT 1 AS id,\n  nope AS x')).rejects.toMatchObject({
        code: 'model_failed',
        details: { line: 2, column: 3 },
      });
    } finally {
      await ledger.close();
    }
  });

  test('removed, changed and added keys in one run, and a duplicated known key hidden by a removal, are all found', async () => {
    const people = (ids: string[], plan: (id: string) => string = () => 'free') =>
      ids.map((id) => ({ id, email: `${id}@example.com`, plan: plan(id) }));
    const spec = toSyncSpec(
      syncSpecFieldsSchema.parse({
        name: 'keys',
        model: 'select * from people',
        key: 'id',
        sync: { type: 'users', mode: 'upsert', fields: { email: 'email', plan: 'plan' }, onDelete: 'delete' },
      }),
    );
    const ledger = await openPostgresLedger({ url: url(), sync: 'keys', schema: schema() });
    const source = postgresSource({ url: url() });
    try {
      const dest = memoryDestination();
      await loadPeople(url(), people(['u1', 'u2', 'u3', 'u4', 'u5']));
      expect((await runSync({ spec, source, destination: dest, ledger })).rows).toMatchObject({ added: 5, synced: 5 });
      // u5 left the model and u4 appears twice (unchanged): as many known rows as known keys, so only the
      // keys themselves (not their count) show the duplicate and the removal.
      await loadPeople(url(), people(['u1', 'u2', 'u3', 'u4', 'u4']));
      const dup = await runSync({ spec, source, destination: dest, ledger, dryRun: true });
      expect(dup.error).toMatchObject({ code: 'duplicate_keys', details: { samples: [{ key: 'u4', count: 2 }] } });
      // A removal, a change and an addition in one run.
      await loadPeople(
        url(),
        people(['u1', 'u2', 'u3', 'u6'], (id) => (id === 'u2' ? 'pro' : 'free')),
      );
      const r = await runSync({ spec, source, destination: dest, ledger, allowMassDelete: true });
      expect(r.error).toBeUndefined();
      expect(r.rows).toMatchObject({ added: 1, changed: 1, removed: 2, unchanged: 2 });
      expect([...dest.records.keys()].sort()).toEqual(['u1', 'u2', 'u3', 'u6']);
      expect(await ledger.snapshotSize()).toBe(4);
      // Nothing changed: nothing staged, nothing removed.
      expect((await runSync({ spec, source, destination: dest, ledger })).rows).toMatchObject({ unchanged: 4, removed: 0, added: 0 });
    } finally {
      await source.close?.();
      await ledger.close();
    }
  });

  test("a dry run on a fresh schema creates nothing and plans every row as an add; sizeBytes is the tables' size in Postgres", async () => {
    const spec = toSyncSpec(
      syncSpecFieldsSchema.parse({
        name: 'fresh',
        model: 'select * from people',
        key: 'id',
        sync: { type: 'users', mode: 'upsert', fields: { email: 'email', plan: 'plan' } },
      }),
    );
    await loadPeople(url(), [
      { id: 'a', email: 'a@example.com', plan: 'free' },
      { id: 'b', email: 'b@example.com', plan: 'pro' },
    ]);
    const fresh = schema();
    const relations = async () =>
      (
        await queryRows<{ n: string }>(
          url(),
          `SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'`,
        )
      )[0]!.n;
    const before = await relations();
    const source = postgresSource({ url: url() });
    try {
      const dry = await openPostgresLedger({ url: url(), sync: 'fresh', schema: fresh, create: false });
      expect([dry.ephemeral, dry.sizeBytes()]).toEqual([true, 0]);
      const plan = await runSync({ spec, source, destination: memoryDestination(), ledger: dry, dryRun: true });
      await dry.close();
      expect(plan.error).toBeUndefined();
      expect(plan.rows).toMatchObject({ total: 2, added: 2, changed: 0, removed: 0 });
      expect(await queryRows(url(), `SELECT 1 FROM pg_namespace WHERE nspname = $1`, [fresh])).toEqual([]);
      expect(await relations()).toBe(before);

      const ledger = await openPostgresLedger({ url: url(), sync: 'fresh', schema: fresh });
      expect((await runSync({ spec, source, destination: memoryDestination(), ledger })).rows).toMatchObject({ synced: 2 });
      await ledger.close();
      // Measured when a ledger opens: rows, indexes and TOAST of the schema's ledger tables.
      const again = await openPostgresLedger({ url: url(), sync: 'fresh', schema: fresh, create: false });
      const size = Number(
        (
          await queryRows<{ n: string }>(
            url(),
            `SELECT sum(pg_total_relation_size(c.oid)) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
            [fresh],
          )
        )[0]!.n,
      );
      expect(again.ephemeral).toBe(false);
      expect(again.sizeBytes()).toBe(size);
      expect(size).toBeGreaterThan(0);
      await again.close();
    } finally {
      await source.close?.();
    }
  });
}
