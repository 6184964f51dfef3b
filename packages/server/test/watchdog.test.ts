import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openDuckdbLedger } from '@syncline/core';
import { manyUsersSync, testServer, waitForRun, type TestServer } from './helpers.js';

// A sync process whose event loop is blocked (it sends no heartbeat) is found by the server's watchdog: its
// run fails with sync_hung, the process is killed, the next job gets a new one, and the rows the run confirmed
// before it hung stay committed.
const USERS = 8_000;
const HANG_MS = 3_000;
let t: TestServer;
beforeAll(async () => {
  t = await testServer({
    syncProcess: { hangTimeoutMs: HANG_MS, entry: join(import.meta.dirname, 'fixtures', 'blocking-sync-process.ts') },
  });
  await manyUsersSync(t, USERS);
}, 60_000);
afterAll(async () => {
  t.emulator.control.setBulkDelay(0);
  await t?.close();
});

type Run = { run: { status: string; counts: Record<string, number>; error: { code: string; message: string } | null } };

test('a hung sync process: the run fails with sync_hung, the process is killed, confirmed rows stay committed', async () => {
  t.emulator.control.setBulkDelay(1_000); // 8 bulk calls of 1,000 users, one at a time: at least 8 s of sending
  const started = await t.json<{ runId: string }>('POST', '/api/syncs/many/run');
  expect(started.status).toBe(202);
  const { runId } = started.body;
  // Once some rows are confirmed (and committed), the process's event loop is blocked.
  const done = (await waitForRun<Run>(t, runId, (r) => (r.counts.done ?? 0) > 0)).counts.done!;
  expect(done).toBeGreaterThan(0);
  // The confirmation is committed within the ledger writer's window (200 ms); then the loop is blocked.
  await new Promise((r) => setTimeout(r, 2_000));
  expect((await t.json<Run>('GET', `/api/runs/${runId}`)).body.run.counts.done).toBeLessThan(USERS);
  const pid = t.server.syncProcessPid()!;
  const blockedAt = Date.now();
  process.kill(pid, 'SIGUSR2');
  await t.server.settle();
  const waited = Date.now() - blockedAt;
  expect(waited).toBeGreaterThanOrEqual(HANG_MS - 1_000);
  expect(waited).toBeLessThan(HANG_MS + 10_000);

  // The run failed with the watchdog's reason, in the debugger, the run and its record in the ledger.
  const run = await t.json<Run>('GET', `/api/runs/${runId}`);
  expect(run.body.run.status).toBe('failed');
  expect(run.body.run.error).toMatchObject({
    code: 'sync_hung',
    message: expect.stringMatching(/stopped answering \(no heartbeat for [\d.]+ s, the limit is 3 s\); it was killed/),
  });
  expect(t.logs).toContainEqual(expect.stringMatching(/^the sync process stopped answering/));
  expect(() => process.kill(pid, 0)).toThrow(); // the process is gone
  {
    await using ledger = await openDuckdbLedger({ path: join(t.dir, 'syncs', '.syncline', 'many.duckdb') });
    const record = await ledger.run(runId);
    expect(record).toMatchObject({ status: 'failed', error: { code: 'sync_hung' } });
    expect(record!.finishedAt).not.toBeNull();
    // What was confirmed before the hang is committed; the record counts it.
    expect(record!.counts.synced).toBeGreaterThanOrEqual(done);
    expect(record!.counts.synced).toBeLessThan(USERS);
    expect(await ledger.snapshotSize()).toBe(record!.counts.synced);
  }

  // The next job gets a new process, and diffs against the committed rows.
  t.emulator.control.setBulkDelay(0);
  const plan = await t.json<{ summary: { unchanged: number; added: number; changed: number } }>('POST', '/api/syncs/many/plan');
  expect(plan.status).toBe(200);
  const fresh = t.server.syncProcessPid();
  expect(fresh).toBeGreaterThan(0);
  expect(fresh).not.toBe(pid);
  const synced = (
    await t.json<{ runs: { runId: string; counts: Record<string, number> }[] }>('GET', '/api/syncs/many/runs')
  ).body.runs.find((r) => r.runId === runId)!.counts.synced!;
  // Rows committed before the hang are unchanged; the rest (never sent, or in doubt) are sent again.
  expect(plan.body.summary.unchanged).toBe(synced);
  expect(plan.body.summary.added + plan.body.summary.changed).toBe(USERS - synced);
}, 120_000);
