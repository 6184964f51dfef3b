import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Io } from '../src/index.js';

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
  const command = opts.command ?? [process.execPath, '--conditions=@syncline/source', '--import', tsx, binFromSource];
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
