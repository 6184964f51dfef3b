import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Io } from '../src/index.js';

const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
// Absolute, so a child started in another folder still finds tsx.
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Runs the real `syncline` bin in a child process with `env` added to this process's environment. */
export function runBin(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--conditions=@syncline/source', '--import', tsx, bin, ...args], {
      env: { ...process.env, ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
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
