import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { openDuckdbLedger, payloadProjection, type DuckdbLedger, type LedgerWrite, type StagedChange } from '../src/index.js';

// The end-of-run fold replaces changed keys in the snapshot and deletes removed ones. Deleting them by key
// scanned all of the snapshot's keys (~1.1 s of a 10M-row run's end, issue 10); the rows are now found by
// rowid on a connection of their own while the run sends, and the fold deletes by rowid. Rowids move only
// when a checkpoint compacts a table with deleted rows, which DuckDB does not do while another transaction
// is open: one is held from the capture to the fold. When a captured row is gone (or a confirmed key was
// not a staged change) the fold deletes by key. Either way the snapshot holds exactly one row per key.

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const FIELDS = { email: 'email', plan: 'plan' };
const MODEL = `SELECT * FROM (VALUES ('a', 'a@x.io', 'pro'), ('b', 'b@x.io', 'team'), ('c', 'c@x.io', 'free'), ('e', 'e@x.io', 'pro'))
  AS t(id, email, plan)`;

/** A ledger whose snapshot holds a, b, c, d (b and c with other plans), staged against MODEL: e is an add, b and c changes, d a removal. */
async function stagedLedger(deletedBefore = 0): Promise<{ ledger: DuckdbLedger; changes: StagedChange[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-fold-rowid-'));
  dirs.push(dir);
  const ledger = await openDuckdbLedger({ path: join(dir, 'l.duckdb') });
  const columns = await ledger.describe(MODEL);
  const salt = 's1';
  if (deletedBefore > 0)
    await ledger.connection.run(
      `INSERT INTO snapshot SELECT 'gone' || i, 0::UHUGEINT, '{}', 'r0', now(), NULL FROM range(${deletedBefore}) AS t(i)`,
    );
  await ledger.connection.run(
    `INSERT INTO snapshot SELECT id, ${ledger.rowHash(`('${salt}' || p)`)}, p, 'r0', now(), NULL FROM (
       SELECT id, json_object('email', email, 'plan', plan)::VARCHAR AS p FROM (VALUES ('a', 'a@x.io', 'pro'), ('b', 'b@x.io', 'free'), ('c', 'c@x.io', 'pro'), ('d', 'd@x.io', 'pro')) AS t(id, email, plan))`,
  );
  if (deletedBefore > 0) {
    await ledger.connection.run('CHECKPOINT');
    await ledger.connection.run(`DELETE FROM snapshot WHERE k LIKE 'gone%'`);
  }
  await ledger.stage({ modelSql: MODEL, key: 'id', projection: payloadProjection(FIELDS, columns), fields: FIELDS, columns, salt });
  expect(await ledger.diff({ before: false })).toEqual({ add: 1, change: 2, remove: 1 });
  return { ledger, changes: await ledger.readChanges(1, 100) };
}

/** The run's two writes: every change marked, then every change confirmed. */
async function sendAll(ledger: DuckdbLedger, changes: StagedChange[]): Promise<void> {
  const none: LedgerWrite = { doubts: [], upserts: [], removes: [], results: [], exchanges: [], settled: [] };
  await ledger.write('r1', {
    ...none,
    doubts: changes.map((c) => ({ key: c.key, payload: c.action === 'add' ? c.payload : null, seq: c.seq })),
  });
  await ledger.write('r1', {
    ...none,
    upserts: changes
      .filter((c) => c.action !== 'remove')
      .map((c) => ({ key: c.key, hash: c.hash!, payload: c.payload!, added: c.action === 'add', fingerprint: c.fingerprint, seq: c.seq })),
    removes: changes.filter((c) => c.action === 'remove').map((c) => c.key),
    results: changes.map((c) => ({ key: c.key, action: c.action, status: 'synced' as const, seq: c.seq })),
    settled: changes.map((c) => c.key),
  });
}

/** Waits until the rows the run replaces were found (the first write starts that, beside the send). */
async function captured(ledger: DuckdbLedger): Promise<{ r: string; k: string }[]> {
  for (let i = 0; i < 500; i++) {
    try {
      const rows = (
        await ledger.connection.runAndReadAll(`SELECT r::VARCHAR AS r, k FROM syncline_work.replaced ORDER BY k`)
      ).getRowObjectsJson();
      return rows as { r: string; k: string }[];
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  throw new Error('the replaced rows were never captured');
}

const snapshotOf = async (ledger: DuckdbLedger): Promise<string[][]> =>
  (await ledger.connection.runAndReadAll(`SELECT k, payload FROM snapshot ORDER BY k, payload`)).getRowsJson() as string[][];

const EXPECTED = [
  ['a', '{"email":"a@x.io","plan":"pro"}'],
  ['b', '{"email":"b@x.io","plan":"team"}'],
  ['c', '{"email":"c@x.io","plan":"free"}'],
  ['e', '{"email":"e@x.io","plan":"pro"}'],
];

test('the rows a run replaces are found while it sends, and the fold deletes exactly those', async () => {
  const { ledger, changes } = await stagedLedger();
  try {
    await sendAll(ledger, changes);
    // b, c (changed) and d (removed) are in the snapshot; e (added) is not.
    expect((await captured(ledger)).map((x) => x.k)).toEqual(['b', 'c', 'd']);
    expect(await ledger.fold()).toBeGreaterThan(0);
    expect(await snapshotOf(ledger)).toEqual(EXPECTED);
    expect(await ledger.inDoubtCount()).toBe(0);
  } finally {
    await ledger.close();
  }
});

test('a captured row already gone at the fold (deleted meanwhile): the fold deletes by key instead, nothing else is lost', async () => {
  const { ledger, changes } = await stagedLedger();
  try {
    await sendAll(ledger, changes);
    expect((await captured(ledger)).map((x) => x.k)).toEqual(['b', 'c', 'd']);
    // b's old row is gone before the fold (as after a fold in the middle of the run).
    await ledger.connection.run(`DELETE FROM snapshot WHERE k = 'b'`);
    await ledger.fold();
    expect(await snapshotOf(ledger)).toEqual(EXPECTED);
  } finally {
    await ledger.close();
  }
});

test('a checkpoint between the capture and the fold does not move the captured rows', async () => {
  // 245,760 deleted rows (two whole row groups) before a..d: a checkpoint that compacts the table would
  // move a..d to the front, unless a transaction still open keeps the rows in place.
  const { ledger, changes } = await stagedLedger(250_000);
  try {
    await sendAll(ledger, changes);
    const rows = await captured(ledger);
    expect(Number(rows[0]!.r)).toBeGreaterThan(245_760);
    await ledger.connection.run('CHECKPOINT');
    const now = (
      await ledger.connection.runAndReadAll(`SELECT rowid::VARCHAR AS r, k FROM snapshot WHERE k IN ('b', 'c', 'd') ORDER BY k`)
    ).getRowObjectsJson();
    expect(now).toEqual(rows);
    await ledger.fold();
    expect(await snapshotOf(ledger)).toEqual(EXPECTED);
  } finally {
    await ledger.close();
  }
});

test('a confirmed key that was not one of the staged changes is folded by key', async () => {
  const { ledger, changes } = await stagedLedger();
  try {
    await sendAll(ledger, changes);
    await captured(ledger);
    // A removal of `a` that no staged change announced (e.g. a caller's own commit).
    await ledger.write('r1', { doubts: [], upserts: [], removes: ['a'], results: [], exchanges: [], settled: ['a'] });
    await ledger.fold();
    expect(await snapshotOf(ledger)).toEqual(EXPECTED.filter(([k]) => k !== 'a'));
  } finally {
    await ledger.close();
  }
});
