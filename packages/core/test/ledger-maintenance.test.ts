import { mkdtempSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { inspectLedgerFile, ledgerOpenError, openDuckdbLedger, pruneLedgerHistory } from '../src/index.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'syncline-maint-'));

describe('inspectLedgerFile', () => {
  test('a sound ledger passes; an overwritten header, a foreign file and a short file are named', async () => {
    const file = join(tmp(), 'l.duckdb');
    await (await openDuckdbLedger({ path: file })).close();
    expect(inspectLedgerFile(file)).toBeNull();
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(64, 0x62), 0, 64, 8192 + 40);
    closeSync(fd);
    expect(inspectLedgerFile(file)).toBe('the database header at byte 8192 fails its checksum');
    const e = ledgerOpenError(
      file,
      new Error('IO Error: Corrupt database file: computed checksum 1 does not match stored checksum 2 in block at location 8192'),
    );
    expect([e.code, e.message]).toEqual(['ledger_damaged', expect.stringContaining(`the ledger file is damaged: ${file}`)]);
    const foreign = join(tmp(), 'f.duckdb');
    const fd2 = openSync(foreign, 'w');
    writeSync(fd2, Buffer.alloc(20_000, 0x61));
    closeSync(fd2);
    expect(inspectLedgerFile(foreign)).toMatch(/not a DuckDB database/);
    expect(inspectLedgerFile(join(tmp(), 'missing.duckdb'))).toBeNull();
  });

  test('a lock error on a sound file is "locked"; any other error is reported as is', async () => {
    const file = join(tmp(), 'l.duckdb');
    await (await openDuckdbLedger({ path: file })).close();
    const lock = ledgerOpenError(
      file,
      new Error(`IO Error: Could not set lock on file "${file}": Conflicting lock is held in node (PID 1)`),
    );
    expect(lock.code).toBe('locked');
    expect(ledgerOpenError(file, new Error('IO Error: Permission denied')).code).toBe('ledger_failed');
  });
});

describe('pruneLedgerHistory', () => {
  test('keeps row results and exchanges of runs younger than `days`, and at most `runs` runs', async () => {
    await using ledger = await openDuckdbLedger({ path: ':memory:' });
    const ago = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
    for (const [id, days] of [
      ['old', 100],
      ['mid', 10],
      ['new', 1],
    ] as const) {
      await ledger.saveRun({
        runId: id,
        sync: 's',
        startedAt: ago(days),
        finishedAt: ago(days),
        status: 'succeeded',
        counts: {},
        phases: [],
        requests: 1,
        error: null,
      });
      await ledger.commit(id, {
        upserts: [],
        removes: [],
        results: [{ key: `k-${id}`, action: 'add', status: 'synced' }],
        exchanges: [
          { method: 'PUT', path: '/v1/users/x', status: 200, attempt: 1, startedAt: ago(days), durationMs: 1, requestHeaders: {} },
        ],
      });
    }
    const kept = async () =>
      (
        await ledger.connection.runAndReadAll(
          `SELECT DISTINCT run_id FROM row_results UNION SELECT DISTINCT run_id FROM exchanges ORDER BY 1`,
        )
      )
        .getRowObjectsJson()
        .map((r) => r.run_id);
    expect(await pruneLedgerHistory(ledger.connection, {})).toBe(2);
    expect(await kept()).toEqual(['mid', 'new']);
    await pruneLedgerHistory(ledger.connection, { days: 90, runs: 1 });
    expect(await kept()).toEqual(['new']);
    expect(await ledger.runs()).toHaveLength(3);
  });
});
