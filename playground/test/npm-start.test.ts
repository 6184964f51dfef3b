/**
 * The README's first command: `npm start` serves the playground on a sample workspace with the built-in
 * emulator, prints the URL, the page loads in Chromium, and Ctrl-C (SIGINT) stops it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { openChromium } from './chromium.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('npm start serves the playground on a sample workspace until Ctrl-C', async () => {
  // The same command with the folder and port overridden (the last --dir/--port win), so the test leaves
  // the repository's workspace/ alone and never collides with a running server on 8787.
  const dir = join(mkdtempSync(join(tmpdir(), 'syncline-start-')), 'workspace');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const child = spawn(npm, ['start', '--', '--dir', dir, '--port', '0'], {
    cwd: root,
    env: { ...process.env, KNOCK_API_KEY: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: npm, the shell and node stop together
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  // 'close': npm and the server it started have both exited (the server holds the same pipes).
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', () => {
        const m = /Syncline at (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      void closed.then(({ code }) => reject(new Error(`npm start exited ${code}:\n${out}`)));
    });
    expect(out).toMatch(/Target: the built-in Knock emulator at http:\/\/127\.0\.0\.1:\d+/);
    expect(existsSync(join(dir, 'data', 'users.csv'))).toBe(true);
    const w = await openChromium(new URL(url).origin);
    try {
      await w.page.goto(url);
      await w.page.getByRole('heading', { name: 'users', exact: true }).waitFor();
      await w.page.getByRole('navigation').getByRole('link', { name: 'Runs', exact: true }).waitFor();
      expect(w.outside).toEqual([]);
      expect(w.consoleErrors).toEqual([]);
    } finally {
      await w.close();
    }
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGINT');
  }
  // Ctrl-C reaches the whole process group, as in a terminal: the server stops cleanly, npm ends with it.
  const end = await closed;
  expect(end.code === 0 || end.signal === 'SIGINT').toBe(true);
  expect(out).toMatch(/Stopping: runs in flight finish their calls/);
}, 180_000);
