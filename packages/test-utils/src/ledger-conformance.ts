import { afterEach, describe, expect, test } from 'vitest';
import { memoryDestination, runSync, syncSpecFieldsSchema, toSyncSpec, type Ledger, type Source, type SyncSpec } from '@syncline/core';

/** A model row of the suite's `people` model. */
export interface PersonRow {
  id: string;
  email: string;
  plan: string;
}

/** What a ledger implementation gives the conformance suite. */
export interface LedgerUnderTest {
  /** Opens a fresh, empty ledger; it is closed after each test. */
  open(): Promise<Ledger>;
  /**
   * A source whose model `select * from people` returns these rows. Default: a source without `attach`
   * (its rows stream through `read()`, core's local-ledger mode), so the suite needs nothing of the ledger's
   * engine beyond the ledger itself. A warehouse ledger (`Ledger.runsModel`) gives a source whose database
   * holds these rows in its table `people` (it may load them first, hence the promise).
   */
  source?(rows: readonly PersonRow[]): Source | Promise<Source>;
}

/** A source without `attach`: `read()` yields the rows (the model's SQL is not parsed; it is always `people`). */
export function rowsSource(rows: readonly PersonRow[]): Source {
  return {
    name: 'rows',
    describe: async () => ['id', 'email', 'plan'].map((name) => ({ name, type: 'VARCHAR' })),
    async *read(_sql, opts = {}) {
      const size = opts.batchSize ?? 1000;
      for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size).map((r) => ({ ...r }));
    },
  };
}

const people = (n: number, plan = 'free'): PersonRow[] =>
  Array.from({ length: n }, (_, i) => ({ id: `u${i}`, email: `u${i}@example.com`, plan }));
const spec = (over: Record<string, unknown> = {}): SyncSpec =>
  toSyncSpec(
    syncSpecFieldsSchema.parse({
      name: 'conformance',
      model: 'select * from people',
      key: 'id',
      sync: { type: 'users', mode: 'upsert', fields: { email: 'email', plan: 'plan' }, onDelete: 'delete', ...over },
    }),
  );

/**
 * The ledger conformance suite: every ledger (core's DuckDB ledger, a warehouse ledger in a source's own SQL
 * dialect) must pass it. It drives real runs (`runSync`, the in-memory destination with its fault injection)
 * and checks what the ledger must guarantee: crash safety, keys in doubt resent whatever the model says next,
 * failed rows retried, the empty-model and mass-delete guards, a resend after a mapping change, and the run
 * records. One import and one call registers it:
 * @example ledgerConformance('DuckDB ledger', { open: () => openLedger({ path: ':memory:' }) })
 */
export function ledgerConformance(name: string, impl: LedgerUnderTest): void {
  const source = impl.source ?? rowsSource;
  let opened: Ledger[] = [];
  afterEach(async () => {
    for (const l of opened) await l.close();
    opened = [];
  });
  const open = async (): Promise<Ledger> => {
    const l = await impl.open();
    opened.push(l);
    return l;
  };

  describe(`ledger conformance: ${name}`, () => {
    describe('crash safety', () => {
      test('a run that never closed its record (a killed process) is closed as crashed by the next run, its confirmed rows kept', async () => {
        const l = await open();
        const dest = memoryDestination();
        await runSync({ spec: spec(), source: await source(people(3)), destination: dest, ledger: l, runId: 'r_killed' });
        await l.saveRun({
          runId: 'r_killed',
          sync: 'conformance',
          startedAt: new Date().toISOString(),
          finishedAt: null,
          status: 'running',
          counts: {},
          phases: [],
          requests: 0,
          error: null,
        });
        const next = await runSync({ spec: spec(), source: await source(people(3)), destination: dest, ledger: l });
        expect(next.rows).toMatchObject({ unchanged: 3, synced: 0 });
        expect(await l.run('r_killed')).toMatchObject({ status: 'crashed', counts: { synced: 3 }, error: { code: 'crashed' } });
      });

      test('a lost acknowledgement (the call applied, the process died before the commit) leaves the keys in doubt', async () => {
        const l = await open();
        const dest = memoryDestination();
        await runSync({ spec: spec(), source: await source(people(2)), destination: dest, ledger: l });
        dest.faults.throwAfter = 1;
        const lost = await runSync({ spec: spec(), source: await source(people(2, 'pro')), destination: dest, ledger: l });
        expect(lost.status).toBe('failed');
        expect(dest.records.get('u0')).toMatchObject({ plan: 'pro' });
        expect(await l.inDoubtCount()).toBe(2);
        expect((await l.rowResults({ key: 'u0', runId: lost.runId }))[0]).toMatchObject({ status: 'failed', code: 'in_doubt' });
        // The snapshot still holds the last confirmed value.
        expect(JSON.parse((await l.snapshotRow('u0'))!.payload)).toMatchObject({ plan: 'free' });
      });
    });

    describe('keys in doubt', () => {
      test('are resent even after the model went back to the snapshot value', async () => {
        const l = await open();
        const dest = memoryDestination();
        await runSync({ spec: spec(), source: await source(people(2)), destination: dest, ledger: l });
        dest.faults.throwAfter = 1;
        await runSync({ spec: spec(), source: await source(people(2, 'pro')), destination: dest, ledger: l });
        const back = await runSync({ spec: spec(), source: await source(people(2)), destination: dest, ledger: l });
        expect(back.rows).toMatchObject({ changed: 2, synced: 2 });
        expect(dest.records.get('u0')).toMatchObject({ plan: 'free' });
        expect(await l.inDoubtCount()).toBe(0);
      });

      test('a failure the destination marks in doubt (applied, then timed out) is resent after the model goes back', async () => {
        const l = await open();
        const dest = memoryDestination();
        await runSync({ spec: spec(), source: await source(people(2)), destination: dest, ledger: l });
        dest.faults.failAfter = 1;
        const timedOut = await runSync({ spec: spec(), source: await source(people(2, 'pro')), destination: dest, ledger: l });
        expect(timedOut).toMatchObject({ status: 'partial', rows: { failed: 2 } });
        expect(dest.records.get('u1')).toMatchObject({ plan: 'pro' });
        expect(await l.inDoubtCount()).toBe(2);
        const back = await runSync({ spec: spec(), source: await source(people(2)), destination: dest, ledger: l });
        expect(back.rows).toMatchObject({ changed: 2, synced: 2 });
        expect(dest.records.get('u1')).toMatchObject({ plan: 'free' });
      });

      test('stay in doubt when a later attempt is rejected, so leaving the model deletes them', async () => {
        const l = await open();
        const dest = memoryDestination();
        dest.faults.failAfter = 1;
        await runSync({ spec: spec(), source: await source(people(1)), destination: dest, ledger: l });
        dest.reject.add('u0');
        const refused = await runSync({ spec: spec(), source: await source(people(1)), destination: dest, ledger: l });
        expect(refused.rows).toMatchObject({ failed: 1 });
        expect(await l.inDoubtCount()).toBe(1);
        dest.reject.clear();
        const gone = await runSync({ spec: spec(), source: await source([]), destination: dest, ledger: l, allowMassDelete: true });
        expect(gone.rows).toMatchObject({ removed: 1, synced: 1 });
        expect(dest.records.size).toBe(0);
        expect(await l.inDoubtCount()).toBe(0);
      });
    });

    describe('failed rows', () => {
      test('a rejected row stays out of the snapshot and is retried on every later run, recorded each time, until it succeeds', async () => {
        const l = await open();
        const dest = memoryDestination();
        dest.reject.add('u1');
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) {
          const r = await runSync({ spec: spec(), source: await source(people(3)), destination: dest, ledger: l });
          expect(r).toMatchObject({ status: 'partial', rows: { failed: 1, synced: i === 0 ? 2 : 0 } });
          expect(await l.snapshotRow('u1')).toBeNull();
          ids.push(r.runId);
        }
        const failed = (await l.rowResults({ key: 'u1' })).filter((x) => x.status === 'failed' && x.code === 'rejected');
        expect(failed.map((x) => x.runId).sort()).toEqual(ids.sort());
        dest.reject.clear();
        const ok = await runSync({ spec: spec(), source: await source(people(3)), destination: dest, ledger: l });
        expect(ok).toMatchObject({ status: 'succeeded', rows: { added: 1, synced: 1, unchanged: 2 } });
        expect(dest.records.has('u1')).toBe(true);
      });
    });

    describe('guards', () => {
      test('an empty model and a mass delete are refused unless allowed; a dry run names them', async () => {
        const l = await open();
        const dest = memoryDestination();
        await runSync({ spec: spec(), source: await source(people(10)), destination: dest, ledger: l });
        const empty = await runSync({ spec: spec(), source: await source([]), destination: dest, ledger: l });
        expect(empty.error?.code).toBe('guard_empty_model');
        const mass = await runSync({ spec: spec(), source: await source(people(7)), destination: dest, ledger: l });
        expect(mass.error).toMatchObject({ code: 'guard_mass_delete' });
        expect(mass.error?.message).toMatch(/3 removals = 30% of the synced rows, above this sync's limit \(20%\)/);
        expect(dest.records.size).toBe(10);
        const preview = await runSync({ spec: spec(), source: await source(people(7)), destination: dest, ledger: l, dryRun: true });
        expect(preview.error).toBeUndefined();
        expect(preview.guards).toEqual([
          { code: 'guard_mass_delete', message: expect.stringMatching(/^3 removals = 30% of the synced rows/) },
        ]);
        const allowed = await runSync({
          spec: spec(),
          source: await source(people(7)),
          destination: dest,
          ledger: l,
          allowMassDelete: true,
        });
        expect(allowed.rows.removed).toBe(3);
        expect(dest.records.size).toBe(7);
      });

      test('removals are weighed against the keys a killed run left in doubt too, not only the snapshot', async () => {
        const l = await open();
        const dest = memoryDestination();
        await runSync({ spec: spec(), source: await source(people(10)), destination: dest, ledger: l });
        // A run of 40 more users was killed after marking them: 10 keys synced, 50 that Knock may hold.
        const killed = people(50).slice(10);
        await l.markInDoubt(
          'r_killed',
          killed.map((p) => ({ key: p.id, payload: JSON.stringify({ email: p.email, plan: p.plan }) })),
        );
        // 6 of the in-doubt users leave the model: 6 of 50 (12 %) is under the limit; 6 of 10 would not be.
        const r = await runSync({ spec: spec(), source: await source(people(44)), destination: dest, ledger: l });
        expect(r.error).toBeUndefined();
        expect(r.rows).toMatchObject({ removed: 6 });
        expect(r.deleteWindow).toMatchObject({ base: 50, planned: 6 });
      });
    });

    describe('mapping change', () => {
      test('resends every row and keeps announcing it until a resend completes', async () => {
        const l = await open();
        const dest = memoryDestination({ batchSize: 2 });
        await runSync({ spec: spec(), source: await source(people(6)), destination: dest, ledger: l });
        const remapped = spec({ fields: { email: 'email' } });
        dest.faults.throwBefore = 1;
        const broken = await runSync({ spec: remapped, source: await source(people(6)), destination: dest, ledger: l, concurrency: 1 });
        expect(broken).toMatchObject({ status: 'failed', mappingChanged: true });
        const resumed = await runSync({ spec: remapped, source: await source(people(6)), destination: dest, ledger: l });
        expect(resumed).toMatchObject({ status: 'succeeded', mappingChanged: true });
        expect(resumed.rows.changed).toBeGreaterThan(0);
        // The resent payloads carry the new mapping (email only).
        expect(dest.applied.at(-1)!.changes.map((c) => c.payload)).toEqual(
          dest.applied.at(-1)!.changes.map((c) => ({ email: `${c.key}@example.com` })),
        );
        const settled = await runSync({ spec: remapped, source: await source(people(6)), destination: dest, ledger: l });
        expect(settled).toMatchObject({ status: 'succeeded', mappingChanged: false, rows: { changed: 0 } });
      });
    });

    describe('run records', () => {
      test('each run is recorded with its status, counts and phases; each row with its result; a dry run records nothing', async () => {
        const l = await open();
        const dest = memoryDestination();
        dest.reject.add('u2');
        const first = await runSync({ spec: spec(), source: await source(people(4)), destination: dest, ledger: l });
        await runSync({ spec: spec(), source: await source(people(4)), destination: dest, ledger: l, dryRun: true });
        const runs = await l.runs();
        expect(runs).toHaveLength(1);
        expect(runs[0]).toMatchObject({
          runId: first.runId,
          sync: 'conformance',
          status: 'partial',
          counts: { added: 4, synced: 3, failed: 1 },
          error: null,
        });
        expect(runs[0]!.finishedAt).not.toBeNull();
        expect(runs[0]!.phases.map((p) => p.name)).toEqual(expect.arrayContaining(['query', 'stage', 'diff', 'send', 'commit']));
        const rows = await l.rowResults({ runId: first.runId });
        expect(rows.map((r) => `${r.key}:${r.status}`).sort()).toEqual(['u0:synced', 'u1:synced', 'u2:failed', 'u3:synced']);
        const failedRun = await runSync({ spec: spec(), source: await source([]), destination: dest, ledger: l });
        expect(await l.run(failedRun.runId)).toMatchObject({ status: 'failed', error: { code: 'guard_empty_model' } });
      });
    });
  });
}
