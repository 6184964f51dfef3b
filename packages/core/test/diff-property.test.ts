import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { memoryDestination, openDuckdbLedger, runSync, syncSpecFieldsSchema, toSyncSpec, type SyncSpec } from '../src/index.js';
import { expectedRecord, tableSource, type PersonRow } from './model-source.js';

const spec = (onDelete: 'delete' | 'nothing'): SyncSpec =>
  toSyncSpec(
    syncSpecFieldsSchema.parse({
      name: 'prop',
      model: 'select * from people',
      key: 'id',
      sync: { type: 'users', mode: 'upsert', fields: { email: 'email', plan: 'plan' }, onDelete },
    }),
  );

// Keys include quotes, spaces and non-ASCII text, which must survive SQL, JSON and the appender alike.
const keyArb = fc.oneof(
  fc.integer({ min: 0, max: 40 }).map((i) => `k${i}`),
  fc.constantFrom("o'brien", 'a b', 'ünï', '🙂', 'K1'),
);
const rowArb = fc.record({
  id: keyArb,
  email: fc.option(fc.constantFrom('a@x.io', 'b@x.io', 'c@x.io', 'quote"d@x.io'), { nil: null }),
  plan: fc.option(fc.constantFrom('free', 'pro', 'team'), { nil: null }),
  note: fc.constantFrom('', 'x', 'y'),
});
/** A model state: unique non-null keys. */
const stateArb = fc.uniqueArray(rowArb, { selector: (r) => r.id, maxLength: 30 });

/** The Map-based reference: what a diff of `model` against the last synced state must report. */
function referenceCounts(previous: Map<string, string>, model: PersonRow[]) {
  const next = new Map(model.map((r) => [r.id!, JSON.stringify(expectedRecord(r))]));
  const out = { added: 0, changed: 0, removed: 0, unchanged: 0 };
  for (const [k, v] of next) {
    if (!previous.has(k)) out.added += 1;
    else if (previous.get(k) !== v) out.changed += 1;
    else out.unchanged += 1;
  }
  for (const k of previous.keys()) if (!next.has(k)) out.removed += 1;
  return { counts: out, next };
}

// Each property runs up to 200 whole runSyncs on DuckDB: minutes on a loaded 2-core machine, well under one alone.
describe('diff properties', { timeout: 180_000 }, () => {
  test('after every run the destination equals the model and the counts equal a Map-based diff', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(stateArb, { minLength: 1, maxLength: 5 }),
        fc.record({
          chunkSize: fc.integer({ min: 1, max: 12 }),
          batchSize: fc.integer({ min: 1, max: 8 }),
          concurrency: fc.integer({ min: 1, max: 4 }),
        }),
        async (states, knobs) => {
          const ledger = await openDuckdbLedger({ path: ':memory:' });
          try {
            const dest = memoryDestination({ batchSize: knobs.batchSize });
            let previous = new Map<string, string>();
            for (const state of states) {
              const r = await runSync({
                spec: spec('delete'),
                source: tableSource(state),
                destination: dest,
                ledger,
                allowMassDelete: true,
                chunkSize: knobs.chunkSize,
                concurrency: knobs.concurrency,
              });
              const ref = referenceCounts(previous, state);
              expect(r.status).toBe('succeeded');
              expect(r.rows).toMatchObject({
                ...ref.counts,
                total: state.length,
                synced: ref.counts.added + ref.counts.changed + ref.counts.removed,
                failed: 0,
              });
              expect(Object.fromEntries(dest.records)).toEqual(Object.fromEntries(state.map((s) => [s.id, expectedRecord(s)])));
              previous = ref.next;
            }
          } finally {
            await ledger.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  test('with onDelete nothing, removed rows stay at the destination and every model row is current', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stateArb, { minLength: 1, maxLength: 5 }), async (states) => {
        const ledger = await openDuckdbLedger({ path: ':memory:' });
        try {
          const dest = memoryDestination({ batchSize: 3 });
          const everSeen = new Map<string, Record<string, unknown>>();
          for (const state of states) {
            const r = await runSync({
              spec: spec('nothing'),
              source: tableSource(state),
              destination: dest,
              ledger,
              chunkSize: 5,
              allowMassDelete: true,
            });
            expect(r.status).toBe('succeeded');
            for (const s of state) everSeen.set(s.id, expectedRecord(s));
            expect(Object.fromEntries(dest.records)).toEqual(Object.fromEntries(everSeen));
            expect(dest.applied.flatMap((op) => op.changes).some((c) => c.action === 'remove')).toBe(false);
          }
        } finally {
          await ledger.close();
        }
      }),
      { numRuns: 20 },
    );
  });

  test('duplicate keys are found exactly, whether the keys were synced before or are new', async () => {
    await fc.assert(
      fc.asyncProperty(stateArb, fc.array(rowArb, { maxLength: 30 }), async (synced, model) => {
        const ledger = await openDuckdbLedger({ path: ':memory:' });
        try {
          await runSync({
            spec: spec('delete'),
            source: tableSource(synced),
            destination: memoryDestination(),
            ledger,
            allowMassDelete: true,
          });
          const r = await runSync({
            spec: spec('delete'),
            source: tableSource(model),
            destination: memoryDestination(),
            ledger,
            allowMassDelete: true,
          });
          const counts = new Map<string, number>();
          for (const m of model) counts.set(m.id, (counts.get(m.id) ?? 0) + 1);
          const dups = [...counts].filter(([, c]) => c > 1);
          if (dups.length === 0) expect(r.status).toBe('succeeded');
          else {
            expect(r.error).toMatchObject({ code: 'duplicate_keys', details: { count: dups.length } });
            const top = (r.error!.details!.samples as { key: string; count: number }[])[0]!;
            expect(top.count).toBe(Math.max(...dups.map(([, c]) => c)));
          }
        } finally {
          await ledger.close();
        }
      }),
      { numRuns: 40 },
    );
  });

  test('the portable md5 row hash equals md5_number on any text', async () => {
    const ledger = await openDuckdbLedger({ path: ':memory:' });
    const portable = await openDuckdbLedger({ path: ':memory:', portableHash: true });
    try {
      await fc.assert(
        fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 40 }), async (text) => {
          const lit = `'${text.replaceAll("'", "''")}'`;
          const a = await ledger.connection.runAndReadAll(`SELECT ${ledger.rowHash(lit)}::VARCHAR AS h`);
          const b = await portable.connection.runAndReadAll(`SELECT ${portable.rowHash(lit)}::VARCHAR AS h`);
          expect(b.getRowObjectsJson()).toEqual(a.getRowObjectsJson());
        }),
        { numRuns: 100 },
      );
      expect(portable.rowHash('x')).toContain('md5(');
      expect(ledger.rowHash('x')).toBe('md5_number(x)');
    } finally {
      await ledger.close();
      await portable.close();
    }
  });
});
