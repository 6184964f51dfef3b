import { createServer } from 'node:net';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '@syncline/knock-emulator';
import { main } from '../src/index.js';
import { captureIo, spawnBin } from './cli-io.js';

// Issue 9 §2 (plan checks the target) and §3 (no stack traces, right exit codes): each case runs the real bin
// in a child process and asserts its stderr and exit code.
const API_KEY = 'sk_test_cli_errors';
const example = fileURLToPath(new URL('../../../examples/users/', import.meta.url));
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KNOCK_') && k !== 'NO_COLOR'));

let emulator: RunningEmulator;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0, bulkDelayMs: 10, apiKeys: [API_KEY] });
  env = { ...cleanEnv, KNOCK_API_KEY: API_KEY, KNOCK_BASE_URL: emulator.url };
});
afterAll(async () => emulator?.close());

/** A copy of examples/users in a temp folder; `edit` rewrites its sync.yaml. */
function example_(edit: (yaml: string) => string = (y) => y): { dir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-errors-'));
  cpSync(example, dir, { recursive: true, filter: (s) => !s.includes('.syncline') });
  const config = join(dir, 'sync.yaml');
  writeFileSync(config, edit(readFileSync(config, 'utf8')));
  return { dir, config };
}

/** 1-based line and column of the first occurrence of `needle` in the text. */
function lineCol(text: string, needle: string): string {
  const at = text.indexOf(needle);
  const before = text.slice(0, at).split('\n');
  return `${before.length}:${before.at(-1)!.length + 1}`;
}

// Child processes on a shared machine: several seconds each, a few at a time.
const OPTS = { concurrent: true, timeout: 180_000 };

const lastLine = (text: string): string => text.trimEnd().split('\n').at(-1)!;

describe('plan checks the target (one read call)', OPTS, () => {
  test('a rejected key: exit 3, "the API key was rejected (401)"; --offline plans without asking Knock', async () => {
    const { config } = example_();
    const bad = await spawnBin(['plan', config], { env: { ...env, KNOCK_API_KEY: 'sk_test_wrong' } });
    expect(bad.code).toBe(3);
    expect(lastLine(bad.stderr)).toMatch(/the API key was rejected \(401\)/);
    expect(bad.stdout).toBe('');
    const offline = await spawnBin(['plan', config, '--offline'], { env: { ...env, KNOCK_API_KEY: 'sk_test_wrong' } });
    expect(offline.code).toBe(0);
    expect(offline.stdout).toMatch(/Plan: 200 to add/);
    // Offline needs no key at all.
    const nokey = await spawnBin(['plan', config, '--offline'], { env: { ...cleanEnv } });
    expect(nokey.code).toBe(0);
    expect(nokey.stdout).toMatch(/key from none: --offline/);
  });

  test('a refused connection names the URL, the cause and the hint', async () => {
    const port = await freePort();
    const { config } = example_();
    const r = await spawnBin(['plan', config], { env: { ...env, KNOCK_BASE_URL: `http://127.0.0.1:${port}` } });
    expect(r.code).toBe(3);
    expect(lastLine(r.stderr)).toBe(
      `Error: [knock] cannot reach http://127.0.0.1:${port} (ECONNREFUSED): is \`syncline emulator\` running?`,
    );
  });
});

describe('no stack traces, right exit codes', OPTS, () => {
  test('`syncline runs <cfg> | head -1`: a closed stdout ends quietly with exit 0', async () => {
    const { config } = example_();
    const io = captureIo(env);
    expect(await main(['run', config], io)).toBe(0);
    const r = await spawnBin(['runs', config], { env, closeStdout: true });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  test('emulator --port <busy>: "port N is in use", exit 2', async () => {
    const port = Number(new URL(emulator.url).port);
    const r = await spawnBin(['emulator', '--port', String(port)], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^Error: --port ${port}: port ${port} is in use`));
    expect(r.stderr).not.toMatch(/EADDRINUSE|\n\s+at /);
  });

  test('--api-key-file /missing names the option, exit 2', async () => {
    const { config } = example_();
    const r = await spawnBin(['plan', config, '--api-key-file', '/nonexistent/key.txt'], { env });
    expect(r.code).toBe(2);
    expect(lastLine(r.stderr)).toBe('Error: --api-key-file /nonexistent/key.txt: cannot read the file (no such file)');
  });

  test('plan --limit abc is a usage error, exit 2', async () => {
    const { config } = example_();
    const r = await spawnBin(['plan', config, '--limit', 'abc'], { env });
    expect(r.code).toBe(2);
    expect(lastLine(r.stderr)).toMatch(/^Error: option '--limit <n>' argument 'abc' is invalid\. Expected a whole number/);
  });

  test('an unknown command says so in its last line, with a did-you-mean and no help dump', async () => {
    const r = await spawnBin(['plna', 'sync.yaml'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(lastLine(r.stderr)).toMatch(/^Error: unknown command 'plna' \(did you mean plan\?\)/);
    expect(r.stdout).toBe('');
  });

  test('a key in the URL userinfo is shown nowhere: run header, plan target, plan --json', async () => {
    const { config } = example_();
    const secret = 'sk_test_USERINFO_7c1e';
    const url = new URL(emulator.url);
    const withUserinfo = { ...env, KNOCK_BASE_URL: `http://user:${secret}@${url.host}` };
    const outputs = await Promise.all([
      spawnBin(['plan', config], { env: withUserinfo }),
      spawnBin(['plan', config, '--json'], { env: withUserinfo }),
    ]);
    const run = await spawnBin(['run', config], { env: withUserinfo });
    for (const r of [...outputs, run]) {
      expect(r.code).toBe(0);
      expect(r.stdout + r.stderr).not.toContain('USERINFO');
    }
    expect(outputs[0]!.stdout).toContain(`target  Knock http://${url.host}/`);
    expect(run.stderr).toContain(`Knock users (http://${url.host}/)`);
  });
});

describe('config mistakes found after parsing: exit 2 with file:line:col of the YAML node', OPTS, () => {
  test('a mapped column not in the model lists the model columns and a did-you-mean', async () => {
    const { config } = example_((y) => y.replace('email: email', 'email: emial'));
    const r = await spawnBin(['plan', config], { env });
    expect(r.code).toBe(2);
    const yaml = readFileSync(config, 'utf8');
    expect(lastLine(r.stderr)).toBe(
      `Error: ${config}:${lineCol(yaml, 'emial')} sync.fields.email: column "emial" not in model (did you mean "email"?)`,
    );
    expect(r.stderr).toContain("the model's columns: id, email, full_name, phone, timezone, plan, signup_date");
    expect(r.stdout).toBe('');
  });

  test('a missing key column points at `key:`', async () => {
    const { config } = example_((y) => y.replace('key: id', 'key: user_id'));
    const r = await spawnBin(['run', config], { env });
    expect(r.code).toBe(2);
    const yaml = readFileSync(config, 'utf8');
    expect(lastLine(r.stderr)).toBe(`Error: ${config}:${lineCol(yaml, 'user_id')} key: column "user_id" not in model`);
  });

  test("a model SQL error points at the model's line inside the YAML file", async () => {
    const { config } = example_((y) =>
      y.replace(
        'model: select * from users',
        'model: |\n  select id, email,\n         full_nam as full_name, phone, timezone, plan\n  from users',
      ),
    );
    const r = await spawnBin(['plan', config], { env });
    expect(r.code).toBe(2);
    const yaml = readFileSync(config, 'utf8');
    expect(lastLine(r.stderr)).toMatch(
      new RegExp(`^Error: ${config}:${lineCol(yaml, 'full_nam as')} model: Binder Error: Referenced column "full_nam" not found`),
    );
    expect(r.stderr).toMatch(/did you mean "full_name"/);
  });

  test('an empty data file says "file is empty"', async () => {
    const { dir, config } = example_();
    writeFileSync(join(dir, 'users.csv'), '');
    const r = await spawnBin(['plan', config], { env });
    expect(r.code).toBe(3);
    const yaml = readFileSync(config, 'utf8');
    expect(lastLine(r.stderr)).toBe(
      `Error: ${config}:${lineCol(yaml, './users.csv')} source.tables.users: table "users" (./users.csv): file is empty`,
    );
  });

  test('a ;-delimited file: says what was detected and the table options to use, which then work', async () => {
    const { dir, config } = example_();
    const csv = join(dir, 'users.csv');
    writeFileSync(csv, readFileSync(csv, 'utf8').replaceAll(',', ';'));
    const r = await spawnBin(['plan', config], { env });
    expect(r.code).toBe(2);
    const yaml = readFileSync(config, 'utf8');
    expect(lastLine(r.stderr)).toBe(
      `Error: ${config}:${lineCol(yaml, './users.csv')} source.tables.users: table "users" (./users.csv): the file looks ";"-delimited (detected: delim ";", header yes), read with delim ","`,
    );
    const fix = r.stderr.match(/^ {4}(users: \{.*\})$/m)![1]!;
    expect(fix).toBe('users: { file: "./users.csv", delim: ";" }');
    writeFileSync(config, yaml.replace('users: ./users.csv', fix));
    const fixed = await spawnBin(['plan', config], { env });
    expect(fixed.stdout).toMatch(/Plan: 200 to add/);
    expect(fixed.code).toBe(0);
  });

  test('a UTF-16 file: says so and the table options to use, which then work', async () => {
    const { dir, config } = example_();
    const csv = join(dir, 'users.csv');
    const text = readFileSync(csv, 'utf8');
    writeFileSync(csv, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const r = await spawnBin(['plan', config], { env });
    expect(r.code).toBe(2);
    expect(lastLine(r.stderr)).toMatch(
      /source\.tables\.users: table "users" \(\.\/users\.csv\): the file is UTF-16 \(little-endian\), read as utf-8$/,
    );
    const fix = r.stderr.match(/^ {4}(users: \{.*\})$/m)![1]!;
    expect(fix).toBe('users: { file: "./users.csv", encoding: "utf-16" }');
    writeFileSync(config, readFileSync(config, 'utf8').replace('users: ./users.csv', fix));
    const fixed = await spawnBin(['plan', config], { env });
    expect(fixed.stdout).toMatch(/Plan: 200 to add/);
    expect(fixed.code).toBe(0);
  });
});

/** A port nothing listens on (taken from the OS, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
