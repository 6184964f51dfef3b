import { describe, expect, test } from 'vitest';
import {
  memoryDestination,
  payloadProjection,
  runSync,
  syncSpecFieldsSchema,
  toSyncSpec,
  type DuckdbLedger,
  type StageOptions,
} from '../src/index.js';
import { tableSource, trackLedgers, type PersonRow } from './model-source.js';

const open = trackLedgers();
const FIELDS = { email: 'email', plan: 'plan' };
/** What the tests' destination certainly accepts: an email with an `@` (anything else is checked row by row). */
const VALID_SQL = `"email" LIKE '%@%'`;

/**
 * Stages `modelSql` as the first dry run of a summarised plan does (no digests; payloads of the first `keepFirst` rows
 * and of unsure rows only).
 */
async function stageFirst(ledger: DuckdbLedger, modelSql: string, keepFirst = 0): Promise<StageOptions> {
  const columns = await ledger.describe(modelSql);
  const options: StageOptions = {
    modelSql,
    key: 'id',
    projection: payloadProjection(FIELDS, columns),
    salt: 'salt',
    countOnly: true,
    validSql: VALID_SQL,
    unsurePayloadsAfter: keepFirst,
  };
  await ledger.stage(options);
  return options;
}

const rows: PersonRow[] = Array.from({ length: 40 }, (_, i) => ({
  id: `u${String(i).padStart(2, '0')}`,
  // Every fifth row has no `@`, every seventh no email: those are the rows `VALID_SQL` does not clear.
  email: i % 7 === 3 ? null : i % 5 === 0 ? `user${i}.example.com` : `user${i}@example.com`,
  plan: i % 2 ? 'pro' : 'free',
}));
const payloadOf = (r: PersonRow) => ({ email: r.email, plan: r.plan });
const unsure = rows.filter((r) => r.email === null || !r.email.includes('@'));

describe('the first stage of a summarised dry run', () => {
  test('keeps the payload of only the rows validSql does not clear; the preview and a diff of every change still get each payload', async () => {
    const ledger = await open();
    await tableSource(rows).attach!(ledger.connection);
    await stageFirst(ledger, 'SELECT * FROM people');
    const kept = await ledger.connection.runAndReadAll(`SELECT k FROM temp.staged WHERE payload IS NOT NULL ORDER BY k`);
    expect((kept.getRowObjectsJson() as { k: string }[]).map((r) => r.k)).toEqual(unsure.map((r) => r.id));
    expect(await ledger.summary()).toEqual({ add: rows.length, change: 0, remove: 0, unsure: unsure.length });

    // The preview: the first keys in order, each with the payload the projection builds for its row.
    const preview = await ledger.previewChanges(12);
    expect(preview.map((p) => p.key)).toEqual(rows.slice(0, 12).map((r) => r.id));
    for (const p of preview) expect(JSON.parse(p.payload!)).toEqual(payloadOf(rows.find((r) => r.id === p.key)!));

    // A small dry run plans row by row: the diff rebuilds every payload from the model.
    expect(await ledger.diff({ before: false })).toEqual({ add: rows.length, change: 0, remove: 0 });
    const changes = await ledger.readChanges(1, rows.length + 1);
    expect(changes.map((c) => [c.key, c.action, JSON.parse(c.payload!)])).toEqual(rows.map((r) => [r.id, 'add', payloadOf(r)]));
  });

  test('still finds duplicate keys, with and without a blank key beside them', async () => {
    const dup: PersonRow = { id: 'u01', email: 'again@example.com' };
    for (const [model, nullKeys] of [
      [[...rows.slice(0, 5), dup], 0],
      [[...rows.slice(0, 5), dup, { id: '  ', email: 'blank@example.com' }], 1],
    ] as const) {
      const ledger = await open();
      await tableSource(model).attach!(ledger.connection);
      await stageFirst(ledger, 'SELECT * FROM people');
      expect(await ledger.keyHealth()).toEqual({ nullKeys, duplicateKeys: 1, duplicateSamples: [{ key: 'u01', count: 2 }] });
    }
  });

  test('refuses to read every change when a second read of the model returns other keys, and previews only the rows it finds', async () => {
    const ledger = await open();
    // New keys on every read of the model.
    await stageFirst(ledger, `SELECT 'k' || (random() * 1e15)::BIGINT AS id, 'a@b.co' AS email, 'pro' AS plan FROM range(6)`);
    expect(await ledger.previewChanges(3)).toEqual([]);
    await expect(ledger.diff({ before: false })).rejects.toMatchObject({
      code: 'model_failed',
      message: expect.stringMatching(/read a second time \(6 keys were gone\)/),
    });
  });

  test('keeps every payload of the first rows: a model no larger than that is read once, whatever a second read would return', async () => {
    const ledger = await open();
    await tableSource(rows).attach!(ledger.connection);
    await stageFirst(ledger, 'SELECT * FROM people', 10);
    const kept = await ledger.connection.runAndReadAll(`SELECT k FROM temp.staged WHERE payload IS NOT NULL ORDER BY k`);
    const first10 = rows.slice(0, 10);
    expect((kept.getRowObjectsJson() as { k: string }[]).map((r) => r.k)).toEqual(
      rows.filter((r) => first10.includes(r) || unsure.includes(r)).map((r) => r.id),
    );

    // Six rows whose keys differ on every read: kept whole (6 ≤ 10), so reading every change needs no second read.
    const small = await open();
    await stageFirst(small, `SELECT 'k' || (random() * 1e15)::BIGINT AS id, 'a@b.co' AS email, 'pro' AS plan FROM range(6)`, 10);
    expect(await small.previewChanges(3)).toHaveLength(3);
    expect(await small.diff({ before: false })).toEqual({ add: 6, change: 0, remove: 0 });
    const changes = await small.readChanges(1, 7);
    expect(changes.map((c) => JSON.parse(c.payload!))).toEqual(Array.from({ length: 6 }, () => ({ email: 'a@b.co', plan: 'pro' })));
  });

  test('after a first run, validSql is evaluated on the changed rows only: the unsure ones are the changed rows it does not clear', async () => {
    const ledger = await open();
    const spec = toSyncSpec(
      syncSpecFieldsSchema.parse({ name: 'people', model: 'SELECT * FROM people', key: 'id', sync: { type: 'users', fields: FIELDS } }),
    );
    const before = rows.filter((r) => r.email?.includes('@'));
    expect(await runSync({ spec, source: tableSource(before), destination: memoryDestination(), ledger })).toMatchObject({
      status: 'succeeded',
    });
    // Every third row changes its plan; the rows without a valid email are new.
    const now = rows.map((r, i) => (i % 3 === 0 ? { ...r, plan: 'team' } : r));
    await tableSource(now).attach!(ledger.connection);
    const columns = await ledger.describe(spec.model);
    await ledger.stage({
      modelSql: spec.model,
      key: 'id',
      projection: payloadProjection(FIELDS, columns),
      // The run's own salt (the config hash of its resolved target).
      salt: (await ledger.meta('config_hash'))!,
      validSql: VALID_SQL,
    });
    const changed = now.filter((r, i) => i % 3 === 0 || !before.some((b) => b.id === r.id));
    const summary = await ledger.summary();
    expect(summary.add + summary.change).toBe(changed.length);
    expect(summary.unsure).toBe(unsure.length);
  });
});
