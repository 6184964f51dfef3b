import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { openDuckdbLedger, payloadProjection } from '../src/index.js';

// The run loop reads the next block of changes while ledger writes run (issue 10: 0.2-0.4 s of each
// 10,000-row write of a 10M-row run was queueing on the one DuckDB connection behind a block read, and the
// next block's marks waited behind both). Reads of changes go to a connection of their own.

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const FIELDS = { email: 'email' };
const MODEL = `SELECT * FROM (VALUES ('a', 'a@x.io'), ('b', 'b@x.io'), ('c', 'c@x.io')) AS t(id, email)`;

test('changes are read while the writing connection is busy, not after it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-change-reads-'));
  dirs.push(dir);
  await using ledger = await openDuckdbLedger({ path: join(dir, 'l.duckdb') });
  const columns = await ledger.describe(MODEL);
  await ledger.stage({ modelSql: MODEL, key: 'id', projection: payloadProjection(FIELDS, columns), fields: FIELDS, columns, salt: 's' });
  expect(await ledger.diff({ before: false })).toEqual({ add: 3, change: 0, remove: 0 });

  // Something slow on the connection that writes (in a run: a ledger write; here the model read again, for
  // row numbers, over 2 billion rows: many seconds), then a read of changes.
  const stop = new AbortController();
  const busy = ledger.rowNumbers({
    modelSql: `SELECT i AS id FROM range(2000000000) AS t(i)`,
    key: 'id',
    keys: ['none'],
    signal: stop.signal,
  });
  busy.catch(() => undefined);
  let readFirst = false;
  const read = ledger.readChanges(1, 10).then((changes) => {
    readFirst = true;
    return changes;
  });
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000).unref());
  try {
    expect(
      await Promise.race([
        read.then(() => 'read' as const),
        busy.then(
          () => 'busy' as const,
          () => 'busy' as const,
        ),
        timeout,
      ]),
    ).toBe('read');
  } finally {
    stop.abort();
  }
  await busy.catch(() => undefined);
  expect(readFirst).toBe(true);
  expect((await read).map((c) => [c.seq, c.key, c.action])).toEqual([
    [1, 'a', 'add'],
    [2, 'b', 'add'],
    [3, 'c', 'add'],
  ]);
  // The writing connection works on after the interruption, and a write still copies from the changes.
  await ledger.write('r1', {
    doubts: (await read).map((c) => ({ key: c.key, payload: c.payload, seq: c.seq })),
    upserts: [],
    removes: [],
    results: [],
    exchanges: [],
    settled: [],
  });
  expect(await ledger.inDoubtCount()).toBe(3);
});
