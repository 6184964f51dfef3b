import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { cpSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openDuckdbLedger } from '@syncline/core';
import type { RunningEmulator } from '@syncline/knock-emulator';
import { main, type Io } from '../src/index.js';

/** Runs the real `syncline` bin in a child process with `env` added to this process's environment. */
export async function runBin(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  const r = await spawnBin(args, { env: { ...process.env, ...env } });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

/** Captures what the CLI writes to stdout and stderr (not a TTY). */
export function captureIo(env: NodeJS.ProcessEnv): Io & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const stream = (w: (s: string) => void) => ({ isTTY: false, write: (s: string) => (w(s), true) }) as unknown as NodeJS.WriteStream;
  return {
    stdout: stream((s) => (out += s)),
    stderr: stream((s) => (err += s)),
    env,
    out: () => out,
    err: () => err,
  };
}

/** The real `syncline` bin, from source (as `npm run syncline` runs it). */
export const binFromSource = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
// Absolute, so a child started in another folder still finds tsx.
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface BinResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real bin in a child process (from source through tsx unless `command` is given) and collects its
 * output. `closeStdout`: the reading end of stdout is closed at once, as `| head -1` does once it has its line.
 */
export function spawnBin(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; closeStdout?: boolean; command?: string[] } = {},
): Promise<BinResult> {
  const command = opts.command ?? fromSource;
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, [...command.slice(1), ...args], {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    if (opts.closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The command that runs the bin from source, as `npm run syncline` does. */
const fromSource = [process.execPath, '--conditions=@syncline/source', '--import', tsx, binFromSource];

export interface SignalledRun {
  code: number | null;
  /** The signal that ended the process itself (a SIGKILL), else null. */
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
  /** Ms from the first signal to the exit; null when no signal was sent. */
  afterSignalMs: number | null;
}

/**
 * Runs the real bin with `args`; once `ready()` holds (polled every 20 ms) sends `signals`, 100 ms apart.
 * Resolves at the exit, with the output and the time from the first signal.
 */
export function runAndSignal(
  args: string[],
  opts: { env: NodeJS.ProcessEnv; signals: NodeJS.Signals[]; ready: () => boolean },
): Promise<SignalledRun> {
  const child = startBin(args, { env: opts.env });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (err += d));
  let signalledAt: number | null = null;
  const poll = setInterval(() => {
    if (signalledAt !== null || opts.signals.length === 0 || !opts.ready()) return;
    signalledAt = performance.now();
    opts.signals.forEach((s, i) => setTimeout(() => child.kill(s), i * 100));
  }, 20);
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal, out, err, afterSignalMs: signalledAt === null ? null : performance.now() - signalledAt });
    }),
  );
}

/**
 * Starts the real bin from source and returns the child, for tests that watch it, signal it or kill it
 * (stdin ignored; stdout and stderr piped unless `stdio` says otherwise).
 */
export function startBin(args: string[], opts: { env?: NodeJS.ProcessEnv; stdio?: StdioOptions } = {}): ChildProcess {
  return spawn(fromSource[0]!, [...fromSource.slice(1), ...args], {
    env: opts.env ?? process.env,
    stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'],
  });
}

/** A copy of `examples/<name>/` in a new temp folder, without the example's `.syncline` state. */
export function copyExample(name: string, prefix = `syncline-${name}-`): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cpSync(fileURLToPath(new URL(`../../../examples/${name}/`, import.meta.url)), dir, {
    recursive: true,
    filter: (s) => !s.includes('.syncline'),
  });
  return dir;
}

/** Writes `text` through a temp file and a rename, so a run reading `file` never sees half of it. */
export function writeFileAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

/** Rows in the snapshot of the ledger at `path`. */
export async function snapshotSize(path: string): Promise<number> {
  await using ledger = await openDuckdbLedger({ path });
  return await ledger.snapshotSize();
}

/**
 * A reader of the emulator's request log that returns, on each call, the user writes Knock accepted since
 * the previous call (bulk identify items and single identifies answered 2xx; a bulk job accepted before a
 * kill is applied anyway), in arrival order, as `[id, JSON of the given fields]`. The crash tests compare
 * these with the ledger's snapshot.
 */
export function acceptedUserWrites(emulator: () => RunningEmulator, fields: readonly string[]): () => [string, string][] {
  let seen = 0;
  return () => {
    const writes: [string, string][] = [];
    for (const e of emulator().control.requests({ since: seen })) {
      seen = Math.max(seen, e.seq);
      if (e.status >= 300 || e.method === 'GET') continue;
      const items =
        e.route === 'POST /v1/users/bulk/identify'
          ? (e.body as { users: Record<string, unknown>[] }).users
          : e.route === 'PUT /v1/users/{user_id}'
            ? [{ id: decodeURIComponent(e.path.split('/').pop()!), ...(e.body as Record<string, unknown>) }]
            : [];
      for (const u of items) writes.push([String(u.id), JSON.stringify(fields.map((f) => u[f]))]);
    }
    return writes;
  };
}

/**
 * A sync of `rows` generated users (`id,email,name`: `u0`, `u0@example.com`, `User 0`, …) in `dir`: writes
 * `<name>.csv` and `<name>.yaml` (DuckDB source, users upsert of email and name, onDelete nothing) and gives
 * the config's path and its ledger's.
 */
export function generatedUsersSync(dir: string, rows: number, name: string): { config: string; ledger: string } {
  writeFileSync(
    join(dir, `${name}.csv`),
    ['id,email,name', ...Array.from({ length: rows }, (_, i) => `u${i},u${i}@example.com,User ${i}`)].join('\n') + '\n',
  );
  const config = join(dir, `${name}.yaml`);
  writeFileSync(
    config,
    [
      `name: ${name}`,
      `source: { type: duckdb, tables: { users: ./${name}.csv } }`,
      'model: select * from users',
      'key: id',
      'destination: { type: knock }',
      'sync: { type: users, mode: upsert, fields: { email: email, name: name }, onDelete: nothing }',
      '',
    ].join('\n'),
  );
  return { config, ledger: join(dir, '.syncline', `${name}.duckdb`) };
}

/** What an in-process CLI call printed: its exit code, stdout, stderr, and stdout's last line as JSON (`{}` if not JSON). */
export interface CliCall {
  code: number;
  out: string;
  err: string;
  last: Record<string, unknown>;
}

/**
 * The CLI run in this process (`main`), against the emulator `emulator()` gives at call time, with `key` as
 * `KNOCK_API_KEY`; its output is captured.
 * @example const cli = cliAgainst(() => emulator, API_KEY); expect((await cli('run', config)).code).toBe(0);
 */
export function cliAgainst(emulator: () => { url: string }, key: string): (...args: string[]) => Promise<CliCall> {
  return async (...args) => {
    const io = captureIo({ ...process.env, KNOCK_API_KEY: key, KNOCK_BASE_URL: emulator().url });
    const code = await main(args, io);
    let last = {};
    try {
      last = JSON.parse(io.out().trim().split('\n').at(-1)!) as Record<string, unknown>;
    } catch {
      // not --json
    }
    return { code, out: io.out(), err: io.err(), last };
  };
}
