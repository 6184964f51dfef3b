import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '@syncline/knock-emulator';
import { openDuckdbLedger } from '@syncline/core';
import { generatedUsersSync, runAndSignal, type SignalledRun } from './cli-io.js';

// Issue 10/9 §4: Ctrl-C of a big first sync returns within the stop timeout (ux.md §3: at most 10 s for
// calls in flight): the run does not fold its logs or checkpoint the ledger on the way out (that took > 30 s
// after millions of rows); the next open does it. The next run resumes: every row reaches Knock, and only
// rows left in doubt by the stop are sent twice.
const API_KEY = 'sk_test_stop_first';
const BULK = 'POST /v1/users/bulk/identify';
const ROWS = 200_000;
let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, rateLimits: false, logBodies: true });
});
afterAll(async () => emulator.close());

/** `syncline run` of `config`; sends SIGINT once `ready()` holds. */
const run = (config: string, ready: () => boolean): Promise<SignalledRun> =>
  runAndSignal(['run', config], {
    env: { ...process.env, KNOCK_API_KEY: API_KEY, KNOCK_BASE_URL: emulator.url, NO_COLOR: '1' },
    signals: ['SIGINT'],
    ready,
  });

/** How many times each user id was sent in a bulk identify. */
function sentTimes(): Map<string, number> {
  const times = new Map<string, number>();
  for (const e of emulator.control.requests())
    if (e.route === BULK && e.status < 300)
      for (const u of (e.body as { users: { id: string }[] }).users) times.set(u.id, (times.get(u.id) ?? 0) + 1);
  return times;
}

// A first sync of 200,000 rows through the real bin on a shared 2-core machine: a minute or two.
describe('Ctrl-C of a big first sync', { timeout: 600_000 }, () => {
  test('stops within the stop timeout without folding or checkpointing; the next run resumes with nothing lost and only rows in doubt resent', async () => {
    const s = generatedUsersSync(mkdtempSync(join(tmpdir(), 'syncline-stop-first-')), ROWS, 'first');
    writeFileSync(
      s.config,
      readFileSync(s.config, 'utf8').replace('destination: { type: knock }', 'destination: { type: knock, tiers: off }'),
    );
    const bulks = (): number => emulator.control.requests().filter((e) => e.route === BULK).length;
    const stopped = await run(s.config, () => bulks() >= 30);
    expect(stopped.err).toContain(
      'in flight (at most 10 s) and committing confirmed rows… (press Ctrl-C again to stop now; unconfirmed rows are sent again on the next run)',
    );
    // Stopped after 30 bulk jobs of 200 with tiers off: bulk jobs are being processed, so calls are in flight.
    expect(stopped.err).toMatch(/Interrupt received\. Finishing [1-9][\d,]* calls? in flight/);
    expect(stopped.code).toBe(130);
    expect(stopped.out).toMatch(/Run r_\w+ stopped: [\d,]+ rows confirmed and committed, [\d,]+ left for the next run\./);
    // Calls in flight get at most 10 s; the rest (run record, close) must not add a fold or a checkpoint.
    expect(stopped.afterSignalMs).toBeLessThan(15_000);
    // Left for the next open: the write-ahead log (no checkpoint at close) and the unfolded doubt log.
    expect(existsSync(`${s.ledger}.wal`) && statSync(`${s.ledger}.wal`).size > 0).toBe(true);
    const raw = await DuckDBInstance.create(s.ledger);
    const c = await raw.connect();
    const logged = Number((await c.runAndReadAll(`SELECT count(*) AS n FROM doubt_log`)).getRowObjectsJson()[0]!.n);
    c.closeSync();
    raw.closeSync();
    expect(logged).toBeGreaterThan(0);

    const inDoubt = new Set<string>();
    let committed: number;
    {
      await using ledger = await openDuckdbLedger({ path: s.ledger });
      for (const r of (await ledger.connection.runAndReadAll(`SELECT k FROM in_doubt`)).getRowObjectsJson()) inDoubt.add(String(r.k));
      committed = await ledger.snapshotSize();
      expect((await ledger.runs()).map((r) => r.status)).toEqual(['aborted']);
    }
    expect(committed).toBeGreaterThan(0);
    expect(committed).toBeLessThan(ROWS);

    const resumed = await run(s.config, () => false);
    expect(resumed.code, resumed.err).toBe(0);
    await using ledger = await openDuckdbLedger({ path: s.ledger });
    expect(await ledger.snapshotSize()).toBe(ROWS);
    expect(await ledger.inDoubtCount()).toBe(0);
    const times = sentTimes();
    expect(times.size).toBe(ROWS);
    const twice = [...times].filter(([, n]) => n > 1).map(([k]) => k);
    for (const k of twice) expect(inDoubt.has(k), k).toBe(true);
    expect([...times.values()].filter((n) => n > 2)).toEqual([]);
  });
});
