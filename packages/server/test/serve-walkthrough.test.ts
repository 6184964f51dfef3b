import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, test } from 'vitest';

const bin = fileURLToPath(new URL('../../cli/src/bin.ts', import.meta.url));
const readme = fileURLToPath(new URL('../../../README.md', import.meta.url));
const hasCurl = ['/usr/bin/curl', '/bin/curl', '/usr/local/bin/curl'].some((p) => existsSync(p));

let child: ChildProcess | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGINT');
    await exited;
  }
  child = undefined;
});

/** Starts the real `syncline serve` and waits for its URL line. */
async function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ url: string; out: () => string; err: () => string }> {
  const { KNOCK_API_KEY: _k, KNOCK_BASE_URL: _b, ...rest } = process.env;
  child = spawn(process.execPath, ['--conditions=@syncline/source', '--import', 'tsx', bin, 'serve', ...args], {
    env: { ...rest, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child!.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Syncline at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child!.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  return { url, out: () => out, err: () => err };
}

describe('syncline serve', () => {
  test.skipIf(!hasCurl)(
    "the README's curl walkthrough: an empty folder → sample data → plan → run against the emulator (skipped only without curl)",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'syncline-serve-'));
      const s = await serve(['--dir', dir, '--port', '0']);
      expect(s.out()).toMatch(/Empty folder: added the sample data/);
      expect(s.out()).toMatch(/Target: the built-in Knock emulator at http:\/\/127\.0\.0\.1:\d+ \(key sk_test_local\)/);
      expect(readdirSync(join(dir, 'data')).sort()).toEqual(['companies.csv', 'members.csv', 'users.csv']);
      const { origin, searchParams } = new URL(s.url);
      const text = readFileSync(readme, 'utf8');
      const block = /<!-- serve-walkthrough[^>]*-->\s*```sh\n([\s\S]*?)```/.exec(text)![1]!;
      const lines = block.split('\n').filter((l) => l.trim() && !l.startsWith('export '));
      const script = join(dir, 'walkthrough.sh');
      // Each command's output on its own line, so the test can read them one by one.
      writeFileSync(script, `set -e\n${lines.map((l) => `${l}\necho; echo '--- next'`).join('\n')}\n`);
      const { stdout } = await promisify(execFile)('bash', [script], {
        env: { ...process.env, SYNCLINE: origin, TOKEN: searchParams.get('token')! },
        cwd: dir, // where the README has the reader: in the workspace (the upload sends data/users.csv)
        timeout: 60_000,
      });
      const outputs = stdout.split('--- next\n').map((o) => o.trim());
      const [health, tables, upload, plan, , events, run] = outputs;
      expect(JSON.parse(health!)).toMatchObject({ ok: true, target: { kind: 'emulator' } });
      expect(JSON.parse(tables!).tables.map((t: { name: string }) => t.name)).toEqual(['companies', 'members', 'users']);
      expect(JSON.parse(upload!)).toMatchObject({ name: 'more_users', format: 'csv', file: 'data/more_users.csv', rowCount: 200 });
      const p = JSON.parse(plan!) as { summary: { total: number; added: number } };
      expect(p.summary.total).toBe(200);
      expect(p.summary.added).toBeGreaterThan(0);
      expect(events).toMatch(/event: exchange/);
      expect(events).toMatch(/event: end\ndata: \{"status":"succeeded"/);
      const r = JSON.parse(run!) as { run: { status: string; counts: { synced: number } } };
      expect(r.run.status).toBe('succeeded');
      expect(r.run.counts.synced).toBe(p.summary.added);
      // The emulator in the serve process received exactly those users.
      const emulator = /emulator at (http:\/\/127\.0\.0\.1:\d+)/.exec(s.out())![1]!;
      const users = await fetch(`${emulator}/v1/users?page_size=50`, { headers: { authorization: 'Bearer sk_test_local' } });
      expect(users.status).toBe(200);
      expect(((await users.json()) as { entries: unknown[] }).entries.length).toBe(50);
    },
    120_000,
  );

  test('an existing workspace is never overwritten', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syncline-serve-'));
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const s = await serve(['--dir', dir, '--port', '0']);
    expect(s.out()).not.toMatch(/sample data/);
    expect(readdirSync(dir)).toEqual(['notes.txt']);
  }, 60_000);

  test('--host 0.0.0.0 warns and still requires the token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syncline-serve-'));
    const s = await serve(['--dir', dir, '--port', '0', '--host', '0.0.0.0']);
    expect(s.err()).toMatch(/Warning: listening on every network interface/);
    const origin = new URL(s.url).origin;
    expect((await fetch(`${origin}/api/tables`)).status).toBe(401);
    expect((await fetch(`${origin}/api/health`)).status).toBe(200);
  }, 60_000);

  test('--open hands the URL with its token to the browser command ($BROWSER) and to no log line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syncline-serve-'));
    // A stand-in browser: it writes the arguments it was started with to a file.
    const opened = join(dir, 'opened.txt');
    const browser = join(dir, 'browser.sh');
    writeFileSync(browser, `#!/bin/sh\nprintf '%s\\n' "$@" > '${opened}'\n`);
    chmodSync(browser, 0o755);
    const s = await serve(['--dir', join(dir, 'ws'), '--port', '0', '--open'], { BROWSER: browser });
    for (let i = 0; i < 200 && !existsSync(opened); i++) await new Promise((r) => setTimeout(r, 25));
    expect(readFileSync(opened, 'utf8')).toBe(`${s.url}\n`);
    const token = new URL(s.url).searchParams.get('token')!;
    expect(token.length).toBeGreaterThanOrEqual(32);
    // The one clickable line is the only place the token is printed.
    expect(s.out().split(token).length - 1).toBe(1);
    expect(s.err()).not.toContain(token);
    expect((await fetch(s.url)).status).toBe(200);
  }, 60_000);

  test('--open with a browser command that cannot start warns, names the command, and shows no token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syncline-serve-'));
    const s = await serve(['--dir', dir, '--port', '0', '--open'], { BROWSER: join(dir, 'no-such-browser') });
    for (let i = 0; i < 200 && !/Could not open a browser/.test(s.err()); i++) await new Promise((r) => setTimeout(r, 25));
    expect(s.err()).toMatch(/Could not open a browser with .*no-such-browser \(ENOENT\); open the URL above\./);
    expect(s.err()).not.toContain(new URL(s.url).searchParams.get('token')!);
  }, 60_000);

  test('a bad --port is a usage error (exit 2)', async () => {
    const p = spawn(process.execPath, ['--conditions=@syncline/source', '--import', 'tsx', bin, 'serve', '--port', 'abc'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise((r) => p.once('exit', r));
    expect(code).toBe(2);
    expect(err).toMatch(/--port abc: not a port number/);
  }, 60_000);
});
