import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '@syncline/knock-emulator';
import { main } from '../src/index.js';
import { captureIo, copyExample, runBin } from './cli-io.js';

// Issue 9 §2: the plan tells the truth. Everything here runs the real `syncline` bin against the emulator.
const KEY = 'sk_test_plan_truth_SENTINEL';
let emulator: RunningEmulator;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0, bulkDelayMs: 20 });
  env = { ...process.env, KNOCK_API_KEY: KEY, KNOCK_BASE_URL: emulator.url, NO_COLOR: '1' };
});
afterAll(async () => emulator.close());

/** Runs the real bin (from source through tsx) and collects its output. */
const syncline = (...args: string[]) => runBin(args, env);
/** Each test starts the bin several times (1.5–5 s each on a shared machine). */
const SLOW = 240_000;
/** Setup steps (not what a test checks) run in this process, which is much faster than a child. */
const inProcess = async (...args: string[]): Promise<{ code: number; out: string }> => {
  const io = captureIo(env);
  const code = await main(args, io);
  return { code, out: io.out() };
};
const lastJson = (text: string): Record<string, unknown> => JSON.parse(text.trim().split('\n').at(-1)!) as Record<string, unknown>;

const copy = (name: string): string => copyExample(name, `syncline-truth-${name}-`);
/** Drops the CSV lines whose first column is one of `keys`. */
const dropRows = (file: string, keys: string[]): void =>
  writeFileSync(
    file,
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => !keys.includes(l.split(',')[0]!))
      .join('\n'),
  );

describe('removals say what happens to the record, never field by field', () => {
  test(
    'onDelete: nothing — counted and printed as "left in Knock", recorded as skipped, never called deletes',
    async () => {
      const dir = copy('users');
      const config = join(dir, 'sync.yaml');
      expect((await inProcess('run', config)).code).toBe(0);
      dropRows(join(dir, 'users.csv'), ['u_0010', 'u_0042']);

      const plan = await syncline('plan', config);
      expect(plan.code).toBe(0);
      expect(plan.out).toMatch(/^ {2}- id=u_0010 {3}left in Knock \(onDelete: nothing\)$/m);
      expect(plan.out).toMatch(/^ {2}- id=u_0042 {3}left in Knock \(onDelete: nothing\)$/m);
      expect(plan.out).not.toMatch(/null is skipped|no longer in the model|\d+ deletes shown|[1-9]\d* to delete/);
      expect(plan.out).not.toMatch(/^ {6}~ /m); // no field lines at all: the only changes are removals
      expect(plan.out).toContain(
        'Plan: 0 to add, 0 to change, 0 to delete. 198 unchanged, 0 invalid (not sent), 2 left in Knock (onDelete: nothing).',
      );

      const json = lastJson((await syncline('plan', config, '--json')).out) as { summary: object; changes: object[] };
      expect(json.summary).toMatchObject({ add: 0, change: 0, delete: 0, unchanged: 198, invalid: 0, left_in_knock: 2 });
      expect(json.changes).toEqual([
        { action: 'left_in_knock', key: 'u_0010', reason: 'not_in_model', effect: 'left in Knock (onDelete: nothing)' },
        { action: 'left_in_knock', key: 'u_0042', reason: 'not_in_model', effect: 'left in Knock (onDelete: nothing)' },
      ]);

      const run = await syncline('run', config);
      expect(run.code).toBe(0);
      expect(run.out).toMatch(/removed 0 · unchanged 198 · invalid 0 · 2 left in Knock \(onDelete: nothing\)/);
      const runs = await syncline('runs', config);
      const latest = runs.out.split('\n').find((l) => l.startsWith('r_'))!; // newest first
      expect(latest).toMatch(/-0 {2}synced 0 failed 0 invalid 0 {2}2 left in Knock \(onDelete: nothing\)/);
      const runId = latest.split(' ')[0]!;
      expect((await inProcess('runs', 'show', config, runId)).out).toMatch(
        /removed 0 · left in Knock \(onDelete: nothing\) 2 · unchanged 198/,
      );
      const rows = await syncline('rows', config, 'u_0010');
      expect(rows.out).toMatch(new RegExp(`${runId} {2}remove {2}skipped {2}left in Knock \\(onDelete: nothing\\)`));
      expect(rows.out).not.toMatch(/remove\s+synced/);
      const rowsJson = lastJson((await inProcess('rows', config, 'u_0010', '--json')).out) as { results: object[] };
      expect(rowsJson.results[0]).toMatchObject({ runId, action: 'remove', status: 'skipped', code: 'kept' });
      const user = await fetch(`${emulator.url}/v1/users/u_0010`, { headers: { authorization: `Bearer ${KEY}` } });
      expect(user.status).toBe(200); // rightly left in Knock
      for (const text of [plan.out, plan.err, run.out, run.err, rows.out]) expect(text).not.toContain('SENTINEL');
    },
    SLOW,
  );

  test(
    'onDelete: delete, objects and audiences — one line each: delete user, delete object, remove from audience',
    async () => {
      const users = copy('users');
      const usersConfig = join(users, 'sync.yaml');
      writeFileSync(usersConfig, readFileSync(usersConfig, 'utf8').replace(/onDelete: \w+/, 'onDelete: delete'));
      const objects = copy('objects');
      const vip = copy('audiences');
      for (const dir of [users, objects, vip]) expect((await inProcess('run', join(dir, 'sync.yaml'))).code).toBe(0);
      dropRows(join(users, 'users.csv'), ['u_0007']);
      dropRows(join(objects, 'companies.csv'), ['hooli']);
      dropRows(join(vip, 'members.csv'), ['u_0001']);

      const [u, o, a] = await Promise.all([users, objects, vip].map((dir) => syncline('plan', join(dir, 'sync.yaml'))));
      expect(u!.out).toMatch(/^ {2}- id=u_0007 {3}delete user$/m);
      expect(u!.out).toContain('Plan: 0 to add, 0 to change, 1 to delete. 199 unchanged, 0 invalid (not sent).');
      expect(o!.out).toMatch(/^ {2}- company_id=hooli {3}delete object companies\/hooli$/m);
      expect(a!.out).toMatch(/^ {2}- user_id=u_0001 {3}remove from audience vip$/m);
      for (const p of [u!, o!, a!]) {
        expect(p.code).toBe(0);
        // Never drawn field by field as values going to null.
        expect(p.out).not.toMatch(/-> null|→ null|null is skipped|left in Knock/);
      }
      const json = lastJson((await inProcess('plan', usersConfig, '--json')).out) as { changes: object[] };
      expect(json.changes).toEqual([{ action: 'delete', key: 'u_0007', reason: 'not_in_model', effect: 'delete user' }]);
    },
    SLOW,
  );
});

describe('invalid rows', () => {
  test(
    'are counted once, located by row, key, field, rule and value (shortened, redacted), and stay invalid on reruns',
    async () => {
      const dir = copy('users');
      const config = join(dir, 'sync.yaml');
      const csv = join(dir, 'users.csv');
      const secret = `sk_live_${'Z'.repeat(24)}`;
      writeFileSync(
        csv,
        readFileSync(csv, 'utf8')
          .replace(/^u_0005,[^,]*,/m, 'u_0005,not-an-email,')
          .replace(/^(u_0009,[^,]*,[^,]*,)[^,]*,/m, '$1+1-555,')
          .replace(/^u_0120,[^,]*,/m, `u_0120,${secret} ${'x'.repeat(70)}@nowhere,`),
      );

      const first = await syncline('plan', config);
      expect(first.out).toContain('Plan: 197 to add, 0 to change, 0 to delete. 0 unchanged, 3 invalid (not sent).');
      const lines = first.out.split('\n').filter((l) => l.startsWith('  ! '));
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatch(/^ {2}! row 5 {4}id=u_0005 {2}email {9}"not-an-email" {2,}is not a valid email address$/);
      expect(lines[1]).toMatch(/^ {2}! row 9 {4}id=u_0009 {2}phone_number {2}"\+1-555" {2,}is not an E\.164 phone number/);
      expect(lines[2]).toMatch(/^ {2}! row 120 {2}id=u_0120 {2}email {9}"sk_…redacted x+…\(\+\d+ chars\) {2}is not a valid email address$/);
      for (const l of lines) expect(l).not.toMatch(/(email|phone_number) is not/); // the field once, beside the rule
      expect(first.out).not.toContain('ZZZZ');

      const json = lastJson((await syncline('plan', config, '--json')).out) as { summary: object; invalid: object[] };
      expect(json.summary).toMatchObject({ add: 197, change: 0, unchanged: 0, invalid: 3 });
      expect(json.invalid[0]).toEqual({
        row: 5,
        key: 'u_0005',
        field: 'email',
        value: '"not-an-email"',
        rule: 'email',
        message: 'is not a valid email address',
      });
      expect(json.invalid[2]).toMatchObject({
        row: 120,
        key: 'u_0120',
        value: expect.stringMatching(/^"sk_…redacted x+…\(\+\d+ chars\)$/),
      });

      const run = await inProcess('run', config, '--json');
      expect(lastJson(run.out)).toMatchObject({ rows: { added: 197, changed: 0, unchanged: 0, invalid: 3, synced: 197 } });
      // A rerun of the same model: the invalid rows are invalid again, never "added" again.
      const again = await syncline('plan', config);
      expect(again.out).toContain('Plan: 0 to add, 0 to change, 0 to delete. 197 unchanged, 3 invalid (not sent).');
      expect(again.out.split('\n').filter((l) => l.startsWith('  ! '))).toEqual(lines);
      const rerun = await syncline('run', config);
      expect(rerun.out).toMatch(/added 0 · changed 0 · removed 0 · unchanged 197 · invalid 3/);
      expect(rerun.out).toMatch(/^ {2}row 5 {4}id=u_0005 {2}email {9}"not-an-email" {2,}is not a valid email address$/m);
      expect(rerun.out).toMatch(/Done\. SENT=0 FAILED=0 INVALID=3 UNCHANGED=197 TOTAL=200/);
      for (const text of [first.out, run.out, rerun.out, again.out]) expect(text).not.toContain('ZZZZ');

      // Many invalid rows: counted by reason (every row), then the first 10.
      writeFileSync(csv, readFileSync(csv, 'utf8').replace(/^(u_00[1-2]\d,[^,]*,[^,]*,)[^,]*,/gm, '$1555,'));
      const many = await syncline('plan', config);
      expect(many.out).toMatch(/^ {2}! 21 × phone_number {2}is not an E\.164 phone number/m);
      expect(many.out).toMatch(/^ {2}! 2 × email {2}is not a valid email address$/m);
      expect(many.out.split('\n').filter((l) => l.startsWith('  ! row '))).toHaveLength(10);
      expect(many.out).toContain('10 of 23 invalid shown');
    },
    SLOW,
  );
});
