import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { openDuckdbLedger, type LedgerWrite } from '../src/index.js';

// Marks and settlements are appended to `doubt_log` and folded into `in_doubt` later (issue 10: a write
// must not upsert into an indexed table). The fold must give exactly what applying each write in turn
// gives: a confirmation clears a key; a mark adds it, or makes it sticky when it is already in doubt
// (keeping the old payload when the new one is null); a rejection clears it unless it is sticky.

interface Doubt {
  payload: string | null;
  sticky: boolean;
}

/** The rules, applied write by write (settled keys first, then the marks), as a plain map. */
function applyInOrder(state: Map<string, Doubt>, w: Pick<LedgerWrite, 'doubts' | 'settled' | 'upserts'>): void {
  const confirmed = new Set(w.upserts.map((u) => u.key));
  for (const k of w.settled) if (confirmed.has(k) || !state.get(k)?.sticky) state.delete(k);
  for (const d of w.doubts) {
    const was = state.get(d.key);
    state.set(d.key, was ? { payload: d.payload ?? was.payload, sticky: true } : { payload: d.payload, sticky: false });
  }
}

const KEYS = ['a', 'b', 'c'];
const write = fc.record({
  doubts: fc.uniqueArray(
    fc.record({ key: fc.constantFrom(...KEYS), payload: fc.option(fc.constantFrom('{"v":1}', '{"v":2}'), { nil: null }) }),
    { selector: (d) => d.key, maxLength: 3 },
  ),
  settled: fc.uniqueArray(fc.record({ key: fc.constantFrom(...KEYS), ok: fc.boolean() }), { selector: (s) => s.key, maxLength: 3 }),
});

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('doubt log', () => {
  test('folding the log gives the state of applying each write in turn (also across a reopen)', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(write, { maxLength: 6 }), fc.array(write, { maxLength: 6 }), async (first, second) => {
        const dir = mkdtempSync(join(tmpdir(), 'syncline-doubt-log-'));
        dirs.push(dir);
        const path = join(dir, 'l.duckdb');
        const expected = new Map<string, Doubt>();
        const toWrite = (w: (typeof first)[number]): LedgerWrite => ({
          doubts: w.doubts,
          settled: w.settled.map((s) => s.key),
          upserts: w.settled.filter((s) => s.ok).map((s) => ({ key: s.key, hash: '0'.repeat(32), payload: '{}' })),
          removes: [],
          results: [],
          exchanges: [],
        });
        {
          await using ledger = await openDuckdbLedger({ path });
          for (const w of first) {
            await ledger.write('r1', toWrite(w));
            applyInOrder(expected, toWrite(w));
          }
          // Folded at the end of a run...
          await ledger.fold();
          for (const w of second) {
            await ledger.write('r2', toWrite(w));
            applyInOrder(expected, toWrite(w));
          }
          // ...or, after a kill, when the ledger is opened next (closing does not fold).
        }
        await using ledger = await openDuckdbLedger({ path });
        const rows = (await ledger.connection.runAndReadAll(`SELECT k, payload, sticky FROM in_doubt ORDER BY k`)).getRowObjectsJson();
        expect(rows).toEqual(
          [...expected].sort(([a], [b]) => a.localeCompare(b)).map(([k, d]) => ({ k, payload: d.payload, sticky: d.sticky })),
        );
        expect(await ledger.inDoubtCount()).toBe(expected.size);
      }),
      { numRuns: 30 },
    );
  });

  test('a write appends to the logs and touches no indexed table; reads count what is logged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syncline-doubt-log-'));
    dirs.push(dir);
    const path = join(dir, 'l.duckdb');
    {
      await using ledger = await openDuckdbLedger({ path });
      await ledger.write('r1', {
        doubts: [
          { key: 'a', payload: '{"v":1}' },
          { key: 'b', payload: '{"v":1}' },
        ],
        settled: [],
        upserts: [],
        removes: [],
        results: [],
        exchanges: [],
      });
      await ledger.write('r1', {
        doubts: [{ key: 'c', payload: '{"v":1}' }],
        settled: ['a'],
        upserts: [{ key: 'a', hash: '0'.repeat(32), payload: '{"v":1}', added: true }],
        removes: [],
        results: [],
        exchanges: [],
      });
    }
    // Closed without a fold (as a kill leaves it): the marks are in the log only.
    {
      const db = await DuckDBInstance.create(path);
      const c = await db.connect();
      const n = async (sql: string) => Number((await c.runAndReadAll(sql)).getRowObjectsJson()[0]!.n);
      expect(await n(`SELECT count(*) AS n FROM doubt_log`)).toBe(4);
      expect(await n(`SELECT count(*) AS n FROM in_doubt`)).toBe(0);
      c.closeSync();
      db.closeSync();
    }
    await using ledger = await openDuckdbLedger({ path });
    expect(await ledger.inDoubtCount()).toBe(2);
    expect(await ledger.snapshotSize()).toBe(1);
  });
});
