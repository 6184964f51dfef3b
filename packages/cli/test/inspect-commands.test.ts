import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '@syncline/knock-emulator';
import { main } from '../src/index.js';
import { captureIo } from './cli-io.js';

const example = fileURLToPath(new URL('../../../examples/users/', import.meta.url));
const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
// Absolute, so a child started in another folder still finds tsx.
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
let emulator: RunningEmulator;
let config: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, bulkDelayMs: 20 });
  const dir = mkdtempSync(join(tmpdir(), 'syncline-inspect-'));
  cpSync(example, dir, { recursive: true, filter: (s) => !s.includes('.syncline') });
  config = join(dir, 'sync.yaml');
  env = { ...process.env, KNOCK_API_KEY: 'sk_test_inspect_SENTINEL', KNOCK_BASE_URL: emulator.url };
});
afterAll(async () => emulator.close());

const cli = async (...args: string[]) => {
  const io = captureIo(env);
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
};

describe('syncline runs, runs show, rows', () => {
  test('list runs, show one with its calls, and trace one key; the API key appears nowhere', async () => {
    const run = await cli('run', config, '--json');
    const runId = JSON.parse(run.out.trim().split('\n').at(-1)!).runId as string;
    const runs = await cli('runs', config);
    expect(runs.code).toBe(0);
    expect(runs.out).toContain(runId);
    expect(runs.out).toMatch(/succeeded\s+\+200 ~0 -0\s+synced 200 failed 0 invalid 0/);
    const show = await cli('runs', 'show', config, runId);
    expect(show.code).toBe(0);
    expect(show.out).toMatch(new RegExp(`Run ${runId} · succeeded`));
    expect(show.out).toMatch(/POST \/v1\/users\/bulk\/identify → 200/);
    expect(show.out).toMatch(/phases\s+query \d+ms · stage \d+ms · diff \d+ms/);
    const rows = await cli('rows', config, 'u_0007', '--json');
    const parsed = JSON.parse(rows.out);
    expect(parsed.snapshot).toMatchObject({ email: expect.stringMatching(/@example\.com$/) });
    expect(parsed.results).toEqual([expect.objectContaining({ runId, action: 'add', status: 'synced' })]);
    const showJson = await cli('runs', 'show', config, runId, '--json');
    for (const text of [run.out, run.err, runs.out, show.out, showJson.out, rows.out]) expect(text).not.toContain('SENTINEL');
    expect(JSON.parse(showJson.out).exchanges.length).toBeGreaterThan(0);
    expect((await cli('runs', 'show', config)).code).toBe(2);
  });

  test('syncline emulator serves Knock on 127.0.0.1 and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--conditions=@syncline/source', '--import', 'tsx', bin, 'emulator', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', () => reject(new Error(`exited early: ${out}`)));
    });
    const res = await fetch(`${url}/v1/users`, { headers: { authorization: 'Bearer sk_test_x' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ entries: [], page_info: { __typename: 'PageInfo' } });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('syncline plan options', () => {
  test('reads the API key from ./.env, and --detailed-exitcode exits 4 when there are changes, 0 when none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syncline-dotenv-'));
    cpSync(example, dir, { recursive: true, filter: (s) => !s.includes('.syncline') });
    writeFileSync(join(dir, '.env'), `KNOCK_API_KEY=sk_test_from_dotenv\nKNOCK_BASE_URL=${emulator.url}\n`);
    const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KNOCK_')));
    const plan = () =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          ['--conditions=@syncline/source', '--import', tsx, bin, 'plan', 'sync.yaml', '--detailed-exitcode'],
          { cwd: dir, env: cleanEnv },
        );
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.on('exit', (code) => resolve({ code, out }));
      });
    const first = await plan();
    expect(first.out).toMatch(/key from KNOCK_API_KEY/);
    expect(first.out).toMatch(/Plan: 200 to add, 0 to change, 0 to delete\. 0 unchanged, 0 invalid \(not sent\)\./);
    expect(first.code).toBe(4);
    const io = captureIo({ ...process.env, KNOCK_API_KEY: 'sk_test_from_dotenv', KNOCK_BASE_URL: emulator.url });
    expect(await main(['run', join(dir, 'sync.yaml')], io)).toBe(0);
    const second = await plan();
    expect(second.out).toMatch(/No changes\. Knock already matches the model \(200 rows compared\)\./);
    expect(second.code).toBe(0);
  });
});
