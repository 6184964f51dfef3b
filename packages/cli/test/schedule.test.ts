import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { startEmulator } from '@syncline/knock-emulator';
import { main } from '../src/index.js';
import { captureIo } from './cli-io.js';

const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));

function scheduledDir(schedule: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-schedule-'));
  cpSync(fileURLToPath(new URL('../../../examples/users/', import.meta.url)), dir, {
    recursive: true,
    filter: (s) => !s.includes('.syncline'),
  });
  writeFileSync(join(dir, 'sync.yaml'), readFileSync(join(dir, 'sync.yaml'), 'utf8') + `schedule: ${schedule}\n`);
  writeFileSync(join(dir, 'docker-compose.yml'), 'services: {}\n'); // other YAML in the folder is left alone
  return dir;
}

test('syncline schedule runs a sync every second in a real process and stops cleanly on SIGTERM', { timeout: 90_000 }, async () => {
  await using emulator = await startEmulator({ port: 0, bulkDelayMs: 10 });
  const dir = scheduledDir('{ every: 1s }');
  const child = spawn(process.execPath, ['--conditions=@syncline/source', '--import', 'tsx', bin, 'schedule', '--dir', dir], {
    env: { ...process.env, KNOCK_API_KEY: 'sk_test_schedule', KNOCK_BASE_URL: emulator.url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stdout.on('data', () => undefined);
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while ((err.match(/run finished/g) ?? []).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(err).toMatch(/Scheduling 1 sync from /);
  expect(err).toMatch(/example-users: next run at \S+ \(every 1s\)/);
  expect(err.match(/example-users: run finished in [\d.]+s: succeeded/g)?.length).toBeGreaterThanOrEqual(2);
  // The first run sends the 200 users: its log gives the ETA at Knock's rate limits.
  expect(err).toMatch(/Send: 200 changes · ETA ≈ \S+ at Knock's rate limits/);
  expect(err).toContain('SIGTERM: stopping');
  expect(err.trimEnd().endsWith('Scheduler stopped.')).toBe(true);
  expect(emulator.control.requests().some((r) => r.route?.includes('/users'))).toBe(true);
});

test('syncline schedule without scheduled syncs exits 2 and says how to add one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-schedule-'));
  const io = captureIo(process.env);
  expect(await main(['schedule', '--dir', dir], io)).toBe(2);
  expect(io.err()).toContain('no scheduled syncs (add schedule: "*/15 * * * *" or schedule: { every: 15m } to a sync config)');
});

test('a bad schedule is a config error with file, line and column', async () => {
  const dir = scheduledDir('"61 * * * *"');
  const io = captureIo(process.env);
  expect(await main(['schedule', '--dir', dir], io)).toBe(2);
  expect(io.err()).toMatch(/sync\.yaml:\d+:\d+ schedule: /);
});
