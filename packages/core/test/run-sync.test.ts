import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { memoryDestination, openDuckdbLedger, runSync, toSyncSpec, syncSpecFieldsSchema } from '../src/index.js';
import { tableSource, trackLedgers } from './model-source.js';

const people = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `u${i}`, email: `u${i}@example.com`, plan: 'free' }));
const spec = (over: Record<string, unknown> = {}) =>
  toSyncSpec(
    syncSpecFieldsSchema.parse({
      name: 't',
      model: 'select * from people',
      key: 'id',
      sync: { type: 'users', mode: 'upsert', fields: { email: 'email', plan: 'plan' }, onDelete: 'nothing', ...over },
    }),
  );

const ledger = trackLedgers();

describe('runSync', () => {
  test('sends every row on the first run and nothing on an unchanged second run', async () => {
    const l = await ledger();
    const dest = memoryDestination();
    const first = await runSync({ spec: spec(), source: tableSource(people(250)), destination: dest, ledger: l });
    expect(first.status).toBe('succeeded');
    expect(first.rows).toMatchObject({ added: 250, changed: 0, synced: 250, unchanged: 0 });
    expect(dest.records.get('u7')).toEqual({ email: 'u7@example.com', plan: 'free' });
    const second = await runSync({ spec: spec(), source: tableSource(people(250)), destination: dest, ledger: l });
    expect(second.rows).toMatchObject({ added: 0, changed: 0, removed: 0, unchanged: 250, synced: 0 });
    expect(second.requests).toBe(0);
    expect(dest.applied).toHaveLength(3);
  });

  test('sends only changed and removed rows, deleting only when onDelete is delete', async () => {
    for (const onDelete of ['nothing', 'delete'] as const) {
      const l = await ledger();
      const dest = memoryDestination();
      await runSync({ spec: spec({ onDelete }), source: tableSource(people(20)), destination: dest, ledger: l });
      const next = people(20).filter((p) => p.id !== 'u3' && p.id !== 'u4');
      next[0]!.plan = 'pro';
      const r = await runSync({ spec: spec({ onDelete }), source: tableSource(next), destination: dest, ledger: l });
      // Under onDelete: nothing the two leavers are kept at the destination: counted as kept, never removed.
      expect(r.rows).toMatchObject({
        changed: 1,
        unchanged: 17,
        ...(onDelete === 'delete' ? { removed: 2, kept: 0 } : { removed: 0, kept: 2 }),
      });
      const sent = dest.applied.slice(1).flatMap((op) => op.changes.map((c) => `${c.action}:${c.key}`));
      expect(sent.sort()).toEqual(onDelete === 'delete' ? ['change:u0', 'remove:u3', 'remove:u4'] : ['change:u0']);
      expect(dest.records.has('u3')).toBe(onDelete === 'nothing');
      expect(await l.snapshotRow('u3')).toBeNull();
    }
  });

  test('ignores changes to unmapped columns', async () => {
    const l = await ledger();
    const dest = memoryDestination();
    await runSync({ spec: spec(), source: tableSource(people(5)), destination: dest, ledger: l });
    const r = await runSync({
      spec: spec(),
      source: tableSource(people(5).map((p) => ({ ...p, note: 'edited' }))),
      destination: dest,
      ledger: l,
    });
    expect(r.rows.unchanged).toBe(5);
    expect(r.requests).toBe(0);
  });

  test.each([
    [
      'null keys',
      [
        { id: null, email: 'a@x.io' },
        { id: 'b', email: 'b@x.io' },
      ],
      'null_keys',
      /1 rows have a null or empty key "id"/,
    ],
    [
      'duplicate keys',
      [
        { id: 'a', email: 'a@x.io' },
        { id: 'a', email: 'b@x.io' },
        { id: 'c', email: 'c@x.io' },
      ],
      'duplicate_keys',
      /1 keys .* \(e\.g\. a ×2\)/,
    ],
  ])('refuses %s before sending anything', async (_n, rows, code, message) => {
    const l = await ledger();
    const dest = memoryDestination();
    const r = await runSync({ spec: spec(), source: tableSource(rows), destination: dest, ledger: l });
    expect(r.status).toBe('failed');
    expect(r.error?.code).toBe(code);
    expect(r.error?.message).toMatch(message);
    expect(dest.applied).toHaveLength(0);
  });

  test('names a mapped column that is not in the model, with a suggestion', async () => {
    const l = await ledger();
    const r = await runSync({
      spec: spec({ fields: { email: 'emial' } }),
      source: tableSource(people(2)),
      destination: memoryDestination(),
      ledger: l,
    });
    expect(r.error).toMatchObject({
      code: 'mapping_invalid',
      message: 'sync.fields.email: column "emial" not in model (did you mean "email"?)',
    });
  });

  test('fails a model query that errors and never diffs it', async () => {
    const l = await ledger();
    const dest = memoryDestination();
    await runSync({ spec: spec({ onDelete: 'delete' }), source: tableSource(people(3)), destination: dest, ledger: l });
    const bad = {
      ...spec({ onDelete: 'delete' }),
      model: "select id, case when id = 'u2' then error('boom') else email end as email, plan from people",
    };
    const r = await runSync({ spec: bad, source: tableSource(people(3)), destination: dest, ledger: l });
    expect(r.error?.code).toBe('model_failed');
    expect(await l.snapshotSize()).toBe(3);
  });

  test('resends every row after a mapping change and with fullResync, and announces it', async () => {
    const l = await ledger();
    const dest = memoryDestination();
    await runSync({ spec: spec(), source: tableSource(people(4)), destination: dest, ledger: l });
    const changed = await runSync({
      spec: spec({ fields: { email: 'email' } }),
      source: tableSource(people(4)),
      destination: dest,
      ledger: l,
    });
    expect(changed.mappingChanged).toBe(true);
    expect(changed.rows.changed).toBe(4);
    const forced = await runSync({
      spec: spec({ fields: { email: 'email' } }),
      source: tableSource(people(4)),
      destination: dest,
      ledger: l,
      fullResync: true,
    });
    expect(forced.mappingChanged).toBe(false);
    expect(forced.rows.changed).toBe(4);
  });

  test('a dry run previews field-level changes and changes no state', async () => {
    const l = await ledger();
    const dest = memoryDestination();
    await runSync({ spec: spec(), source: tableSource(people(3)), destination: dest, ledger: l });
    const next = people(3);
    next[1]!.plan = 'pro';
    const plan = await runSync({ spec: spec(), source: tableSource(next), destination: dest, ledger: l, dryRun: true });
    expect(plan.preview).toEqual([
      // The payload the run would send rides along (for example calls built without reading the model again).
      {
        action: 'change',
        key: 'u1',
        fields: [{ field: 'plan', before: 'free', after: 'pro' }],
        unchangedFields: 1,
        payload: { email: 'u1@example.com', plan: 'pro' },
      },
    ]);
    expect(plan.endpoints).toEqual([{ endpoint: 'memory.write', tier: undefined, calls: 1, rows: 1 }]);
    expect(dest.applied).toHaveLength(1);
    expect((await l.snapshotRow('u1'))?.payload).toContain('"free"');
    expect(await l.runs()).toHaveLength(1);
  });

  test('`before` reaches planners that declare it; a short preview fetches its own, equal to the joined one', async () => {
    const l = await ledger();
    const seed = await runSync({
      spec: spec({ onDelete: 'delete' }),
      source: tableSource(people(40)),
      destination: memoryDestination(),
      ledger: l,
    });
    expect(seed.rows.synced).toBe(40);
    // Adds, changes and removes spread over several read blocks (chunkSize 2 → blocks of 20 changes).
    const next = [...people(40).filter((p) => !['u3', 'u17', 'u31'].includes(p.id)), ...people(45).slice(40)];
    for (const i of [0, 5, 11, 22, 29, 36]) next.find((p) => p.id === `u${i}`)!.plan = 'pro';
    const opts = { spec: spec({ onDelete: 'delete' }), source: tableSource(next), ledger: l, dryRun: true, chunkSize: 2 } as const;
    const fetched = await runSync({ ...opts, destination: memoryDestination(), previewLimit: 100 });
    const joined = await runSync({ ...opts, destination: memoryDestination(), previewLimit: 5000 });
    expect(fetched.preview).toHaveLength(14);
    expect(fetched.preview).toEqual(joined.preview);
    expect(fetched.preview.find((p) => p.key === 'u22')).toEqual({
      action: 'change',
      key: 'u22',
      fields: [{ field: 'plan', before: 'free', after: 'pro' }],
      unchangedFields: 1,
      payload: { email: 'u22@example.com', plan: 'pro' },
    });
    // A removal is one line (the record is deleted), never drawn field by field as values going to null.
    expect(fetched.preview.find((p) => p.key === 'u17')).toEqual({ action: 'remove', key: 'u17', fields: [], unchangedFields: 0 });

    // A real run: a destination that reads `before` gets it on every change and removal; one that does not gets none.
    for (const declares of [true, false]) {
      const dest = memoryDestination();
      const planned: { key: string; before: unknown }[] = [];
      const spy = {
        ...dest,
        ...(declares ? { needsBefore: () => true } : {}),
        plan: (changes: Parameters<typeof dest.plan>[0], ctx: Parameters<typeof dest.plan>[1]) => {
          for (const c of changes) planned.push({ key: c.key, before: c.before ?? null });
          return dest.plan(changes, ctx);
        },
      };
      const copy = await ledger();
      await runSync({
        spec: spec({ onDelete: 'delete' }),
        source: tableSource(people(40)),
        destination: memoryDestination(),
        ledger: copy,
      });
      planned.length = 0;
      const r = await runSync({
        spec: spec({ onDelete: 'delete' }),
        source: tableSource(next),
        destination: spy,
        ledger: copy,
        chunkSize: 2,
      });
      expect(r.rows).toMatchObject({ added: 5, changed: 6, removed: 3, failed: 0 });
      expect(planned).toHaveLength(14);
      const withBefore = planned.filter((p) => p.before !== null).map((p) => p.key);
      expect(withBefore.sort()).toEqual(declares ? ['u0', 'u11', 'u17', 'u22', 'u29', 'u3', 'u31', 'u36', 'u5'] : []);
      if (declares) expect(planned.find((p) => p.key === 'u5')?.before).toEqual({ email: 'u5@example.com', plan: 'free' });
    }
  });

  test('a second ledger open of the same sync fails fast with a clear message, in this process or another', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'syncline-')), 'sync.duckdb');
    const first = await ledger(file);
    await expect(openDuckdbLedger({ path: file })).rejects.toMatchObject({
      code: 'locked',
      message: expect.stringMatching(/another run of this sync is in progress/),
    });
    const child = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
      import { DuckDBInstance } from '@duckdb/node-api';
      try { await DuckDBInstance.create(${JSON.stringify(file)}); console.log('opened'); } catch (e) { console.log(/lock/i.test(e.message) ? 'locked' : e.message); }`,
      ],
      { cwd: import.meta.dirname, encoding: 'utf8' },
    );
    expect(child.stdout.trim()).toBe('locked');
    await first.close();
    await (await ledger(file)).close();
  });
});
