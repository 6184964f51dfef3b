import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '@syncline/knock-emulator';
import { cliAgainst, copyExample } from './cli-io.js';

// Issue 12 "remote before" from the CLI: `syncline plan --remote` reads the sample rows from Knock and shows
// Knock now → last sent → will send, with drift where someone else edited a user.
const API_KEY = 'sk_test_remote';
let emulator: RunningEmulator;
let config: string;
let dir: string;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0, bulkDelayMs: 10, rateLimits: false });
  dir = copyExample('users', 'syncline-remote-');
  config = join(dir, 'sync.yaml');
});
afterAll(async () => emulator.close());

const cli = cliAgainst(() => emulator, API_KEY);

test('plan --remote shows Knock now, last sent and will send per sample field, and marks drift', async () => {
  expect((await cli('run', config)).code).toBe(0);
  // Someone renames u_0001 in Knock; the model changes u_0001's plan.
  const res = await fetch(`${emulator.url}/v1/users/u_0001`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Lucía T. (edited in Knock)' }),
  });
  expect(res.status).toBe(200);
  const csv = join(dir, 'users.csv');
  writeFileSync(csv, readFileSync(csv, 'utf8').replace('Asia/Kolkata,free,', 'Asia/Kolkata,team,'));
  const writes = () => emulator.control.requests().filter((e) => e.method !== 'GET').length;
  const before = writes();

  const json = await cli('plan', config, '--remote', '--json');
  expect(json.code).toBe(0);
  const doc = JSON.parse(json.out) as { remote: { key: string; found: boolean; fields: Record<string, unknown>[] }[] };
  expect(doc.remote).toEqual([expect.objectContaining({ key: 'u_0001', found: true })]);
  const fields = Object.fromEntries(doc.remote[0]!.fields.map((f) => [f['field'], f]));
  expect(fields['name']).toEqual({
    field: 'name',
    now: 'Lucía T. (edited in Knock)',
    lastSent: 'Lucía Torvalds',
    willSend: 'Lucía Torvalds',
    drift: true,
  });
  expect(fields['plan']).toEqual({ field: 'plan', now: 'free', lastSent: 'free', willSend: 'team', drift: false });

  const text = await cli('plan', config, '--remote');
  expect(text.code).toBe(0);
  expect(text.out).toContain('Knock now -> last sent -> will send (1 sample row, 1 field drifted)');
  expect(text.out).toMatch(/name +"Lucía T\. \(edited in Knock\)" -> "Lucía Torvalds" -> "Lucía Torvalds" {2}drift: Knock differs/);
  expect(text.out).toMatch(/plan +"free" -> "free" -> "team"\n/);
  // Reads only: nothing was written to Knock.
  expect(writes()).toBe(before);

  const offline = await cli('plan', config, '--remote', '--offline');
  expect(offline.code).toBe(2);
  expect(offline.err).toMatch(/--remote reads the sample rows from Knock; it cannot be used with --offline/);
});
