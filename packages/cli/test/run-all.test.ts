import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '@syncline/knock-emulator';
import { cliAgainst } from './cli-io.js';

// Issue 14: `syncline run --all [--dir DIR]` runs every sync of a folder one after another; a failure of one
// does not stop the others, and the exit code is the worst of them.
const API_KEY = 'sk_test_run_all';
let emulator: RunningEmulator;
let dir: string;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0, bulkDelayMs: 10, rateLimits: false });
  dir = mkdtempSync(join(tmpdir(), 'syncline-all-'));
  writeFileSync(join(dir, 'people.csv'), 'id,email\na1,a1@example.com\na2,a2@example.com\n');
  const sync = (name: string, model: string) =>
    [
      `name: ${name}`,
      'source: { type: duckdb, tables: { people: ./people.csv } }',
      `model: ${model}`,
      'key: id',
      'destination: { type: knock }',
      'sync: { type: users, mode: upsert, fields: { email: email }, onDelete: nothing }',
      '',
    ].join('\n');
  writeFileSync(join(dir, 'a-first.yaml'), sync('first', "select id || '-first' as id, email from people"));
  writeFileSync(join(dir, 'b-broken.yaml'), sync('broken', 'select * from nosuch'));
  writeFileSync(join(dir, 'c-last.yaml'), sync('last', "select id || '-last' as id, email from people"));
  // Not syncs: the workspace file and unrelated YAML are left alone.
  writeFileSync(join(dir, 'syncline.yaml'), 'alerts: []\n');
  writeFileSync(join(dir, 'compose.yaml'), 'services: {}\n');
});
afterAll(async () => emulator.close());

const cli = cliAgainst(() => emulator, API_KEY);

test('run --all runs every sync of the folder, goes on after a failure, and exits with the worst code', async () => {
  const alone = await cli('run', join(dir, 'b-broken.yaml'));
  expect(alone.code).not.toBe(0);
  const all = await cli('run', '--all', '--dir', dir);
  expect(all.code).toBe(alone.code);
  expect(all.err).toContain(`[1/3] ${join(dir, 'a-first.yaml')}`);
  expect(all.err).toContain(`[3/3] ${join(dir, 'c-last.yaml')}`);
  expect(all.err).toContain(`Ran 3 of 3 syncs: ${join(dir, 'a-first.yaml')}: exit 0, ${join(dir, 'b-broken.yaml')}: exit ${alone.code}`);
  const users = emulator.control
    .requests()
    .filter((e) => e.method === 'PUT')
    .map((e) => decodeURIComponent(e.path.split('/').pop()!))
    .sort();
  expect(users).toEqual(['a1-first', 'a1-last', 'a2-first', 'a2-last']);
});

test('run --all with a config, or a folder without syncs, is a usage error', async () => {
  expect((await cli('run', '--all', join(dir, 'a-first.yaml'))).code).toBe(2);
  const empty = mkdtempSync(join(tmpdir(), 'syncline-all-empty-'));
  const none = await cli('run', '--all', '--dir', empty);
  expect(none.code).toBe(2);
  expect(none.err).toMatch(/no sync configs/);
});
