import fc from 'fast-check';
import { expect, test } from 'vitest';
import { memoryDestination, runSync, syncSpecFieldsSchema, toSyncSpec, type MemoryDestination } from '@syncline/core';
import { queryRows, runSql } from '@syncline/test-utils/postgres-server';
import { openPostgresLedger, postgresSource } from '../src/index.js';

/**
 * Values per column, as SQL literals: NULL and '' side by side, texts the row syntax must quote, and values
 * equal to each other (so a hash of the value would miss them) that print differently (1.0 / 1.00, 0 / -0,
 * jsonb 1.0 / 1.00), plus two spellings of one instant (same text: no change).
 */
const POOLS: Record<string, { type: string; values: string[] }> = {
  c_text: { type: 'text', values: [`NULL`, `''`, `'a'`, `'a,b'`, `'(x)'`, `'"q"'`, `'a\\b'`, `' '`, `'NULL'`, `'é'`, `'()'`] },
  c_int: { type: 'integer', values: [`NULL`, `0`, `1`, `-1`, `2147483647`] },
  c_num: { type: 'numeric', values: [`NULL`, `1`, `1.0`, `1.00`, `0`, `-0.0`, `1e3`] },
  c_float: { type: 'double precision', values: [`NULL`, `'0'`, `'-0'`, `'0.1'`, `'1e300'`, `'NaN'`, `'Infinity'`] },
  c_jsonb: { type: 'jsonb', values: [`NULL`, `'{"a":1}'`, `'{"a":1.0}'`, `'{"a":1.00}'`, `'[]'`, `'null'`, `'"x"'`] },
  c_json: { type: 'json', values: [`NULL`, `'{"a":1}'`, `'{"a": 1}'`, `'"(a,b)"'`] },
  c_ts: {
    type: 'timestamptz',
    values: [`NULL`, `'2024-01-01 00:00:00+00'`, `'2024-01-01 02:00:00+02'`, `'2024-01-01 00:00:00.5+00'`],
  },
  c_arr: { type: 'text[]', values: [`NULL`, `'{}'`, `'{a}'`, `'{"a,b"}'`, `'{NULL}'`, `'{""}'`] },
  c_bool: { type: 'boolean', values: [`NULL`, `true`, `false`] },
};
const COLUMNS = Object.keys(POOLS);
/** Column type changes: one that changes the payload (integer → bigint prints "1"), one that keeps it. */
const RETYPES = [`ALTER TABLE fp_model ALTER COLUMN c_int TYPE bigint`, `ALTER TABLE fp_model ALTER COLUMN c_text TYPE varchar(20)`];
const UNDO_RETYPES = `ALTER TABLE fp_model ALTER COLUMN c_int TYPE integer; ALTER TABLE fp_model ALTER COLUMN c_text TYPE text`;

type Row = number[];
const rowArb = fc.tuple(...COLUMNS.map((c) => fc.nat({ max: POOLS[c]!.values.length - 1 })));
/** One round of edits before a run: set cells, add and remove rows, or change a column's type. */
const roundArb = fc.record({
  sets: fc.array(fc.tuple(fc.nat(), fc.nat({ max: COLUMNS.length - 1 }), fc.nat()), { maxLength: 6 }),
  adds: fc.array(rowArb, { maxLength: 2 }),
  removes: fc.array(fc.nat(), { maxLength: 1 }),
  retype: fc.option(fc.nat({ max: RETYPES.length - 1 }), { freq: 4 }),
});

let schemas = 0;
const schema = (): string => `syncline_fp${process.pid}_${++schemas}`;

/**
 * The fingerprint (a cheap hash of the mapped values' text beside each snapshot row) must never call a
 * changed row unchanged: after random edits of values of many types and column type changes, an
 * incremental run must send exactly the keys whose payload text a from-scratch first sync gives differently.
 */
export function fingerprintTests(url: () => string): void {
  const spec = toSyncSpec(
    syncSpecFieldsSchema.parse({
      name: 'fp',
      model: 'select * from fp_model',
      key: 'id',
      sync: {
        type: 'users',
        mode: 'upsert',
        fields: Object.fromEntries(COLUMNS.map((c) => [`f_${c}`, c])),
        nulls: 'send',
        onDelete: 'delete',
      },
    }),
  );
  const load = async (rows: Map<string, Row>): Promise<void> => {
    const values = [...rows].map(
      ([id, r]) => `('${id}', ${r.map((v, i) => `${POOLS[COLUMNS[i]!]!.values[v]}::${POOLS[COLUMNS[i]!]!.type}`).join(', ')})`,
    );
    await runSql(url(), `TRUNCATE fp_model; ${values.length ? `INSERT INTO fp_model VALUES ${values.join(', ')}` : ''}`);
  };
  /** Runs the sync; returns the payload text each sent key got (removals as null). */
  const run = async (sync: string, schemaName: string, destination: MemoryDestination): Promise<Map<string, string | null>> => {
    const ledger = await openPostgresLedger({ url: url(), sync, schema: schemaName });
    const source = postgresSource({ url: url() });
    try {
      const from = destination.applied.length;
      const r = await runSync({ spec, source, destination, ledger, allowMassDelete: true });
      expect(r.error).toBeUndefined();
      const sent = new Map<string, string | null>();
      for (const op of destination.applied.slice(from))
        for (const c of op.changes) sent.set(c.key, c.action === 'remove' ? null : c.payloadJson!);
      return sent;
    } finally {
      await source.close?.();
      await ledger.close();
    }
  };

  test('property: after random edits of many types, a run sends exactly the rows whose payload changed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(rowArb, { minLength: 1, maxLength: 8 }),
        fc.array(roundArb, { minLength: 1, maxLength: 4 }),
        async (initial, rounds) => {
          await runSql(
            url(),
            `DROP TABLE IF EXISTS fp_model; CREATE TABLE fp_model (id text, ${COLUMNS.map((c) => `${c} ${POOLS[c]!.type}`).join(', ')})`,
          );
          let next = 0;
          const rows = new Map<string, Row>(initial.map((r) => [`k${next++}`, [...r]]));
          await load(rows);
          const incremental = schema();
          const dest = memoryDestination();
          // What the destination holds: each key's last payload text.
          const held = new Map(await run('fp', incremental, dest));
          for (const round of rounds) {
            const ids = [...rows.keys()];
            for (const [row, col, v] of round.sets)
              if (ids.length) rows.get(ids[row % ids.length]!)![col] = v % POOLS[COLUMNS[col]!]!.values.length;
            for (const r of round.removes) if (ids.length) rows.delete(ids[r % ids.length]!);
            for (const r of round.adds) rows.set(`k${next++}`, [...r]);
            await load(rows);
            if (round.retype !== null) await runSql(url(), RETYPES[round.retype]!);
            // The oracle: a first sync into a fresh ledger builds every payload from scratch.
            const truth = await run('fp', schema(), memoryDestination());
            const expected = new Map<string, string | null>();
            for (const [k, text] of truth) if (held.get(k) !== text) expected.set(k, text);
            for (const k of held.keys()) if (!truth.has(k)) expected.set(k, null);
            const sent = await run('fp', incremental, dest);
            expect(Object.fromEntries(sent)).toEqual(Object.fromEntries(expected));
            for (const [k, text] of sent) text === null ? held.delete(k) : held.set(k, text);
            if (round.retype !== null) await runSql(url(), UNDO_RETYPES);
          }
        },
      ),
      { numRuns: 6 },
    );
  }, 240_000);

  test('a ledger made before fingerprints is compared by hash, gets the column, and stores them on its next run', async () => {
    await runSql(
      url(),
      `DROP TABLE IF EXISTS fp_model; CREATE TABLE fp_model (id text, ${COLUMNS.map((c) => `${c} ${POOLS[c]!.type}`).join(', ')})`,
    );
    await load(
      new Map([
        ['a', [1, 1, 1, 1, 1, 1, 1, 1, 1]],
        ['b', [2, 2, 2, 2, 2, 2, 2, 2, 2]],
        ['c', [0, 0, 0, 0, 0, 0, 0, 0, 0]],
      ]),
    );
    const old = schema();
    const dest = memoryDestination();
    expect((await run('fp', old, dest)).size).toBe(3);
    // The ledger as the version before fingerprints left it.
    await runSql(url(), `ALTER TABLE ${old}.snapshot DROP COLUMN f`);
    const fingerprinted = async () =>
      Number((await queryRows<{ n: string }>(url(), `SELECT count(f) AS n FROM ${old}.snapshot`).catch(() => [{ n: '-1' }]))[0]!.n);
    // A dry run (creates nothing) plans against it by hash alone.
    const dry = await openPostgresLedger({ url: url(), sync: 'fp', schema: old, create: false });
    const source = postgresSource({ url: url() });
    try {
      await runSql(url(), `UPDATE fp_model SET c_num = 1.00 WHERE id = 'a'`);
      const plan = await runSync({ spec, source, destination: memoryDestination(), ledger: dry, dryRun: true });
      expect(plan.rows).toMatchObject({ changed: 1, unchanged: 2, added: 0 });
    } finally {
      await dry.close();
      await source.close?.();
    }
    expect(await fingerprinted()).toBe(-1);
    // A run adds the column, sends only the change, and stores every row's fingerprint.
    expect(Object.fromEntries(await run('fp', old, dest))).toEqual({ a: expect.stringContaining('"f_c_num":"1.00"') });
    expect(await fingerprinted()).toBe(3);
    // Then a changed value is still found by its fingerprint, and nothing else is sent.
    await runSql(url(), `UPDATE fp_model SET c_float = '-0' WHERE id = 'c'`);
    expect([...(await run('fp', old, dest)).keys()]).toEqual(['c']);
    expect((await run('fp', old, dest)).size).toBe(0);
  });
}
