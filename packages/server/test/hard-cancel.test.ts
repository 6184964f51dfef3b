import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openDuckdbLedger } from '@syncline/core';
import { TOKEN, listen, manyUsersSync, testServer, waitForRun, type TestServer } from './helpers.js';

// The second (hard) cancel, through real HTTP: the first cancel is a clean stop that waits for the calls in
// flight; a second one while it waits stops the run now (calls in flight abandoned), and when the sync process
// does not stop it within hardStopMs, the process is killed. Either way the run ends `aborted` and what was
// confirmed before stays committed.
const USERS = 8_000;
const HARD_STOP_MS = 1_500;
let t: TestServer;
let http: Awaited<ReturnType<typeof listen>>;
beforeAll(async () => {
  t = await testServer({
    // The real sync process, which blocks its own event loop on SIGUSR2 (for the second test).
    syncProcess: { hardStopMs: HARD_STOP_MS, entry: join(import.meta.dirname, 'fixtures', 'blocking-sync-process.ts') },
  });
  await manyUsersSync(t, USERS);
  http = await listen(t.server.app);
}, 60_000);
afterAll(async () => {
  t.emulator.control.setBulkDelay(0);
  await http?.close();
  await t?.close();
});

type Run = { run: { status: string; counts: Record<string, number>; error: { code: string; message: string } | null } };
const post = (path: string): Promise<Response> =>
  fetch(http.origin + path, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });

/** Starts a run over HTTP and waits until some rows are committed and a slow bulk call is in flight. */
async function runUntilSending(): Promise<{ runId: string; confirmed: number }> {
  // Each test starts from an empty ledger (what an earlier test committed would count as unchanged).
  const ledgers = join(t.dir, 'syncs', '.syncline');
  for (const f of existsSync(ledgers) ? readdirSync(ledgers) : [])
    if (f.startsWith('many.duckdb')) rmSync(join(ledgers, f), { recursive: true, force: true });
  t.emulator.control.setBulkDelay(500);
  const started = await post('/api/syncs/many/run');
  expect(started.status).toBe(202);
  const { runId } = (await started.json()) as { runId: string };
  const confirmed = (await waitForRun<Run>(t, runId, (r) => (r.counts.done ?? 0) > 0)).counts.done!;
  // From now on a bulk call takes 60 s: the run is waiting on one when it is cancelled.
  t.emulator.control.setBulkDelay(60_000);
  await new Promise((r) => setTimeout(r, 1_500)); // the calls started before finish, their rows are committed
  return { runId, confirmed };
}

/** The run's record in its ledger, and what a plan now sees as unchanged (committed) and still to send. */
async function committed(runId: string): Promise<{ status: string; synced: number; unchanged: number; toSend: number }> {
  let record;
  {
    await using ledger = await openDuckdbLedger({ path: join(t.dir, 'syncs', '.syncline', 'many.duckdb') });
    record = (await ledger.run(runId))!;
  }
  t.emulator.control.setBulkDelay(0);
  const plan = await t.json<{ summary: { unchanged: number; added: number; changed: number } }>('POST', '/api/syncs/many/plan');
  expect(plan.status).toBe(200);
  const s = plan.body.summary;
  return { status: record.status, synced: record.counts.synced ?? -1, unchanged: s.unchanged, toSend: s.added + s.changed };
}

test('a second cancel while the first waits for a call in flight stops the run now: aborted, confirmed rows kept', async () => {
  const { runId, confirmed } = await runUntilSending();
  const pid = t.server.syncProcessPid();
  expect((await post(`/api/runs/${runId}/cancel`)).status).toBe(202);
  // The clean stop waits for the 60 s call in flight.
  await new Promise((r) => setTimeout(r, 1_000));
  expect((await t.json<Run>('GET', `/api/runs/${runId}`)).body.run.status).toBe('running');
  const second = Date.now();
  expect((await post(`/api/runs/${runId}/cancel`)).status).toBe(202);
  const run = await waitForRun<Run>(t, runId, (r) => r.status !== 'running', 20_000);
  expect(Date.now() - second).toBeLessThan(10_000); // not the 60 s of the call in flight
  expect(run.status).toBe('aborted');
  // The run stopped cleanly in its process: nothing was killed.
  expect(t.server.syncProcessPid()).toBe(pid);
  expect(() => process.kill(pid!, 0)).not.toThrow();
  const c = await committed(runId);
  expect(c.status).toBe('aborted');
  expect(c.synced).toBeGreaterThanOrEqual(confirmed);
  expect(c.synced).toBeLessThan(USERS);
  expect(c.unchanged).toBe(c.synced);
  expect(c.toSend).toBe(USERS - c.synced);
}, 120_000);

test('a second cancel kills a sync process that does not stop the run: aborted, confirmed rows kept, a new process next', async () => {
  const { runId, confirmed } = await runUntilSending();
  const pid = t.server.syncProcessPid()!;
  expect((await post(`/api/runs/${runId}/cancel`)).status).toBe(202);
  // The process stops answering (its event loop is held), so the hard stop's message is never read.
  process.kill(pid, 'SIGUSR2');
  await new Promise((r) => setTimeout(r, 300));
  const second = Date.now();
  expect((await post(`/api/runs/${runId}/cancel`)).status).toBe(202);
  const run = await waitForRun<Run>(t, runId, (r) => r.status !== 'running', 20_000);
  const took = Date.now() - second;
  expect(took).toBeGreaterThanOrEqual(HARD_STOP_MS - 200);
  expect(took).toBeLessThan(HARD_STOP_MS + 8_000);
  expect(run).toMatchObject({
    status: 'aborted',
    error: {
      code: 'aborted',
      message: expect.stringMatching(/^stopped at once by a second cancel: the sync process did not stop within 1\.5 s and was killed/),
    },
  });
  expect(t.logs).toContainEqual(expect.stringMatching(/did not stop a cancelled run within 1\.5 s of the second cancel; it was killed/));
  expect(() => process.kill(pid, 0)).toThrow(); // killed
  await t.server.settle();
  const c = await committed(runId);
  expect(c.status).toBe('aborted');
  expect(c.synced).toBeGreaterThan(0);
  expect(c.synced).toBeGreaterThanOrEqual(confirmed);
  expect(c.unchanged).toBe(c.synced);
  expect(c.toSend).toBe(USERS - c.synced);
  expect(t.server.syncProcessPid()).not.toBe(pid); // the plan above ran in a new process
}, 120_000);
