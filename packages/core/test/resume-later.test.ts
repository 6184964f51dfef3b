import { describe, expect, test } from 'vitest';
import { memoryDestination, runSync, syncSpecFieldsSchema, toSyncSpec } from '../src/index.js';
import { tableSource, trackLedgers } from './model-source.js';

const spec = toSyncSpec(
  syncSpecFieldsSchema.parse({
    name: 's',
    model: 'select * from people',
    key: 'id',
    sync: { type: 'users', mode: 'upsert', fields: { email: 'email', plan: 'plan' }, onDelete: 'delete' },
  }),
);
const people = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `u${i}`, email: `u${i}@example.com` }));
const open = trackLedgers();

describe('resume later', () => {
  test('an outcome with resumeAfterMs stops the run: nothing more is sent, confirmed rows are committed, status resume_later', async () => {
    const l = await open();
    const dest = memoryDestination({ batchSize: 10 });
    const t0 = Date.now();
    const r = await runSync({
      spec,
      source: tableSource(people(100)),
      destination: dest,
      ledger: l,
      concurrency: 1,
      // The third operation is told to come back in 10 minutes.
      onEvent: (e) => {
        if (e.type === 'progress' && e.done === 20) dest.faults.resumeLaterMs = 600_000;
      },
    });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(r.status).toBe('resume_later');
    expect(Date.parse(r.resumeAt!) - t0).toBeGreaterThanOrEqual(600_000);
    expect(Date.parse(r.resumeAt!) - Date.now()).toBeLessThanOrEqual(600_000);
    expect(dest.applied).toHaveLength(2);
    expect(r.rows).toMatchObject({ synced: 20, failed: 10 });
    expect(new Set(r.failures.map((f) => f.code))).toEqual(new Set(['rate_limited_resume_later']));
    expect(await l.snapshotSize()).toBe(20);
    const [last] = await l.runs(1);
    expect(last).toMatchObject({
      runId: r.runId,
      status: 'resume_later',
      error: { code: 'resume_later', message: `the destination asked to wait until ${r.resumeAt}; run again after that` },
    });

    // The resume sends the 10 rate-limited rows and the 70 never sent, and nothing twice.
    const resumed = await runSync({ spec, source: tableSource(people(100)), destination: dest, ledger: l, concurrency: 1 });
    expect(resumed.status).toBe('succeeded');
    expect(resumed.resumeAt).toBeUndefined();
    expect(resumed.rows).toMatchObject({ added: 80, synced: 80, failed: 0, unchanged: 20 });
    expect(await l.snapshotSize()).toBe(100);
    expect(dest.records.size).toBe(100);
  });
});
