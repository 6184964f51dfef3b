import { appendFileSync, cpSync, existsSync, mkdtempSync, openSync, closeSync, readFileSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBin } from './cli-io.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '@syncline/knock-emulator';
import { openDuckdbLedger } from '@syncline/core';

// Issue 11 §3: a damaged ledger is named (never mistaken for a lock), `syncline ledger verify|backup|restore`,
// the first-run notice, and retention of row results and exchanges. Every command runs the real bin.
const example = fileURLToPath(new URL('../../../examples/users/', import.meta.url));
let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, bulkDelayMs: 20 });
});
afterAll(async () => emulator.close());

/** A copy of the example sync (200 users) in a fresh folder; returns its config path and ledger path. */
function newSync(extraYaml = ''): { config: string; ledger: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-ledger-'));
  cpSync(example, dir, { recursive: true, filter: (s) => !s.includes('.syncline') });
  if (extraYaml) appendFileSync(join(dir, 'sync.yaml'), extraYaml);
  return { config: join(dir, 'sync.yaml'), ledger: join(dir, '.syncline', 'example-users.duckdb'), dir };
}

const cli = (...args: string[]) => runBin(args, { KNOCK_API_KEY: 'sk_test_ledger_SENTINEL', KNOCK_BASE_URL: emulator.url });

/** Overwrites `length` bytes at `at` with the letter b (the field report: "b" + "lock" read as a lock). */
function overwrite(file: string, at: number, length = 64): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(length, 0x62), 0, length, at);
  closeSync(fd);
}

// Each test starts the real bin several times; on a shared 2-core machine one start takes seconds.
describe('a damaged ledger is named', { timeout: 300_000 }, () => {
  test('an overwritten header: run says "the ledger file is damaged", names the file and the recovery, never "locked"', async () => {
    const s = newSync();
    expect((await cli('run', s.config)).code).toBe(0);
    overwrite(s.ledger, 4096 + 16);
    for (const command of ['run', 'plan']) {
      const r = await cli(command, s.config);
      expect(r.code).toBe(3);
      expect(r.err).toContain(`the ledger file is damaged: ${s.ledger}`);
      expect(r.err).toContain('fails its checksum');
      expect(r.err).toMatch(/Recovery: 1\) if you have a backup: syncline ledger restore/);
      expect(r.err).not.toMatch(/lock/i);
    }
    const verify = await cli('ledger', 'verify', s.config);
    expect(verify.code).toBe(3);
    expect(verify.err).toContain('the ledger file is damaged');
  });

  test('backup, verify, damage a data block, verify names it, restore, and the next run resends nothing', async () => {
    const s = newSync();
    expect((await cli('run', s.config)).code).toBe(0);
    const backup = join(s.dir, 'users-backup.duckdb');
    const b = await cli('ledger', 'backup', s.config, backup);
    expect(b.code).toBe(0);
    expect(b.out).toContain(`to ${backup} (verified)`);
    const ok = await cli('ledger', 'verify', s.config, '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ ok: true, problems: [], tables: { snapshot: 200, in_doubt: 0 } });
    // Past the three 4 KiB headers every block holds table data: damage them all.
    const size = statSync(s.ledger).size;
    for (let at = 3 * 4096 + 100; at < size; at += 4096) overwrite(s.ledger, at, 256);
    const bad = await cli('ledger', 'verify', s.config);
    expect(bad.code).toBe(3);
    expect(bad.err).toContain(`the ledger file is damaged: ${s.ledger}`);
    const restored = await cli('ledger', 'restore', s.config, backup);
    expect(restored.code).toBe(0);
    expect(restored.out).toMatch(/the previous file is kept as .*\.replaced-/);
    expect((await cli('ledger', 'verify', s.config)).code).toBe(0);
    const writes = () => emulator.control.requests().filter((e) => e.method !== 'GET').length;
    const before = writes();
    const again = await cli('run', s.config, '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out.trim().split('\n').at(-1)!)).toMatchObject({ status: 'succeeded', rows: { added: 0, changed: 0 } });
    expect(writes()).toBe(before);
  });

  test('restore refuses a damaged backup and leaves the ledger as it was', async () => {
    const s = newSync();
    expect((await cli('run', s.config)).code).toBe(0);
    const backup = join(s.dir, 'b.duckdb');
    expect((await cli('ledger', 'backup', s.config, backup)).code).toBe(0);
    overwrite(backup, 8);
    const before = readFileSync(s.ledger);
    const r = await cli('ledger', 'restore', s.config, backup);
    expect(r.code).toBe(3);
    expect(r.err).toContain(`the ledger file is damaged: ${backup}`);
    expect(readFileSync(s.ledger).equals(before)).toBe(true);
  });
});

describe('no ledger, retention', { timeout: 300_000 }, () => {
  test('plan and run without a ledger say it is a first run, how many rows will be sent and to restore a lost ledger', async () => {
    const s = newSync();
    const plan = await cli('plan', s.config);
    expect(plan.code).toBe(0);
    expect(plan.err).toMatch(
      /no ledger: this is a first run; 200 rows will be sent \(≈ 1 s at Knock's limits\); if a ledger existed, restore it first: syncline ledger restore/,
    );
    const run = await cli('run', s.config);
    expect(run.err).toMatch(/no ledger: this is a first run; 200 rows will be sent/);
    const second = await cli('plan', s.config);
    expect(second.err).not.toContain('no ledger');
  });

  test('keeps row results and exchanges of the last N runs (ledger.retention.runs), and `syncline runs` shows the ledger size', async () => {
    const s = newSync('ledger: { retention: { runs: 1 } }\n');
    expect((await cli('run', s.config)).code).toBe(0);
    expect((await cli('run', s.config, '--full-resync')).code).toBe(0);
    {
      await using ledger = await openDuckdbLedger({ path: s.ledger });
      const runs = await ledger.runs();
      expect(runs).toHaveLength(2);
      const kept = (
        await ledger.connection.runAndReadAll(`SELECT DISTINCT run_id FROM row_results UNION SELECT DISTINCT run_id FROM exchanges`)
      )
        .getRowObjectsJson()
        .map((r) => r.run_id);
      expect(kept).toEqual([runs[0]!.runId]);
    }
    const list = await cli('runs', s.config);
    expect(list.out).toMatch(/^Ledger .*example-users\.duckdb · \d+(\.\d)? (kB|MB) \(row results and calls kept 90 days, at most 1 runs\)/);
    expect(existsSync(s.ledger)).toBe(true);
  });
});
