import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  memoryDestination,
  openDuckdbLedger,
  runSync,
  syncSpecFieldsSchema,
  toSyncSpec,
  type DuckdbLedger,
  type MemoryDestination,
  type OpOutcome,
} from '../src/index.js';
import { expectedRecord, tableSource, type PersonRow } from './model-source.js';

const spec = toSyncSpec(
  syncSpecFieldsSchema.parse({
    name: 'walk',
    model: 'select * from people',
    key: 'id',
    sync: { type: 'users', mode: 'upsert', fields: { email: 'email', plan: 'plan' }, onDelete: 'delete' },
  }),
);

// A small key space and few values, so walks often revert a key to an earlier value.
const stateArb = fc.uniqueArray(
  fc.record({
    id: fc.integer({ min: 0, max: 11 }).map((i) => `k${i}`),
    email: fc.constantFrom('a@x.io', 'b@x.io', null),
    plan: fc.constantFrom('free', 'pro'),
  }),
  { selector: (r) => r.id, maxLength: 12 },
);

type Step =
  | { t: 'model'; state: PersonRow[] }
  | { t: 'run'; abortAfterOps: number | null; hard: boolean; allowMassDelete: boolean }
  | { t: 'fault'; kind: 'throwBefore' | 'throwAfter' | 'failAfter'; n: number }
  | { t: 'reject'; keys: string[] }
  | { t: 'accept' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: stateArb.map((state): Step => ({ t: 'model', state })) },
  {
    weight: 4,
    arbitrary: fc
      .record({
        abortAfterOps: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }),
        hard: fc.boolean(),
        allowMassDelete: fc.boolean(),
      })
      .map((r): Step => ({ t: 'run', ...r })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        kind: fc.constantFrom('throwBefore' as const, 'throwAfter' as const, 'failAfter' as const),
        n: fc.integer({ min: 1, max: 2 }),
      })
      .map((r): Step => ({ t: 'fault', ...r })),
  },
  {
    weight: 1,
    arbitrary: fc
      .uniqueArray(
        fc.integer({ min: 0, max: 11 }).map((i) => `k${i}`),
        { minLength: 1, maxLength: 3 },
      )
      .map((keys): Step => ({ t: 'reject', keys })),
  },
  { weight: 1, arbitrary: fc.constant<Step>({ t: 'accept' }) },
);

const REMOVED = Symbol('removed');

/** Wraps the memory destination: interleaves calls, records what it acknowledged, and aborts on cue. */
function harness(batchSize: number) {
  const dest: MemoryDestination = memoryDestination({ batchSize });
  const acked = new Map<string, Record<string, unknown> | typeof REMOVED>();
  const cue = { ops: 0, abortAfter: null as number | null, controller: null as AbortController | null };
  const apply = dest.apply.bind(dest);
  const wrapped: MemoryDestination = {
    ...dest,
    async apply(op, ctx): Promise<OpOutcome> {
      // Yield so concurrent calls and ledger writes interleave as they would over HTTP.
      await new Promise((r) => setImmediate(r));
      if (cue.abortAfter !== null && cue.ops++ >= cue.abortAfter) cue.controller?.abort(new Error('stop'));
      const out = await apply(op, ctx);
      for (const key of out.ok) {
        const c = op.changes.find((x) => x.key === key)!;
        acked.set(key, c.action === 'remove' ? REMOVED : c.payload!);
      }
      return out;
    },
  };
  return { dest: wrapped, records: dest.records, faults: dest.faults, reject: dest.reject, acked, cue };
}

async function snapshotOf(ledger: DuckdbLedger): Promise<Record<string, unknown>> {
  const r = await ledger.connection.runAndReadAll(`SELECT k, payload FROM snapshot ORDER BY k`);
  return Object.fromEntries((r.getRowObjectsJson() as { k: string; payload: string }[]).map((x) => [x.k, JSON.parse(x.payload)]));
}

const modelRecords = (state: PersonRow[]) => Object.fromEntries(state.map((s) => [s.id!, expectedRecord(s)]));

// Deeper searches: WALK_RUNS=1000; replay a failure: WALK_SEED=<seed> WALK_PATH=<path> (printed by fast-check).
describe('convergence under faults (model-based random walk)', () => {
  test(
    'every successful run converges, the snapshot holds exactly what was acknowledged, and a clean run always recovers',
    { timeout: 120_000 + Number(process.env.WALK_RUNS ?? 0) * 1_000 },
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(stepArb, { minLength: 1, maxLength: 12 }),
          fc.record({
            batchSize: fc.integer({ min: 1, max: 4 }),
            chunkSize: fc.integer({ min: 1, max: 6 }),
            concurrency: fc.integer({ min: 1, max: 3 }),
          }),
          async (steps, knobs) => {
            const ledger = await openDuckdbLedger({ path: ':memory:' });
            const h = harness(knobs.batchSize);
            let model: PersonRow[] = [];
            const run = async (opts: { abortAfterOps: number | null; hard: boolean; allowMassDelete: boolean }) => {
              const controller = new AbortController();
              Object.assign(h.cue, { ops: 0, abortAfter: opts.abortAfterOps, controller });
              const before = JSON.stringify([...h.records]);
              const r = await runSync({
                spec,
                source: tableSource(model),
                destination: h.dest,
                ledger,
                chunkSize: knobs.chunkSize,
                concurrency: knobs.concurrency,
                allowMassDelete: opts.allowMassDelete,
                ...(opts.hard ? { hardSignal: controller.signal } : { signal: controller.signal }),
              });
              // C2: a key is in the snapshot exactly when its last acknowledged write was an upsert of that payload.
              const acked = Object.fromEntries([...h.acked].filter(([, v]) => v !== REMOVED));
              expect(await snapshotOf(ledger)).toEqual(acked);
              // C1: a successful run leaves the destination equal to the model, with nothing in doubt.
              if (r.status === 'succeeded') {
                expect(Object.fromEntries(h.records)).toEqual(modelRecords(model));
                expect(await ledger.inDoubtCount()).toBe(0);
              }
              // Guards refuse before the first call.
              if (r.error?.code.startsWith('guard_')) expect(JSON.stringify([...h.records])).toBe(before);
              return r;
            };
            try {
              for (const step of steps) {
                if (step.t === 'model') model = step.state;
                else if (step.t === 'fault') h.faults[step.kind] += step.n;
                else if (step.t === 'reject') for (const k of step.keys) h.reject.add(k);
                else if (step.t === 'accept') h.reject.clear();
                else await run(step);
              }
              // Recovery: with the faults gone, one run converges and the next one sends nothing.
              h.faults.throwBefore = 0;
              h.faults.throwAfter = 0;
              h.faults.failAfter = 0;
              h.reject.clear();
              const last = await run({ abortAfterOps: null, hard: false, allowMassDelete: true });
              expect(last.status).toBe('succeeded');
              const again = await run({ abortAfterOps: null, hard: false, allowMassDelete: true });
              expect(again.rows).toMatchObject({ added: 0, changed: 0, removed: 0, synced: 0 });
              expect(again.requests).toBe(0);
            } finally {
              await ledger.close();
            }
          },
        ),
        {
          numRuns: Number(process.env.WALK_RUNS ?? 50),
          ...(process.env.WALK_SEED ? { seed: Number(process.env.WALK_SEED), path: process.env.WALK_PATH, endOnFailure: true } : {}),
        },
      );
    },
  );
});
