import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBin } from './cli-io.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '@syncline/knock-emulator';

// Issue 11 §1: the model runs as one read-only query, never as code on the ledger. Real bin, real emulator;
// `plan` changes nothing, ever: the ledger file hashes the same before and after hostile plans.
let emulator: RunningEmulator;
let dir: string;
let config: string;
let root: string;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0, bulkDelayMs: 10, rateLimits: false });
  root = mkdtempSync(join(tmpdir(), 'syncline-sandbox-'));
  dir = join(root, 'sync');
  mkdirSync(dir);
  mkdirSync(join(root, 'sibling'));
  writeFileSync(join(root, 'sibling', 'plans.csv'), 'id,plan\nu1,pro\n');
  writeFileSync(join(dir, 'users.csv'), 'id,email\nu1,u1@example.com\nu2,u2@example.com\n');
  config = join(dir, 'sync.yaml');
});
afterAll(async () => emulator.close());

function writeConfig(model: string, source = '{ type: duckdb, tables: { users: ./users.csv } }'): void {
  writeFileSync(
    config,
    [
      'name: sandbox',
      `source: ${source}`,
      `model: ${JSON.stringify(model)}`,
      'key: id',
      'destination: { type: knock }',
      'sync: { type: users, mode: upsert, fields: { email: email }, onDelete: delete }',
      '',
    ].join('\n'),
  );
}

const cli = (...args: string[]) => runBin(args, { KNOCK_API_KEY: 'sk_test_sandbox', KNOCK_BASE_URL: emulator.url });

const ledgerHash = () =>
  createHash('sha256')
    .update(readFileSync(join(dir, '.syncline', 'sandbox.duckdb')))
    .digest('hex');

describe('the model is one read-only query', { timeout: 600_000 }, () => {
  test('hostile models are config errors naming the statement (exit 2), and plan leaves the ledger byte for byte', async () => {
    writeConfig('select * from users');
    expect((await cli('run', config)).code).toBe(0);
    const before = ledgerHash();
    const hostile: [string, RegExp][] = [
      ['select * from users; delete from main.snapshot', /found 2 statements \(SELECT, DELETE\)/],
      ['select * from users) ; delete from main.snapshot; select (1', /DuckDB cannot parse it/],
      [`copy users to '${join(dir, 'out.csv')}'`, /found one COPY statement/],
      ["attach ':memory:' as x", /found one ATTACH statement/],
      ['install httpfs', /found one (INSTALL|LOAD) statement/],
      ['set threads = 1', /found one SET statement/],
      ['delete from main.snapshot', /found one DELETE statement/],
      ['select * from snapshot', /"snapshot" is a table of Syncline's ledger/],
      ['select k as id, payload as email from main.in_doubt', /"in_doubt" is a table of Syncline's ledger/],
      ["select * from query('delete from snapshot')", /query\(\) runs SQL of its own/],
    ];
    for (const [model, message] of hostile) {
      writeConfig(model);
      const r = await cli('plan', config);
      expect({ model, code: r.code }).toEqual({ model, code: 2 });
      expect(r.out + r.err).toMatch(message);
    }
    expect(ledgerHash()).toBe(before);
    writeConfig('select * from users');
    const again = await cli('plan', config);
    expect(again.out).toMatch(/No changes/);
  });

  test('files outside the config folder and the tables are closed (/etc/passwd, a sibling folder)', async () => {
    const writes = () => emulator.control.requests().filter((e) => e.method !== 'GET').length;
    const sent = writes();
    writeConfig("select 'x' || line as id, line as email from read_csv('/etc/passwd', columns = {'line': 'VARCHAR'}, sep = '\\x01')");
    const passwd = await cli('run', config);
    expect(passwd.code).toBe(3);
    expect(passwd.out + passwd.err).toMatch(/Permission Error: Cannot access file "\/etc\/passwd"/);
    const sibling =
      "select u.id, u.email || coalesce(p.plan, '') as email from users u left join read_csv('../sibling/plans.csv') p using (id)";
    writeConfig(sibling);
    const closed = await cli('plan', config);
    expect(closed.out + closed.err).toMatch(/Permission Error: Cannot access file/);
    expect(writes()).toBe(sent);
  });

  test('source.allowPaths opens a folder to the model', async () => {
    const sibling = `select u.id, u.email || coalesce(p.plan, '') as email from users u left join read_csv('${join(root, 'sibling', 'plans.csv')}') p using (id)`;
    writeConfig(sibling, '{ type: duckdb, tables: { users: ./users.csv }, allowPaths: [../sibling] }');
    const allowed = await cli('plan', config);
    expect({ code: allowed.code, out: allowed.out, err: allowed.err }).toMatchObject({ code: 0 });
    expect(allowed.out).toMatch(/1 to change/);
  });

  test('model.timeout interrupts a runaway model with a clear error', async () => {
    writeFileSync(
      config,
      [
        'name: sandbox',
        'source: { type: duckdb, tables: { users: ./users.csv } }',
        "model: { sql: \"select 'u' || a.range as id, 'e' as email from range(100000000) a, range(100000000) b\", timeout: 2s }",
        'key: id',
        'destination: { type: knock }',
        'sync: { type: users, mode: upsert, fields: { email: email }, onDelete: delete }',
        '',
      ].join('\n'),
    );
    const t0 = performance.now();
    const r = await cli('plan', config);
    expect(r.code).toBe(3);
    expect(r.out + r.err).toMatch(/the model ran longer than model.timeout \(2 s\) and was interrupted; nothing was diffed or sent/);
    // Interrupted at 2 s; the rest is starting the bin on a busy machine.
    expect(performance.now() - t0).toBeLessThan(60_000);
  });
});
