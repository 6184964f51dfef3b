import fc from 'fast-check';
import { describe, expect, test, vi } from 'vitest';
import {
  memoryDestination,
  payloadProjection,
  runSync,
  syncSpecFieldsSchema,
  toSyncSpec,
  type Change,
  type Destination,
  type RowIssue,
  type RowSql,
  type SyncSpec,
} from '../src/index.js';
import { ReadChange } from '../src/read-change.js';
import { expectedRecord, tableSource, trackLedgers, type PersonRow } from './model-source.js';

// Issue 10: the send of a 10M-row run spent most of its main thread parsing every change's payload and
// validating it in JavaScript, although the stage had already evaluated the destination's `validSql` on
// the changed rows. A row SQL cleared is now neither parsed nor validated, and a payload is parsed at most
// once, only when something reads it.

const ledger = trackLedgers();
const spec: SyncSpec = toSyncSpec(
  syncSpecFieldsSchema.parse({
    name: 'cleared',
    model: 'select * from people',
    key: 'id',
    sync: { type: 'users', mode: 'upsert', fields: { email: 'email', plan: 'plan' }, onDelete: 'delete' },
  }),
);
const EMAIL = /^[^@\s]+@[^@\s]+\.[a-z]+$/;

/**
 * The memory destination with an email rule, its SQL twin (a sufficient condition: an email of letters and
 * digits around one `@` and a dot), and a count of the rows `validate` saw.
 */
function counting(withSql = true): { dest: ReturnType<typeof memoryDestination> & Destination; validated: string[] } {
  const validated: string[] = [];
  const dest = memoryDestination({ batchSize: 7 });
  Object.assign(dest, {
    validate: ({ key, payload }: { key: string; payload: Record<string, unknown> }): RowIssue[] => {
      validated.push(key);
      return typeof payload.email === 'string' && !EMAIL.test(payload.email)
        ? [{ key, field: 'email', rule: 'email', message: 'email is not a valid email address' }]
        : [];
    },
    ...(withSql
      ? {
          validSql: (_target: unknown, row: RowSql) =>
            `regexp_full_match(coalesce(${row.fields.find((f) => f.name === 'email')!.value}, ''), '[a-z0-9]+@[a-z0-9]+\\.[a-z]+')`,
        }
      : {}),
  });
  return { dest, validated };
}

const people = (n: number, bad: (i: number) => boolean = () => false): PersonRow[] =>
  Array.from({ length: n }, (_, i) => ({ id: `u${i}`, email: bad(i) ? `u${i} at example` : `u${i}@example.com` }));

describe('rows the stage’s validSql cleared', () => {
  test('are neither validated in JavaScript nor invalid; rows it does not clear are, as before', async () => {
    const l = await ledger();
    const { dest, validated } = counting();
    // Every tenth row has a bad email; every fifteenth has none (SQL does not clear it, JavaScript accepts it).
    const model = people(60, (i) => i % 10 === 3).map((r, i) => (i % 15 === 7 ? { ...r, email: null } : r));
    const first = await runSync({ spec, source: tableSource(model), destination: dest, ledger: l, chunkSize: 9 });
    expect(first.status).toBe('succeeded');
    const unsure = model.filter((r) => r.email === null || !EMAIL.test(r.email)).map((r) => r.id);
    expect(validated.sort()).toEqual([...unsure].sort());
    expect(first.rows).toMatchObject({ total: 60, added: 54, invalid: 6, synced: 54 });
    for (const r of model)
      expect(dest.records.get(r.id!)).toEqual(EMAIL.test(r.email ?? '') || r.email === null ? expectedRecord(r) : undefined);

    // An incremental run: only its changed rows are staged with a verdict, and only the unsure among them validated.
    validated.length = 0;
    const next = model.map((r, i) => (i % 4 === 0 ? { ...r, plan: 'pro' } : r));
    const second = await runSync({ spec, source: tableSource(next), destination: dest, ledger: l, chunkSize: 9 });
    const changed = next.filter((r, i) => i % 4 === 0 || !EMAIL.test(model[i]!.email ?? 'x@y.z'));
    expect(validated.sort()).toEqual(
      changed
        .filter((r) => r.email === null || !EMAIL.test(r.email))
        .map((r) => r.id!)
        .sort(),
    );
    expect(second.rows.invalid).toBe(6);
    for (const r of next) if (r.email === null || EMAIL.test(r.email)) expect(dest.records.get(r.id!)).toEqual(expectedRecord(r));
  });

  test('a run gives what a run without validSql gives (property)', async () => {
    const emails = fc.constantFrom('a@b.co', 'x1@y2.de', 'A@b.co', 'bad', 'a@b', '', 'ü@x.de', 'a b@c.de');
    const rowArb = fc.record({ email: fc.oneof(emails, fc.constant(null)), plan: fc.constantFrom('free', 'pro') });
    await fc.assert(
      fc.asyncProperty(fc.array(rowArb, { maxLength: 30 }), fc.array(rowArb, { maxLength: 30 }), async (a, b) => {
        const models = [a, b].map((rows) => rows.map((r, i): PersonRow => ({ id: `k${i}`, ...r })));
        const outcomes = [];
        for (const withSql of [true, false]) {
          const l = await ledger();
          const { dest } = counting(withSql);
          const runs = [];
          for (const m of models) {
            const r = await runSync({ spec, source: tableSource(m), destination: dest, ledger: l, chunkSize: 4 });
            runs.push({ status: r.status, rows: r.rows, invalid: r.invalid, byReason: r.invalidByReason });
          }
          outcomes.push({ runs, records: [...dest.records].sort(([x], [y]) => (x < y ? -1 : 1)) });
        }
        expect(outcomes[0]).toEqual(outcomes[1]);
      }),
      { numRuns: 30 },
    );
  }, 120_000);

  test('reach the destination with their payload parsed only when it reads it, and once', async () => {
    const l = await ledger();
    const { dest } = counting();
    const parse = vi.spyOn(JSON, 'parse');
    const seen: Change[] = [];
    const plan = dest.plan.bind(dest);
    dest.plan = (changes, ctx) => {
      seen.push(...changes);
      return plan(changes, ctx);
    };
    try {
      // The memory destination reads every payload in `apply`: each is parsed there, exactly once.
      const model = people(20);
      await runSync({ spec, source: tableSource(model), destination: dest, ledger: l });
      const payloads = new Set(seen.map((c) => c.payloadJson));
      const parsedPayloads = parse.mock.calls.filter(([text]) => payloads.has(text as string));
      expect(parsedPayloads).toHaveLength(20);
      expect(seen.every((c) => c instanceof ReadChange)).toBe(true);
      for (const r of model) expect(dest.records.get(r.id!)).toEqual(expectedRecord(r));
    } finally {
      parse.mockRestore();
    }
  });
});

describe('ReadChange', () => {
  test('parses its payload on first read only, keeps it, and takes an assigned one', () => {
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const c = new ReadChange('add', 'k', 'h', '{"a":1}', null, 3, '42');
      expect(parse).not.toHaveBeenCalled();
      expect(c.payload).toEqual({ a: 1 });
      expect(c.payload).toBe(c.payload);
      expect(parse).toHaveBeenCalledTimes(1);
      c.payload = { b: 2 };
      expect(c.payload).toEqual({ b: 2 });
      expect(ReadChange.seqOf(c)).toBe(3);
      expect(ReadChange.fingerprintOf(c)).toBe('42');
      expect(ReadChange.seqOf({ action: 'add', key: 'k', payload: {}, hash: 'h' })).toBeUndefined();
      const removal = new ReadChange('remove', 'r', null, null, { a: 1 }, 4, undefined);
      expect(removal.payload).toBeNull();
      expect('payloadJson' in removal).toBe(false);
      expect(JSON.parse(JSON.stringify(new ReadChange('change', 'k', 'h', '{"a":1}', { a: 0 }, 1, undefined)))).toEqual({
        action: 'change',
        key: 'k',
        payload: { a: 1 },
        hash: 'h',
        before: { a: 0 },
        payloadJson: '{"a":1}',
      });
    } finally {
      parse.mockRestore();
    }
  });
});

describe('readChanges', () => {
  test('returns each change as SQL holds it, whatever its key and payload hold (property)', async () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'é', '"', '\\', '\u001e', '\u001f', '\n', '\u0000', ',', '[', '{', 'null', '😀') });
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(text, { minLength: 0, maxLength: 25 }),
        fc.array(fc.oneof(text, fc.constant(null))),
        async (keys, emails) => {
          const l = await ledger();
          const model = keys.map((id, i): PersonRow => ({ id: `${id}#${i}`, email: emails[i % Math.max(1, emails.length)] ?? null }));
          await tableSource(model).attach!(l.connection);
          const columns = await l.describe(spec.model);
          await l.stage({
            modelSql: spec.model,
            key: 'id',
            projection: payloadProjection(spec.fields, columns),
            salt: 's',
            validSql: `"email" LIKE '%@%'`,
          });
          await l.diff({ before: false });
          const expected = (
            await l.connection.runAndReadAll(`SELECT seq, k, action, payload, ok FROM syncline_work.changes ORDER BY seq`)
          ).getRowObjectsJson() as { seq: number; k: string; action: string; payload: string | null; ok: boolean | null }[];
          // Read in blocks that start and end anywhere.
          const read = [...(await l.readChanges(1, 4)), ...(await l.readChanges(4, 1000))];
          expect(read.map((c) => [c.seq, c.key, c.action, c.payload, c.ok])).toEqual(
            expected.map((r) => [Number(r.seq), r.k, r.action, r.payload, r.ok]),
          );
          for (const c of read) expect(JSON.parse(c.payload!)).toEqual(expectedRecord(model.find((m) => m.id === c.key)!));
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});
