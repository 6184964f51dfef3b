import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  openDuckdbLedger,
  payloadProjection,
  seqRanges,
  seqRangesSql,
  splitRuns,
  type DuckdbLedger,
  type LedgerWrite,
  type StagedChange,
} from '../src/index.js';

// A run's ledger writes name confirmed staged changes by their `seq`, and the ledger copies their payload,
// hash and fingerprint from the staged `changes` table by SQL instead of receiving every value from
// JavaScript (issue 10: ~25 appended values per changed row were most of a 10M-row run's ledger time).
// The ledger must end up exactly as if every value had been passed.

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const FIELDS = { email: 'email', plan: 'plan' };
const MODEL = `SELECT * FROM (VALUES ('a', 'a@x.io', 'pro'), ('b', 'b@x.io', 'team'), ('c', 'c@x.io', 'free'), ('e', 'e@x.io', 'pro'), ('f', 'f@x.io', 'pro'))
  AS t(id, email, plan)`;

/** A ledger whose snapshot holds a, b, c, d (b and c with other plans), staged against MODEL: e and f are adds, b and c changes, d a removal. */
async function stagedLedger(copyRunsFrom = 1): Promise<{ ledger: DuckdbLedger; changes: StagedChange[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-staged-writes-'));
  dirs.push(dir);
  const ledger = await openDuckdbLedger({ path: join(dir, 'l.duckdb'), copyRunsFrom });
  const columns = await ledger.describe(MODEL);
  const projection = payloadProjection(FIELDS, columns);
  const salt = 's1';
  const fingerprint = ledger.fingerprintSql(FIELDS, columns, salt);
  await ledger.connection.run(
    `INSERT INTO snapshot SELECT id, ${ledger.rowHash(`('${salt}' || p)`)}, p, 'r0', now(), NULL FROM (
       SELECT id, json_object('email', email, 'plan', plan)::VARCHAR AS p FROM (VALUES ('a', 'a@x.io', 'pro'), ('b', 'b@x.io', 'free'), ('c', 'c@x.io', 'pro'), ('d', 'd@x.io', 'pro')) AS t(id, email, plan))`,
  );
  await ledger.stage({ modelSql: MODEL, key: 'id', projection, fields: FIELDS, columns, salt, fingerprint });
  const counts = await ledger.diff({ before: false });
  expect(counts).toEqual({ add: 2, change: 2, remove: 1 });
  return { ledger, changes: await ledger.readChanges(1, 100) };
}

/** Two writes as the run loop makes them: marks, then outcomes (f rejected, the rest confirmed) with the next marks. */
function writes(changes: StagedChange[], withSeq: boolean): LedgerWrite[] {
  const seq = (c: StagedChange) => (withSeq ? { seq: c.seq } : {});
  const sent = changes.filter((c) => c.key !== 'c');
  const confirmed = sent.filter((c) => c.key !== 'f');
  const again = changes.filter((c) => c.key === 'c' || c.key === 'f');
  const mark = (c: StagedChange) => ({ key: c.key, payload: c.action === 'add' ? c.payload : null, ...seq(c) });
  return [
    { doubts: sent.map(mark), upserts: [], removes: [], results: [], exchanges: [], settled: [] },
    {
      doubts: again.map(mark),
      upserts: confirmed
        .filter((c) => c.action !== 'remove')
        .map((c) => ({ key: c.key, hash: c.hash!, payload: c.payload!, added: c.action === 'add', fingerprint: c.fingerprint, ...seq(c) })),
      removes: confirmed.filter((c) => c.action === 'remove').map((c) => c.key),
      results: [
        ...confirmed.map((c) => ({ key: c.key, action: c.action, status: 'synced' as const, ...seq(c) })),
        { key: 'f', action: 'add', status: 'failed' as const, code: 'invalid', field: 'email', message: 'bad email' },
      ],
      exchanges: [],
      settled: sent.map((c) => c.key),
    },
  ];
}

/** Every table a write touches, in a comparable form (the logs before the fold, the rest after it). */
async function state(ledger: DuckdbLedger): Promise<Record<string, unknown>> {
  const rows = async (sql: string) => (await ledger.connection.runAndReadAll(sql)).getRowObjectsJson();
  const out: Record<string, unknown> = {
    acked: await rows(`SELECT k, h::VARCHAR AS h, payload, run_id, f::VARCHAR AS f FROM acked ORDER BY k`),
    doubtLog: await rows(`SELECT k, ev, payload, run_id FROM doubt_log ORDER BY k, rowid`),
    rowResults: await rows(`SELECT * EXCLUDE (recorded_at) FROM row_results ORDER BY k`),
  };
  await ledger.fold();
  out.snapshot = await rows(`SELECT k, h::VARCHAR AS h, payload, run_id, f::VARCHAR AS f FROM snapshot ORDER BY k`);
  out.inDoubt = await rows(`SELECT k, payload, run_id, sticky FROM in_doubt ORDER BY k`);
  return out;
}

describe('ledger writes of staged changes', () => {
  test('seqRanges merges sorted runs of numbers', () => {
    expect(seqRanges([])).toEqual([]);
    expect(seqRanges([7, 3, 1, 2, 9, 8, 8])).toEqual([
      [1, 3],
      [7, 9],
    ]);
  });

  test('splitRuns keeps runs of at least minRun numbers and returns the other items; seqRangesSql bounds several ranges', () => {
    const items = [{ s: 9 }, { s: 1 }, {}, { s: 2 }, { s: 3 }, { s: 7 }, { s: 5 }, { s: 6 }];
    expect(splitRuns(items, (x) => x.s, 3)).toEqual({
      runs: [
        [1, 3],
        [5, 7],
      ],
      rest: [{ s: 9 }, {}],
    });
    expect(splitRuns(items, (x) => x.s, 4)).toEqual({ runs: [], rest: items });
    expect(seqRangesSql('seq', [[4, 8]])).toBe('(seq BETWEEN 4 AND 8)');
    expect(
      seqRangesSql('seq', [
        [1, 3],
        [7, 7],
      ]),
    ).toBe('(seq BETWEEN 1 AND 7 AND (seq BETWEEN 1 AND 3 OR seq BETWEEN 7 AND 7))');
  });

  test('rows named by seq end up as if every value had been passed, copied or appended', async () => {
    const results: Record<string, unknown>[] = [];
    // Values passed; every staged row copied (runs from 1 row); rows in runs of 2 or more copied, the rest appended.
    for (const [withSeq, copyRunsFrom] of [
      [false, 1],
      [true, 1],
      [true, 2],
    ] as const) {
      const { ledger, changes } = await stagedLedger(copyRunsFrom);
      try {
        for (const w of writes(changes, withSeq)) await ledger.write('r1', w);
        results.push(await state(ledger));
      } finally {
        await ledger.close();
      }
    }
    const [passed, copied, mixed] = results;
    // The case is not empty: both kinds of key enter the snapshot, d leaves it, f stays in doubt, c is marked.
    expect((passed!.snapshot as { k: string }[]).map((r) => r.k)).toEqual(['a', 'b', 'c', 'e']);
    expect((passed!.inDoubt as { k: string }[]).map((r) => r.k)).toEqual(['c', 'f']);
    expect(copied).toEqual(passed);
    expect(mixed).toEqual(passed);
  });

  test('a staged row in a long enough run takes its values from the staged changes, one in a shorter run from the write', async () => {
    // b and c are changes 3 and 4 (a run of 2), e is 1 (alone): with runs copied from 2 rows, b and c are copied.
    const { ledger, changes } = await stagedLedger(2);
    try {
      const byKey = (k: string) => changes.find((c) => c.key === k)!;
      expect([byKey('b').seq + 1, byKey('e').seq]).toEqual([byKey('c').seq, 1]);
      const wrong = (k: string) => ({ key: k, hash: '0'.repeat(32), payload: `{"wrong":"${k}"}`, fingerprint: null, seq: byKey(k).seq });
      await ledger.write('r1', {
        doubts: [],
        upserts: [wrong('b'), wrong('c'), { ...wrong('e'), added: true }],
        removes: [],
        results: [],
        exchanges: [],
        settled: ['b', 'c', 'e'],
      });
      await ledger.fold();
      const b = byKey('b');
      const c = byKey('c');
      expect(await ledger.snapshotRow('b')).toEqual({ hash: b.hash, payload: b.payload });
      expect(await ledger.snapshotRow('c')).toEqual({ hash: c.hash, payload: c.payload });
      expect(await ledger.snapshotRow('e')).toEqual({ hash: '0'.repeat(32), payload: '{"wrong":"e"}' });
    } finally {
      await ledger.close();
    }
  });
});
