import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { startEmulator } from '@syncline/knock-emulator';
import { main } from '../src/index.js';
import { captureIo } from './cli-io.js';

test('invalid rows are reported with field and rule, not sent, and sent once fixed; the rest is delivered', async () => {
  await using emulator = await startEmulator({ port: 0, bulkDelayMs: 20, logBodies: true });
  const dir = mkdtempSync(join(tmpdir(), 'syncline-invalid-'));
  cpSync(fileURLToPath(new URL('../../../examples/users/', import.meta.url)), dir, {
    recursive: true,
    filter: (s) => !s.includes('.syncline'),
  });
  const csvFile = join(dir, 'users.csv');
  const original = readFileSync(csvFile, 'utf8');
  const broken = original
    .replace(/^u_0005,[^,]*,/m, 'u_0005,not-an-email,')
    .replace(/^(u_0009,[^,]*,[^,]*,)[^,]*,/m, '$1+1-555,')
    .replace(/^(u_0011,[^,]*,[^,]*,[^,]*,)[^,]*,/m, '$1CET+1,');
  writeFileSync(csvFile, broken);
  const env = { ...process.env, KNOCK_API_KEY: 'sk_test_invalid', KNOCK_BASE_URL: emulator.url };
  const cli = async (...args: string[]) => {
    const io = captureIo(env);
    const code = await main(args, io);
    return { code, out: io.out() };
  };
  const plan = await cli('plan', join(dir, 'sync.yaml'));
  // Row number, key, field (once), value, rule (plan-truth.test.ts checks the columns through the real bin).
  expect(plan.out).toMatch(/! row 5 +id=u_0005 +email +"not-an-email" +is not a valid email address/);
  expect(plan.out).toMatch(/! row 9 +id=u_0009 +phone_number +"\+1-555" +is not an E\.164 phone number/);
  expect(plan.out).toMatch(/! row 11 +id=u_0011 +timezone +"CET\+1" +is not an IANA time zone/);
  expect(plan.out).toMatch(/3 invalid \(not sent\)\./);

  const run = await cli('run', join(dir, 'sync.yaml'), '--json');
  expect(JSON.parse(run.out.trim().split('\n').at(-1)!)).toMatchObject({ rows: { added: 197, invalid: 3, synced: 197, failed: 0 } });
  const sentIds = emulator.control
    .requests()
    .flatMap((r) =>
      r.method === 'PUT'
        ? [r.path.split('/').at(-1)!]
        : r.path.endsWith('/bulk/identify')
          ? (r.body as { users: { id: string }[] }).users.map((u) => u.id)
          : [],
    );
  expect(sentIds).toHaveLength(197);
  expect(sentIds).not.toContain('u_0005');

  writeFileSync(csvFile, original);
  const fixed = await cli('run', join(dir, 'sync.yaml'), '--json');
  expect(JSON.parse(fixed.out.trim().split('\n').at(-1)!)).toMatchObject({ rows: { added: 3, unchanged: 197, invalid: 0, synced: 3 } });
});
