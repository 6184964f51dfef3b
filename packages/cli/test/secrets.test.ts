import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { expect, test } from 'vitest';
import { startEmulator } from '@syncline/knock-emulator';
import { cliAgainst, copyExample } from './cli-io.js';

const SENTINEL = 'sk_test_SENTINEL_8f3a2c1d';

/** Every text value of every table of a DuckDB file, as one string. */
async function ledgerText(file: string): Promise<string> {
  const instance = await DuckDBInstance.create(file);
  const conn = await instance.connect();
  let text = '';
  for (const t of ['meta', 'snapshot', 'runs', 'row_results', 'exchanges'])
    text += JSON.stringify((await conn.runAndReadAll(`SELECT * FROM ${t}`)).getRowObjectsJson());
  conn.closeSync();
  instance.closeSync();
  return text;
}

test('the API key never appears in output, errors, run records or the debugger log: success, 401 and row failures', async () => {
  await using emulator = await startEmulator({ port: 0, bulkDelayMs: 20, apiKeys: [SENTINEL] });
  const dir = copyExample('users', 'syncline-secrets-');
  const config = join(dir, 'sync.yaml');
  const outputs: string[] = [];
  const cli = async (key: string, ...args: string[]) => {
    const { code, out, err } = await cliAgainst(() => emulator, key)(...args);
    outputs.push(out, err);
    return code;
  };
  // A wrong key that contains the sentinel: Knock answers 401, the run fails after the first response.
  expect(await cli(`${SENTINEL}x`, 'run', config)).toBe(3);
  expect(outputs.join('\n')).toMatch(/the API key was rejected \(401\)/);
  // Row failures carry Knock's messages, never the key. A first run of 200 rows goes out in a bulk job, so
  // the fault rejects every call (bulk or single) that carries one of two keys: the destination splits the
  // batch down to those rows, which fail with Knock's 422.
  emulator.control.addFault({ match: '*', status: 422, count: null, ids: ['u_0001', 'u_0002'] });
  expect(await cli(SENTINEL, 'run', config, '--json')).toBe(1);
  emulator.control.clearFaults();
  expect(await cli(SENTINEL, 'run', config)).toBe(0);
  expect(await cli(SENTINEL, 'plan', config, '--json')).toBe(0);
  for (const cmd of [
    ['runs', config],
    ['rows', config, 'u_0001', '--json'],
  ])
    expect(await cli(SENTINEL, ...cmd)).toBe(0);
  const all = outputs.join('\n');
  expect(all).not.toContain('SENTINEL');
  const ledger = join(dir, '.syncline', 'example-users.duckdb');
  const text = await ledgerText(ledger);
  expect(text).toContain('/v1/users');
  expect(text).not.toContain('SENTINEL');
  // Not in any file Syncline wrote either (ledger, WAL, spill folder).
  for (const f of readdirSync(join(dir, '.syncline'), { recursive: true, withFileTypes: true }))
    if (f.isFile()) expect(readFileSync(join(f.parentPath, f.name)).includes(Buffer.from('SENTINEL'))).toBe(false);
});
