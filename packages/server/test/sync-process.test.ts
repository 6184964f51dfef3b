import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testServer, type TestServer } from './helpers.js';

const SENTINEL = 'sk_test_SYNCPROC4e8a1c7b9d2f';
const hasProc = existsSync('/proc/self/environ');

let t: TestServer;
const saved = process.env.KNOCK_API_KEY;
beforeAll(async () => {
  // The server's own environment holds the key, as under `KNOCK_API_KEY=… syncline serve`.
  process.env.KNOCK_API_KEY = SENTINEL;
  t = await testServer({ apiKey: SENTINEL });
  await t.call('PUT', '/api/destinations/knock', { apiKey: SENTINEL, baseUrl: t.emulator.url });
});
afterAll(async () => {
  if (saved === undefined) delete process.env.KNOCK_API_KEY;
  else process.env.KNOCK_API_KEY = saved;
  await t?.close();
});

describe('the sync process (plans and runs off the server event loop)', () => {
  // /proc is Linux's; elsewhere the same code runs, but there is no other process's environment to read.
  test.skipIf(!hasProc)('the key reaches it by message only: not in its environment or its command line', async () => {
    expect((await t.call('POST', '/api/syncs/example-users/plan')).status).toBe(200);
    const pid = t.server.syncProcessPid();
    expect(pid).toBeGreaterThan(0);
    expect(pid).not.toBe(process.pid);
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
    expect(environ).toMatch(/(^|\0)PATH=/); // the rest of the environment is there
    expect(environ).not.toContain('SYNCPROC4e8a1c7b9d2f');
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain('SYNCPROC4e8a1c7b9d2f');
  });

  test('a crash fails the run in flight with sync_crashed, and the next plan starts a new process', async () => {
    t.emulator.control.setBulkDelay(5_000); // the run waits on its bulk job when the process dies
    try {
      const { body } = await t.json<{ runId: string }>('POST', '/api/syncs/example-users/run');
      const pid = t.server.syncProcessPid()!;
      // Once the run has sent its first call, the process that runs it is killed, as a native crash would.
      for (let i = 0; i < 400 && !t.emulator.control.requests().some((r) => r.method === 'POST'); i++)
        await new Promise((r) => setTimeout(r, 25));
      process.kill(pid, 'SIGKILL');
      await t.server.settle();
      const run = await t.json<{ run: { status: string; error: { code: string; message: string } | null } }>(
        'GET',
        `/api/runs/${body.runId}`,
      );
      expect(run.body.run.status).toBe('failed');
      expect(run.body.run.error).toMatchObject({
        code: 'sync_crashed',
        message: expect.stringMatching(/the sync process stopped \(SIGKILL\)/),
      });
      expect(t.logs).toContainEqual(
        expect.stringMatching(/the sync process stopped \(SIGKILL\); a new one starts with the next plan or run/),
      );
      expect(t.logs).toContainEqual(
        expect.stringMatching(new RegExp(`^run ${body.runId} of example-users failed: the sync process stopped`)),
      );
      // The sync is free again, in a new process.
      expect((await t.call('POST', '/api/syncs/example-users/plan')).status).toBe(200);
      expect(t.server.syncProcessPid()).not.toBe(pid);
    } finally {
      t.emulator.control.setBulkDelay(0);
    }
  });
});
