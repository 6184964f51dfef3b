import { describe, expect, test } from 'vitest';
import { memoryDestination, runSync, syncSpecFieldsSchema, toSyncSpec, type Column, type Source } from '../src/index.js';
import { trackLedgers } from './model-source.js';

/**
 * A source without `attach` (the model runs elsewhere): `read` yields the rows in batches of the size core
 * asks for, and records those sizes and how many rows were handed out before core pulled the next batch.
 */
function streamSource(columns: Column[], rows: Record<string, unknown>[]) {
  const batches: number[] = [];
  const source: Source & { batches: number[]; reads: string[] } = {
    name: 'stream',
    batches,
    reads: [],
    describe: async () => columns,
    async *read(sql, opts = {}) {
      source.reads.push(sql);
      const size = opts.batchSize ?? 1000;
      for (let i = 0; i < rows.length; i += size) {
        const batch = rows.slice(i, i + size).map((r) => ({ ...r }));
        batches.push(batch.length);
        yield batch;
      }
    },
  };
  return source;
}

const spec = toSyncSpec(
  syncSpecFieldsSchema.parse({
    name: 'local',
    model: 'select id, email, amount, prefs from customers',
    key: 'id',
    sync: { type: 'users', mode: 'upsert', fields: { email: 'email', amount: 'amount', prefs: 'prefs' }, onDelete: 'delete' },
  }),
);
const columns: Column[] = [
  { name: 'id', type: 'VARCHAR' },
  { name: 'email', type: 'VARCHAR' },
  { name: 'amount', type: 'VARCHAR' },
  { name: 'prefs', type: 'JSON' },
];
const customers = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: `c${i}`,
    email: `c${i}@example.com`,
    amount: '12345678901234567890.25',
    prefs: i % 2 ? '{"big": 9007199254740993, "tags": ["a"]}' : null,
  }));

const ledger = trackLedgers();

describe('local-ledger mode (a source without attach)', () => {
  test('streams the model into the ledger, then sends only the changes', async () => {
    const l = await ledger();
    const dest = memoryDestination();
    const rows = customers(25_000);
    const source = streamSource(columns, rows);
    const first = await runSync({ spec, source, destination: dest, ledger: l });
    expect(first.status).toBe('succeeded');
    expect(first.rows).toMatchObject({ total: 25_000, added: 25_000, synced: 25_000 });
    // The model's own SQL went to the source, in batches of at most 10,000 rows.
    expect(source.reads).toEqual([spec.model]);
    expect(source.batches).toEqual([10_000, 10_000, 5_000]);
    // JSON stays JSON (its big integer exact), decimal strings stay strings.
    expect(dest.records.get('c1')).toEqual({
      email: 'c1@example.com',
      amount: '12345678901234567890.25',
      prefs: { big: expect.any(Number), tags: ['a'] },
    });
    // The sent JSON text keeps the integer exact (a parse into a double would round it to ...992).
    const sent = dest.applied.flatMap((op) => op.changes).find((c) => c.key === 'c1')!;
    expect(sent.payloadJson).toMatch(/"big": ?9007199254740993\b/);

    const second = await runSync({ spec, source: streamSource(columns, rows), destination: dest, ledger: l });
    expect(second.rows).toMatchObject({ total: 25_000, added: 0, changed: 0, removed: 0, unchanged: 25_000 });

    const next = rows.filter((r) => r.id !== 'c7');
    next[3] = { ...next[3]!, email: 'new@example.com' };
    next.push({ id: 'c_new', email: 'n@example.com', amount: '1', prefs: null });
    const before = dest.applied.length;
    const third = await runSync({ spec, source: streamSource(columns, next), destination: dest, ledger: l });
    expect(third.rows).toMatchObject({ added: 1, changed: 1, removed: 1, unchanged: 24_998 });
    const changes = dest.applied.slice(before).flatMap((op) => op.changes.map((c) => `${c.action}:${c.key}`));
    expect(changes.sort()).toEqual(['add:c_new', 'change:c3', 'remove:c7']);
  });

  test('a type the ledger cannot hold names the column', async () => {
    const l = await ledger();
    const source = streamSource([...columns.slice(0, 3), { name: 'prefs', type: 'BLOB' }], customers(3));
    const r = await runSync({ spec, source, destination: memoryDestination(), ledger: l });
    expect(r.status).toBe('failed');
    expect(r.error).toMatchObject({ code: 'source_failed' });
    expect(r.error!.message).toContain('column "prefs": type BLOB');
  });

  test('a value of the wrong kind names the column and the row, never the value', async () => {
    const l = await ledger();
    const rows = customers(5);
    (rows[3] as Record<string, unknown>).email = { secret: 'sk_live_123' };
    const r = await runSync({ spec, source: streamSource(columns, rows), destination: memoryDestination(), ledger: l });
    expect(r.status).toBe('failed');
    expect(r.error!.message).toBe('[stream] column "email", row 4: expected a string, got object');
    expect(JSON.stringify(r)).not.toContain('sk_live_123');
  });

  test('invalid rows are numbered from the streamed model', async () => {
    const l = await ledger();
    const dest = memoryDestination();
    dest.validate = (row) => (row.key === 'c2' ? [{ key: row.key, field: 'email', rule: 'email', message: 'not an email' }] : []);
    const r = await runSync({ spec, source: streamSource(columns, customers(4)), destination: dest, ledger: l });
    expect(r.rows).toMatchObject({ invalid: 1, synced: 3 });
    expect(r.invalid[0]).toMatchObject({ key: 'c2', row: 3 });
  });
});
