import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadConfig } from '../src/load-config.js';
import { spawnBin } from './cli-io.js';

// Issue 15: a config names its destination by module (examples/custom-destination), and the real bin plans
// and runs it; the destination's targetSchema checks the `sync:` block with file:line:col errors.
const example = fileURLToPath(new URL('../../../examples/custom-destination/', import.meta.url));
const received: { action: string; key: string; payload: Record<string, unknown> | null }[][] = [];
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (d: Buffer) => (body += d));
  req.on('end', () => {
    received.push(JSON.parse(body) as (typeof received)[number]);
    res.writeHead(204).end();
  });
});
let hook: string;
let dir: string;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  dir = mkdtempSync(join(tmpdir(), 'syncline-module-dest-'));
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The example's config in a folder of its own (its ledger is written there, not into examples/), naming the
 * example's module by its absolute path (it imports zod, found from examples/); `edit` changes its text.
 */
const config = (name: string, edit: (text: string) => string = (t) => t): string => {
  const text = readFileSync(join(example, 'sync.yaml'), 'utf8').replace(
    './webhook-destination.js',
    join(example, 'webhook-destination.js'),
  );
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, edit(text));
  return file;
};
const bin = (args: string[]) => spawnBin(args, { env: { ...process.env, WEBHOOK_URL: hook, NO_COLOR: '1' }, cwd: dir });

test('syncline plan and run send the example through its module destination: every row first, then only the changes', async () => {
  copyFileSync(join(example, 'people.csv'), join(dir, 'people.csv'));
  const file = config('sync');
  const plan = await bin(['plan', file]);
  expect(plan.stderr).not.toContain('Error');
  expect(plan.code).toBe(0);
  expect(plan.stdout).toContain(`people-to-webhook -> webhook (module ${join(example, 'webhook-destination.js')})`);
  expect(plan.stdout).toContain('+ email        = "ada@example.com"');
  expect(plan.stdout).toContain('Plan: 3 to add, 0 to change, 0 to remove; 0 unchanged.');
  const json = JSON.parse((await bin(['plan', file, '--json'])).stdout) as Record<string, Record<string, unknown>>;
  expect(json.target).toMatchObject({ kind: 'module', destination: 'webhook' });
  expect(json.summary).toMatchObject({ add: 3, change: 0, delete: 0 });
  expect(received).toEqual([]);

  const run = await bin(['run', file]);
  expect([run.code, run.stderr]).toEqual([0, expect.stringContaining('→ webhook (module')]);
  expect(received.flat().sort((a, b) => a.key.localeCompare(b.key))).toEqual([
    { action: 'add', key: 'u1', payload: { email: 'ada@example.com', plan: 'free' } },
    { action: 'add', key: 'u2', payload: { email: 'bob@example.com', plan: 'pro' } },
    { action: 'add', key: 'u3', payload: { email: 'cy@example.com', plan: 'free' } },
  ]);
  received.length = 0;
  writeFileSync(join(dir, 'people.csv'), 'id,email,plan\nu1,ada@example.com,team\nu2,bob@example.com,pro\n');
  const again = await bin(['run', file, '--allow-mass-delete']);
  expect(again.code).toBe(0);
  expect(received.flat()).toEqual([
    { action: 'change', key: 'u1', payload: { email: 'ada@example.com', plan: 'team' } },
    { action: 'remove', key: 'u3', payload: null },
  ]);
}, 180_000);

test("a bad sync: key is reported by the module destination's targetSchema at file:line:col, exit 2", async () => {
  received.length = 0;
  const typo = config('typo', (t) => t.replace('  url: ${WEBHOOK_URL}', '  url: ${WEBHOOK_URL}\n  retries: 3'));
  const r = await bin(['plan', typo]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`${typo}:11:3 sync.retries: unknown key`);
  const bad = config('bad-url', (t) => t.replace('  url: ${WEBHOOK_URL}', '  url: not a url'));
  const b = await bin(['run', bad]);
  expect(b.code).toBe(2);
  expect(b.stderr).toMatch(new RegExp(`${bad}:10:8 sync\\.url: .*URL`, 'i'));
  expect(received).toEqual([]);
}, 120_000);

test('a module that is missing or exports no destination is an error at destination.module, exit 2', async () => {
  const missing = config('missing', (t) => t.replace(join(example, 'webhook-destination.js'), './nope.js'));
  const m = await bin(['plan', missing]);
  expect(m.code).toBe(2);
  expect(m.stderr).toContain(`${missing}:8:`);
  expect(m.stderr).toContain(`destination.module: no such module ./nope.js (${join(dir, 'nope.js')})`);
  writeFileSync(join(dir, 'not-a-destination.js'), 'export const answer = 42;\n');
  const not = config('not', (t) => t.replace(join(example, 'webhook-destination.js'), './not-a-destination.js'));
  const n = await bin(['plan', not]);
  expect(n.code).toBe(2);
  expect(n.stderr).toContain('destination.module: ./not-a-destination.js exports no destination');
  expect(n.stderr).toContain('it exports answer');
}, 120_000);

test('loaders that support only Knock (syncline serve) refuse a module destination, naming the line', () => {
  const file = config('serve');
  expect(() => loadConfig(file, { WEBHOOK_URL: hook })).toThrow(/:8:\d+ destination\.type: "module" destinations run with syncline plan/);
});
