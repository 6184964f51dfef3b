import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, test } from 'vitest';
import { configHash, memoryDestination, runSync, syncSpecFieldsSchema, toSyncSpec } from '../src/index.js';
import { tableSource, trackLedgers } from './model-source.js';

const spec = (over: Record<string, unknown> = {}) =>
  toSyncSpec(
    syncSpecFieldsSchema.parse({
      name: 's',
      model: 'select * from people',
      key: 'id',
      sync: { type: 'users', mode: 'upsert', fields: { email: 'email', plan: 'plan' }, onDelete: 'delete', ...over },
    }),
  );
const people = (n: number, plan = 'free') => Array.from({ length: n }, (_, i) => ({ id: `u${i}`, email: `u${i}@example.com`, plan }));

const open = trackLedgers();

describe('run safety', () => {
  test('an abort while the model query runs interrupts it, diffs nothing and sends nothing', async () => {
    const l = await open();
    const dest = memoryDestination();
    await runSync({ spec: spec(), source: tableSource(people(3)), destination: dest, ledger: l });
    // A model slow enough to be interrupted part way; had it been diffed, all 3 synced rows would look removed.
    const slow = {
      ...spec(),
      model: `select 'x' || i as id, md5(md5(md5(i::VARCHAR))) as email, 'free' as plan from range(2000000000) t(i)`,
    };
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('Ctrl-C')), 150);
    const t0 = performance.now();
    const r = await runSync({
      spec: slow,
      source: tableSource(people(3)),
      destination: dest,
      ledger: l,
      signal: controller.signal,
      allowMassDelete: true,
    });
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(r.status).toBe('aborted');
    expect(r.error?.code).toBe('aborted');
    expect(r.phases.map((p) => p.name)).toEqual(['query']);
    expect(dest.applied).toHaveLength(1);
    expect(await l.snapshotSize()).toBe(3);
    // The connection is usable again: the next run works and finds nothing to do.
    const next = await runSync({ spec: spec(), source: tableSource(people(3)), destination: dest, ledger: l });
    expect(next.rows).toMatchObject({ unchanged: 3, synced: 0 });
  });

  test('a run aborted before it starts stages nothing', async () => {
    const l = await open();
    const r = await runSync({
      spec: spec(),
      source: tableSource(people(3)),
      destination: memoryDestination(),
      ledger: l,
      signal: AbortSignal.abort(),
    });
    expect(r).toMatchObject({ status: 'aborted', error: { code: 'aborted' }, phases: [] });
  });

  test('counts null, blank and duplicate keys exactly, with the most repeated keys as samples', async () => {
    const l = await open();
    // Synced first, so u1 and u7 are known keys and "new" is not: both ways of finding duplicates run.
    await runSync({ spec: spec(), source: tableSource(people(50)), destination: memoryDestination(), ledger: l });
    const rows = [
      ...people(50),
      { id: 'u1', email: 'a' },
      { id: 'u1', email: 'b' },
      { id: 'u7', email: 'c' },
      { id: 'new', email: 'd' },
      { id: 'new', email: 'e' },
    ];
    const dup = await runSync({ spec: spec(), source: tableSource(rows), destination: memoryDestination(), ledger: l });
    expect(dup.error).toMatchObject({
      code: 'duplicate_keys',
      details: {
        count: 3,
        samples: [
          { key: 'u1', count: 3 },
          { key: 'new', count: 2 },
          { key: 'u7', count: 2 },
        ],
      },
    });
    const nulls = await runSync({
      spec: spec(),
      source: tableSource([...people(5), { id: null, email: 'x' }, { id: '  ', email: 'y' }, { id: '', email: 'z' }]),
      destination: memoryDestination(),
      ledger: l,
    });
    expect(nulls.error).toMatchObject({ code: 'null_keys', details: { count: 3 } });
  });

  test('records plan and commit timings next to query, stage, diff and send', async () => {
    const l = await open();
    const r = await runSync({ spec: spec(), source: tableSource(people(30)), destination: memoryDestination({ batchSize: 5 }), ledger: l });
    expect(r.phases.map((p) => p.name)).toEqual(['query', 'stage', 'diff', 'plan', 'send', 'commit']);
    const send = r.phases.find((p) => p.name === 'send')!.ms;
    for (const p of r.phases) expect(p.ms).toBeGreaterThanOrEqual(0);
    expect(r.phases.find((p) => p.name === 'commit')!.ms).toBeLessThanOrEqual(send + 1);
    expect((await l.run(r.runId))?.phases.map((p) => p.name)).toContain('commit');
    const dry = await runSync({ spec: spec(), source: tableSource(people(31)), destination: memoryDestination(), ledger: l, dryRun: true });
    expect(dry.phases.map((p) => p.name)).toEqual(['query', 'stage', 'diff', 'plan', 'send']);
  });

  test('opens a ledger written with md5 hex hashes without resending anything', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'syncline-')), 'old.duckdb');
    const s = spec();
    const db = await DuckDBInstance.create(file);
    const c = await db.connect();
    await c.run(`CREATE TABLE meta (k VARCHAR PRIMARY KEY, v VARCHAR)`);
    await c.run(`INSERT INTO meta VALUES ('config_hash', '${configHash(s)}')`);
    await c.run(
      `CREATE TABLE snapshot (k VARCHAR PRIMARY KEY, h VARCHAR NOT NULL, payload VARCHAR NOT NULL, run_id VARCHAR, synced_at TIMESTAMP)`,
    );
    await c.run(`INSERT INTO snapshot SELECT k, md5('${configHash(s)}' || p), p, 'r0', now() FROM (
      SELECT 'u' || i AS k, json_object('email', 'u' || i || '@example.com', 'plan', 'free')::VARCHAR AS p FROM range(40) t(i))`);
    c.closeSync();
    db.closeSync();
    const l = await open(file);
    const dest = memoryDestination();
    const r = await runSync({ spec: s, source: tableSource(people(41)), destination: dest, ledger: l });
    expect(r.rows).toMatchObject({ added: 1, changed: 0, unchanged: 40 });
    expect(dest.applied.flatMap((op) => op.changes.map((x) => x.key))).toEqual(['u40']);
  });
});
