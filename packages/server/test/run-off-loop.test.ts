import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { createServer, type SynclineServer } from '../src/index.js';
import { TOKEN, tempWorkspace } from './helpers.js';

const ROWS = 20_000;
let server: SynclineServer;
let stopEmulator: () => void;

beforeAll(async () => {
  const dir = await tempWorkspace();
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  await db.run(
    `COPY (SELECT 'b_' || lpad(i::VARCHAR, 6, '0') AS id, 'b' || i || '@example.com' AS email, 'Bench ' || i AS name FROM range(${ROWS}) t(i)) TO '${join(dir, 'data', 'many.parquet')}' (FORMAT parquet)`,
  );
  db.closeSync();
  // The emulator in its own process: what this test measures is the server process alone.
  const tsx = join(createRequire(import.meta.url).resolve('tsx/package.json'), '..', 'dist', 'loader.mjs');
  const child = fork(join(import.meta.dirname, 'fixtures', 'emulator-process.ts'), [], {
    execArgv: ['--conditions=@syncline/source', '--import', pathToFileURL(tsx).href],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const { url } = await new Promise<{ url: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { url: string }));
    child.once('exit', (code) => reject(new Error(`the emulator process exited (${code})`)));
  });
  stopEmulator = () => child.disconnect();
  server = createServer({ dir, token: TOKEN, emulatorUrl: url, baseUrl: url, log: () => undefined });
}, 60_000);
afterAll(async () => {
  await server?.close();
  stopEmulator?.();
});

const call = async (method: string, path: string, body?: unknown): Promise<Response> =>
  server.app.request(path, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

test(`a run of ${ROWS.toLocaleString('en')} rows happens off the server's event loop: it never blocks, and the server spends little CPU on it`, async () => {
  await call('PUT', '/api/syncs/many', {
    model: 'select * from many',
    key: 'id',
    destination: { type: 'knock', tiers: 'off' },
    sync: { type: 'users', fields: { email: 'email', name: 'name' } },
  });
  // A plan first: the sync process is started (its start-up is not the run's) and the model is checked.
  const plan = await call('POST', '/api/syncs/many/plan');
  expect(plan.status, await plan.clone().text()).toBe(200);

  const delay = monitorEventLoopDelay({ resolution: 10 });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  delay.enable();
  const started = await call('POST', '/api/syncs/many/run', {});
  expect(started.status).toBe(202);
  const { runId } = (await started.json()) as { runId: string };
  // Health is asked all along: every answer is a 200 from the same loop the run would block.
  let healthChecks = 0;
  let finished = false;
  const settled = server.settle().finally(() => (finished = true));
  while (!finished) {
    expect((await call('GET', '/api/health')).status).toBe(200);
    healthChecks++;
    await new Promise((r) => setTimeout(r, 100)); // few: each answer costs CPU here too
  }
  await settled;
  delay.disable();
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  const cpuMs = (cpu.user + cpu.system) / 1000;

  const run = (await (await call('GET', `/api/runs/${runId}`)).json()) as { run: { status: string; counts: Record<string, number> } };
  expect(run.run.status).toBe('succeeded');
  expect(run.run.counts.synced).toBe(ROWS);
  expect(healthChecks).toBeGreaterThan(5);
  const report = `${ROWS} rows in ${Math.round(wallMs)} ms; server process CPU ${Math.round(cpuMs)} ms; loop delay max ${Math.round(delay.max / 1e6)} ms, p99 ${Math.round(delay.percentile(99) / 1e6)} ms`;
  console.log(report);
  // Measured on the shared 2-core machine at load 14-16 (20,000 rows): with the run on the server's own loop the
  // server process spent ~5.1 s of CPU (loop delay p99 163 ms, max 314 ms); with the run in the sync process
  // ~0.7 s (p99 44 ms, max 152 ms), most of it answering health and taking the run's events over IPC.
  // CPU time hardly grows with other processes' load as wall time does: this bound holds on a busy machine.
  expect(cpuMs, report).toBeLessThan(ROWS / 10); // 2 s for 20,000 rows: 100 µs a row
  // No single task holds the loop for long. The bound leaves room for a machine so busy that this process
  // waits for a core (the loop delays above grow with the load; a run on this loop blocked >1 s at 200,000 rows).
  expect(delay.max / 1e6, report).toBeLessThan(1_000);
}, 300_000);
