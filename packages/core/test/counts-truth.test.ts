import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  memoryDestination,
  runSync,
  syncSpecFieldsSchema,
  toSyncSpec,
  type Destination,
  type RowIssue,
  type RunEvent,
  type SyncSpec,
} from '../src/index.js';
import { tableSource, trackLedgers, type PersonRow } from './model-source.js';

const spec = (onDelete: 'delete' | 'nothing' = 'nothing'): SyncSpec =>
  toSyncSpec(
    syncSpecFieldsSchema.parse({
      name: 'truth',
      model: 'select * from people',
      key: 'id',
      sync: { type: 'users', mode: 'upsert', fields: { email: 'email', plan: 'plan' }, onDelete },
    }),
  );

const EMAIL = /^[^@\s]+@[^@\s]+\.[a-z]+$/;
/** The memory destination with an email rule (it validates nothing by itself), as Knock's validate() would. */
const validating = (batchSize = 100): ReturnType<typeof memoryDestination> & Destination => {
  const dest = memoryDestination({ batchSize });
  return Object.assign(dest, {
    validate: ({ key, payload }: { key: string; payload: Record<string, unknown> }): RowIssue[] =>
      typeof payload.email === 'string' && !EMAIL.test(payload.email)
        ? [{ key, field: 'email', rule: 'email', message: 'email is not a valid email address' }]
        : [],
  });
};
const isInvalid = (r: PersonRow): boolean => typeof r.email === 'string' && !EMAIL.test(r.email);
const people = (n: number): PersonRow[] => Array.from({ length: n }, (_, i) => ({ id: `u${i}`, email: `u${i}@example.com` }));

const ledger = trackLedgers();

describe('removals under onDelete: nothing are kept, not removed', () => {
  test('counted as kept (not removed), recorded as skipped (not synced), in a plan and in a run', async () => {
    const l = await ledger();
    const dest = memoryDestination();
    await runSync({ spec: spec('nothing'), source: tableSource(people(10)), destination: dest, ledger: l });
    const next = people(10).filter((p) => p.id !== 'u3' && p.id !== 'u7');
    const plan = await runSync({ spec: spec('nothing'), source: tableSource(next), destination: dest, ledger: l, dryRun: true });
    expect(plan.rows).toMatchObject({ removed: 0, kept: 2, unchanged: 8 });
    expect(plan.preview.filter((p) => p.action === 'remove').map((p) => p.key)).toEqual(['u3', 'u7']);
    // A removal is one line, never drawn field by field.
    expect(plan.preview.find((p) => p.key === 'u3')!.fields).toEqual([]);
    const events: RunEvent[] = [];
    const run = await runSync({
      spec: spec('nothing'),
      source: tableSource(next),
      destination: dest,
      ledger: l,
      onEvent: (e) => events.push(e),
    });
    expect(run.rows).toMatchObject({ removed: 0, kept: 2, synced: 0, unchanged: 8 });
    // The diff phase's event (progress printers show it) does not call them removals either.
    expect(events.find((e) => e.type === 'phase' && e.name === 'diff' && e.status === 'end')).toMatchObject({
      detail: { add: 0, change: 0, remove: 0, kept: 2 },
    });
    expect((await l.rowResults({ key: 'u3' }))[0]).toMatchObject({ action: 'remove', status: 'skipped', code: 'kept' });
    expect((await l.runs(1))[0]!.counts).toMatchObject({ removed: 0, kept: 2, synced: 0 });
    expect(dest.records.has('u3')).toBe(true);
  });

  test('with onDelete: delete they are removed and synced, none kept', async () => {
    const l = await ledger();
    const dest = memoryDestination();
    await runSync({ spec: spec('delete'), source: tableSource(people(10)), destination: dest, ledger: l });
    const run = await runSync({
      spec: spec('delete'),
      source: tableSource(people(8)),
      destination: dest,
      ledger: l,
      allowMassDelete: true,
    });
    expect(run.rows).toMatchObject({ removed: 2, kept: 0, synced: 2 });
    expect((await l.rowResults({ key: 'u9' }))[0]).toMatchObject({ action: 'remove', status: 'synced' });
  });
});

describe('invalid rows', () => {
  test('carry their row number in the model and their value, shortened and redacted', async () => {
    const l = await ledger();
    const rows = people(6);
    rows[2]!.email = 'nope';
    rows[4]!.email = `sk_live_${'S'.repeat(30)} ${'x'.repeat(80)}`;
    const r = await runSync({ spec: spec(), source: tableSource(rows), destination: validating(), ledger: l, dryRun: true });
    expect(r.invalid).toEqual([
      { key: 'u2', field: 'email', rule: 'email', message: 'email is not a valid email address', row: 3, value: '"nope"' },
      expect.objectContaining({ key: 'u4', row: 5, value: expect.stringMatching(/^"sk_…redacted x+…\(\+\d+ chars\)$/) }),
    ]);
    expect(r.invalid[1]!.value!.length).toBeLessThanOrEqual(60);
    expect(r.invalidByReason).toEqual([{ field: 'email', rule: 'email', message: 'email is not a valid email address', count: 2 }]);
    expect(JSON.stringify(r)).not.toContain('SSSS');
  });

  test('are never also adds or changes, and a rerun reports them as invalid, not added (property)', async () => {
    const emailArb = fc.option(fc.constantFrom('a@x.io', 'b@x.io', 'c@y.org', 'not-an-email', 'x@', 'sk_live_leak'), { nil: null });
    const rowArb = fc.record({ id: fc.integer({ min: 0, max: 25 }).map((i) => `k${i}`), email: emailArb });
    const stateArb = fc.uniqueArray(rowArb, { selector: (r) => r.id, maxLength: 25 });
    await fc.assert(
      fc.asyncProperty(
        // Each state may be run again unchanged (a rerun), as users do.
        fc.array(fc.tuple(stateArb, fc.boolean()), { minLength: 1, maxLength: 4 }),
        fc.constantFrom('delete', 'nothing') as fc.Arbitrary<'delete' | 'nothing'>,
        fc.integer({ min: 1, max: 7 }),
        async (states, onDelete, chunkSize) => {
          const l = await ledger();
          const dest = validating(3);
          // What the destination confirmed: key → email (the reference the ledger must agree with).
          let confirmed = new Map<string, string | null>();
          for (const [state, rerun] of states)
            for (const _ of rerun ? [0, 1] : [0]) {
              for (const dryRun of [true, false]) {
                const r = await runSync({
                  spec: spec(onDelete),
                  source: tableSource(state),
                  destination: dest,
                  ledger: l,
                  dryRun,
                  chunkSize,
                  allowMassDelete: true,
                });
                expect(r.status).toBe('succeeded');
                const c = r.rows;
                expect(c.added + c.changed + c.unchanged + c.invalid).toBe(state.length);
                const invalid = state.filter(isInvalid);
                const valid = state.filter((s) => !isInvalid(s));
                const gone = [...confirmed.keys()].filter((k) => !state.some((s) => s.id === k));
                expect(c).toMatchObject({
                  total: state.length,
                  invalid: invalid.length,
                  added: valid.filter((s) => !confirmed.has(s.id!)).length,
                  changed: valid.filter((s) => confirmed.has(s.id!) && confirmed.get(s.id!) !== s.email).length,
                  removed: onDelete === 'delete' ? gone.length : 0,
                  kept: onDelete === 'nothing' ? gone.length : 0,
                });
                expect(r.invalid.map((i) => i.key).sort()).toEqual(invalid.map((s) => s.id).sort());
                if (dryRun) continue;
                const next = new Map(confirmed);
                for (const k of gone) next.delete(k);
                for (const s of valid) next.set(s.id!, s.email);
                confirmed = next;
              }
            }
        },
      ),
      { numRuns: 25 },
    );
    // Each run is up to 8 runSync calls on a real DuckDB ledger; the machine running the suite is shared.
  }, 180_000);
});
