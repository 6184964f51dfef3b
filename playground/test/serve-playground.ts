import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const bin = fileURLToPath(new URL('../../packages/cli/src/bin.ts', import.meta.url));
// Absolute, so the child started in the temp workspace still finds tsx.
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** A running `syncline serve` (the real bin, a child process) on a temp workspace. */
export interface Served {
  /** The URL with the access token, as printed. */
  url: string;
  origin: string;
  /** The built-in emulator's base URL, as printed. */
  emulatorUrl: string;
  dir: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** Starts `syncline serve --port 0` in a new temp folder (which gets the sample data) and waits for its URL line. */
export async function servePlayground(): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-playground-'));
  const child: ChildProcess = spawn(
    process.execPath,
    ['--conditions=@syncline/source', '--import', tsx, bin, 'serve', '--dir', dir, '--port', '0'],
    {
      env: { ...process.env, KNOCK_API_KEY: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const m = /Syncline at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`syncline serve exited ${code}:\n${out}`)));
  });
  const emulatorUrl = /built-in Knock emulator at (http:\/\/\S+)/.exec(out)?.[1] ?? '';
  return {
    url,
    origin: new URL(url).origin,
    emulatorUrl,
    dir,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
