import { openDuckdbLedger, runSync, syncSpecFieldsSchema, toSyncSpec, type Destination, type Source } from '@syncline/core';
import type { RunningEmulator } from '@syncline/knock-emulator';
import { describe, expect, test } from 'vitest';
import { destination, getUser, useEmulator } from './support.js';

// Issue 10: rows the destination's `validSql` clears in DuckDB (the whole model on a first sync, the changed
// rows after it) are sent without being validated, or even parsed, in JavaScript.

interface Person {
  id: string;
  email: string | null;
  phone: string | null;
  plan: string;
}
function tableSource(rows: Person[]): Source {
  return {
    name: 'inline',
    describe: async () => [],
    read: async function* () {},
    async attach(conn) {
      await conn.run(`CREATE OR REPLACE TEMP TABLE people (id VARCHAR, email VARCHAR, phone VARCHAR, plan VARCHAR)`);
      if (rows.length === 0) return;
      const ap = await conn.createAppender('people', 'main', 'temp');
      for (const r of rows) {
        for (const v of [r.id, r.email, r.phone, r.plan]) v === null ? ap.appendNull() : ap.appendVarchar(v);
        ap.endRow();
      }
      ap.closeSync();
    },
  };
}

describe('a run with the real Knock destination', () => {
  let emulator: RunningEmulator;
  useEmulator((e) => (emulator = e));

  test('validates in JavaScript only the rows validSql does not clear, and sends every valid row', async () => {
    await using knock = destination(emulator, { bulk: { pollIntervalMs: 20, maxPollIntervalMs: 50, singleOnlySeconds: 0 } });
    const validated: string[] = [];
    const counting = Object.create(knock, {
      validate: {
        value: (row: Parameters<Destination['validate']>[0], target: Parameters<Destination['validate']>[1]) => {
          validated.push(row.key);
          return knock.validate(row, target);
        },
      },
    }) as Destination;
    const spec = toSyncSpec(
      syncSpecFieldsSchema.parse({
        name: 'people',
        model: 'select * from people',
        key: 'id',
        sync: { type: 'users', mode: 'upsert', fields: { email: 'email', phone_number: 'phone', plan: 'plan' } },
      }),
      knock,
    );
    // Every 9th row has a bad phone (invalid), every 7th an email only JavaScript accepts (`ü@x.de`).
    const model: Person[] = Array.from({ length: 120 }, (_, i) => ({
      id: `u${i}`,
      email: i % 7 === 2 ? `ü${i}@example.de` : `u${i}@example.com`,
      phone: i % 9 === 4 ? '12345' : '+14155550100',
      plan: 'free',
    }));
    const unsure = (rows: Person[]) => rows.filter((_, i) => i % 7 === 2 || i % 9 === 4).map((r) => r.id);
    await using ledger = await openDuckdbLedger({ path: ':memory:' });
    const first = await runSync({ spec, source: tableSource(model), destination: counting, ledger, chunkSize: 25 });
    expect(first.status, first.error?.message).toBe('succeeded');
    expect(validated.sort()).toEqual(unsure(model).sort());
    // What JavaScript decides of the rows SQL did not clear.
    const refused = (rows: Person[]) =>
      rows.filter(
        (r) => knock.validate({ key: r.id, payload: { email: r.email, phone_number: r.phone, plan: r.plan } }, spec.target).length,
      );
    const invalid = refused(model).length;
    expect(invalid).toBeGreaterThanOrEqual(model.filter((_, i) => i % 9 === 4).length);
    expect(first.rows).toMatchObject({ added: 120 - invalid, invalid, synced: 120 - invalid });
    expect(await getUser(emulator, 'u1')).toMatchObject({ email: 'u1@example.com', phone_number: '+14155550100' });
    expect(await getUser(emulator, 'u4')).toBeUndefined();

    // An incremental run: the changed rows (and the invalid ones, again) get a verdict in the diff.
    validated.length = 0;
    const next = model.map((r, i) => (i % 3 === 0 ? { ...r, plan: 'pro' } : r));
    const second = await runSync({ spec, source: tableSource(next), destination: counting, ledger, chunkSize: 25 });
    expect(second.status, second.error?.message).toBe('succeeded');
    const refusedKeys = new Set(refused(model).map((r) => r.id));
    const changed = next.filter((r, i) => i % 3 === 0 || refusedKeys.has(r.id));
    expect(validated.sort()).toEqual(
      changed
        .filter((r) => unsure(next).includes(r.id))
        .map((r) => r.id)
        .sort(),
    );
    const changedValid = next.filter((_, i) => i % 3 === 0).filter((r) => !refused([r]).length).length;
    expect(second.rows).toMatchObject({ changed: changedValid, invalid, synced: changedValid });
    expect(await getUser(emulator, 'u3')).toMatchObject({ plan: 'pro' });
    expect(await getUser(emulator, 'u1')).toMatchObject({ plan: 'free' });
  });
});
