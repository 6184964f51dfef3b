import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { openDuckdbLedger } from '../src/index.js';

const setting = async (ledger: Awaited<ReturnType<typeof openDuckdbLedger>>, name: string): Promise<string> =>
  String((await ledger.connection.runAndReadAll(`SELECT current_setting('${name}') AS v`)).getRowObjectsJson()[0]!.v);

describe('ledger DuckDB settings', () => {
  test('a :memory: ledger gets a memory limit and its own temp directory, removed on close', async () => {
    const ledger = await openDuckdbLedger({ path: ':memory:' });
    // DuckDB's default would be 80 % of the machine's RAM.
    expect(await setting(ledger, 'memory_limit')).toMatch(/^(953\.6 MiB|1\.0 GiB|1000\.0 MB)$/);
    const temp = await setting(ledger, 'temp_directory');
    expect(temp.startsWith(tmpdir())).toBe(true);
    expect(existsSync(temp)).toBe(true);
    await ledger.close();
    expect(existsSync(temp)).toBe(false);
  });

  test('a file ledger spills next to its file, and the ledger: block overrides the memory limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syncline-settings-'));
    try {
      const file = join(dir, 'users.duckdb');
      await using ledger = await openDuckdbLedger({ path: file, memoryLimit: '512MB' });
      expect(await setting(ledger, 'temp_directory')).toBe(`${file}.tmp`);
      expect(await setting(ledger, 'memory_limit')).toMatch(/^(488\.2 MiB|512\.0 MB)$/);
      // Not DuckDB's 16 MB: checkpoints of a big ledger every few commit windows doubled the writes' cost.
      expect(await setting(ledger, 'checkpoint_threshold')).toMatch(/^(244\.1 MiB|256\.0 MB)$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
