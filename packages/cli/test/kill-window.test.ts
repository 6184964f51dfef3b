import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { startEmulator, type RunningEmulator } from '@syncline/knock-emulator';
import { openDuckdbLedger } from '@syncline/core';
import { acceptedUserWrites, startBin, writeFileAtomic } from './cli-io.js';

// Crash safety with grouped ledger writes (issue 10): confirmed rows wait up to a commit window before
// they are written. A `kill -9` inside that window must lose nothing: those rows are still in doubt, the
// snapshot holds only what Knock confirmed, and the next run sends again exactly the rows in doubt. The
// kill is timed on what Knock has accepted (not on a clock), so it lands inside a window on a busy machine.
const API_KEY = 'sk_test_killwindow';
const ROWS = 3000;
const KILLS = 3;

let emulator: RunningEmulator;
let dir: string;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0, bulkDelayMs: 50, logBodies: true, requestLogLimit: 100_000 });
  dir = mkdtempSync(join(tmpdir(), 'syncline-killwindow-'));
  writeFileSync(
    join(dir, 'sync.yaml'),
    [
      'name: killwindow',
      'source: { type: duckdb, tables: { users: ./users.csv } }',
      'model: select * from users',
      'key: id',
      'destination: { type: knock }',
      // A long window, so that confirmations pile up unwritten while the run goes on.
      'ledger: { commitWindowMs: 60000, commitWindowRows: 1000000 }',
      'sync:',
      '  type: users',
      '  mode: upsert',
      '  fields: { email: email, name: name }',
      '',
    ].join('\n'),
  );
});
afterAll(async () => emulator?.close());

function writeModel(version: number): void {
  const lines = Array.from({ length: ROWS }, (_, i) => `u${String(i).padStart(5, '0')},user${i}@example.com,User ${i} v${version}`);
  writeFileAtomic(join(dir, 'users.csv'), ['id,email,name', ...lines].join('\n') + '\n');
}

/** User writes Knock accepted since the last call, as `id → payload`. */
const acceptedWrites = acceptedUserWrites(() => emulator, ['email', 'name']);

/** Runs `syncline run`; with `killAfterAccepted`, kills it with SIGKILL once Knock accepted that many rows. */
function runCli(killAfterAccepted: number | null): Promise<{ killed: boolean; code: number | null }> {
  const child = startBin(['run', join(dir, 'sync.yaml'), '--json'], {
    env: { ...process.env, KNOCK_API_KEY: API_KEY, KNOCK_BASE_URL: emulator.url },
    stdio: 'ignore',
  });
  const from = emulator.control.requests({ since: 0 }).at(-1)?.seq ?? 0;
  let killed = false;
  const poll =
    killAfterAccepted === null
      ? undefined
      : setInterval(() => {
          let accepted = 0;
          for (const e of emulator.control.requests({ since: from }))
            if (e.status < 300 && e.method !== 'GET')
              accepted += e.route === 'POST /v1/users/bulk/identify' ? (e.body as { users: unknown[] }).users.length : 1;
          if (accepted >= killAfterAccepted) killed = child.kill('SIGKILL');
        }, 5);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearInterval(poll);
      resolve({ killed: killed && code === null, code });
    }),
  );
}

const ledgerPath = (): string => join(dir, '.syncline', 'killwindow.duckdb');

describe('kill -9 inside a commit window', () => {
  test('confirmed rows not yet written stay in doubt; the next run resends only rows in doubt', { timeout: 240_000 }, async () => {
    writeModel(0);
    expect((await runCli(null)).code).toBe(0);
    acceptedWrites();
    const duplicatesPerKill: number[] = [];
    for (let k = 1; k <= KILLS; k++) {
      writeModel(k);
      // Kill once Knock accepted a third of the rows: with a 60 s window none of them is written yet.
      const r = await runCli(ROWS / 3);
      expect(r.killed).toBe(true);
      const before = new Map<string, string>();
      let inWindow: number;
      for (const [id, payload] of acceptedWrites()) before.set(id, payload);
      {
        // As the kill left the file (opened raw, before a ledger open folds its logs): the killed run's
        // marks were still in the unfolded `doubt_log`, not yet in `in_doubt`.
        const db = await DuckDBInstance.create(ledgerPath());
        const c = await db.connect();
        const logged = Number((await c.runAndReadAll(`SELECT count(*) AS n FROM doubt_log`)).getRowObjectsJson()[0]!.n);
        c.closeSync();
        db.closeSync();
        expect(logged).toBeGreaterThan(0);
      }
      {
        await using ledger = await openDuckdbLedger({ path: ledgerPath() });
        const read = async (sql: string) => (await ledger.connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, string>[];
        const doubt = new Set((await read(`SELECT k FROM in_doubt`)).map((x) => x.k!));
        const snapshot = new Map((await read(`SELECT k, payload FROM snapshot`)).map((x) => [x.k!, x.payload!]));
        // Every row Knock accepted from the killed run is either in doubt or committed with what Knock
        // holds (outcomes recorded before a chunk's in-doubt mark are written with it).
        const held = (id: string): string | undefined => {
          const text = snapshot.get(id);
          const o = text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>);
          return o && JSON.stringify([o.email, o.name]);
        };
        const lost = [...before].filter(([id, p]) => !doubt.has(id) && held(id) !== p);
        expect(lost.slice(0, 3)).toEqual([]);
        inWindow = [...before.keys()].filter((id) => doubt.has(id)).length;
        // The kill landed inside a window: confirmed rows were waiting to be written.
        expect(inWindow).toBeGreaterThan(0);
        // Every key not in doubt holds what Knock confirmed: the previous version, or this run's.
        const wrong = [...snapshot].filter(([id, p]) => !doubt.has(id) && !p.includes(`v${k - 1}`) && !before.has(id));
        expect(wrong.slice(0, 3)).toEqual([]);
      }
      // The same model once more: the rows Knock accepted before the kill are sent again (duplicates),
      // and nothing else is sent twice.
      expect((await runCli(null)).code).toBe(0);
      let duplicates = 0;
      const seen = new Set<string>();
      for (const [id, payload] of acceptedWrites()) {
        if (seen.has(id)) throw new Error(`${id} was written twice by one run`);
        seen.add(id);
        if (before.get(id) === payload) duplicates += 1;
      }
      // The rows confirmed inside the window are sent again (duplicates); the committed ones are not.
      duplicatesPerKill.push(duplicates);
      expect(duplicates).toBe(inWindow);
      expect(seen.size).toBe(ROWS - (before.size - inWindow));
    }
    console.log(`kill-window: duplicate writes per kill (rows Knock confirmed inside the window): ${duplicatesPerKill.join(', ')}`);
    await using ledger = await openDuckdbLedger({ path: ledgerPath() });
    expect(await ledger.inDoubtCount()).toBe(0);
    expect(await ledger.snapshotSize()).toBe(ROWS);
  });
});
