import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '@syncline/knock-emulator';
import { openDuckdbLedger } from '@syncline/core';
import { generatedUsersSync, runAndSignal, spawnBin, type SignalledRun } from './cli-io.js';

// Issue 11 §2: every stop leaves a record. SIGTERM and SIGHUP stop a run like the first Ctrl-C (no new
// calls, calls in flight finish within --stop-timeout, confirmed rows committed, run recorded `aborted`,
// exit 143 / 129); a second signal stops at once; a run killed hard is closed as `crashed` by the next run.
const API_KEY = 'sk_test_stop';
const BULK = 'POST /v1/users/bulk/identify';
let emulator: RunningEmulator;

beforeAll(async () => {
  // Knock's tiers on: bulk identify takes 1 call/s, so a 6,000-row run lasts several seconds.
  emulator = await startEmulator({ port: 0, bulkDelayMs: 50 });
});
beforeEach(() => emulator.control.reset());
afterAll(async () => emulator.close());

/** A sync of `rows` generated users in a new folder. */
const newSync = (rows = 6000) => generatedUsersSync(mkdtempSync(join(tmpdir(), 'syncline-stop-')), rows, 'stop');

interface Ended extends SignalledRun {
  /** The run's summary (`--json`'s last line), if it printed one. */
  last: Record<string, unknown> | null;
}

/** Starts `syncline run --json`; once `ready()` holds, sends `signals` (100 ms apart). */
async function signalledRun(config: string, signals: NodeJS.Signals[], ready: () => boolean, extra: string[] = []): Promise<Ended> {
  const r = await runAndSignal(['run', config, '--json', ...extra], {
    env: { ...process.env, KNOCK_API_KEY: API_KEY, KNOCK_BASE_URL: emulator.url },
    signals,
    ready,
  });
  let last: Record<string, unknown> | null = null;
  try {
    last = JSON.parse(r.out.trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
  } catch {
    // no summary line
  }
  return { ...r, last };
}

const bulkPosts = () => emulator.control.requests().filter((e) => e.route === BULK);

async function ledgerState(path: string) {
  await using ledger = await openDuckdbLedger({ path });
  return { runs: await ledger.runs(), inDoubt: await ledger.inDoubtCount(), snapshot: await ledger.snapshotSize() };
}

// Each test starts the real bin one to three times; on a shared 2-core machine a run takes tens of seconds.
describe('stop signals', { timeout: 300_000 }, () => {
  test.each([
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('%s: calls in flight finish, confirmed rows are committed, the run is recorded aborted, exit %i', async (signal, exit) => {
    const s = newSync();
    const r = await signalledRun(s.config, [signal], () => bulkPosts().length >= 1);
    expect(r.signal).toBeNull();
    expect({ code: r.code, err: r.err }).toEqual({ code: exit, err: expect.any(String) });
    expect(r.err).toMatch(
      new RegExp(
        `${signal} received\\. (Finishing [\\d,]+ calls? in flight \\(at most 10 s\\) and|No call in flight;) committing confirmed rows`,
      ),
    );
    expect(r.last).toMatchObject({ status: 'aborted' });
    const state = await ledgerState(s.ledger);
    expect(state.runs.map((x) => x.status)).toEqual(['aborted']);
    // Everything Knock accepted was confirmed and committed; nothing is left in doubt to resend.
    expect(state.inDoubt).toBe(0);
    expect(state.snapshot).toBeGreaterThan(0);
    expect(state.snapshot).toBe((r.last!.rows as { synced: number }).synced);
    expect(state.snapshot).toBeLessThan(6000);
  });

  test('a second signal stops at once; --stop-timeout bounds a call that does not finish', async () => {
    const s = newSync();
    // Every bulk call hangs for 30 s: neither stop may wait for it.
    emulator.control.addFault({ match: BULK, delayMs: 30_000, count: null });
    const twice = await signalledRun(
      s.config,
      ['SIGTERM', 'SIGTERM'],
      () => bulkPosts().length >= 1 || emulator.control.requests().length >= 1,
    );
    expect({ code: twice.code, err: twice.err }).toEqual({ code: 143, err: expect.any(String) });
    expect(twice.afterSignalMs).toBeLessThan(10_000);
    expect((await ledgerState(s.ledger)).runs.map((x) => x.status)).toEqual(['aborted']);
    const bounded = await signalledRun(s.config, ['SIGTERM'], () => emulator.control.requests().length >= 2, ['--stop-timeout', '1']);
    expect(bounded.code).toBe(143);
    expect(bounded.afterSignalMs).toBeLessThan(10_000);
    expect((await ledgerState(s.ledger)).runs.map((x) => x.status)).toEqual(['aborted', 'aborted']);
  });

  test('a run killed hard is closed as crashed, with the time of its last commit, by the next run and shown by syncline runs', async () => {
    const s = newSync(3000);
    const killed = await signalledRun(s.config, ['SIGKILL'], () => bulkPosts().filter((e) => e.status === 200).length >= 2);
    expect({ signal: killed.signal, err: killed.err }).toEqual({ signal: 'SIGKILL', err: expect.any(String) });
    const before = await ledgerState(s.ledger);
    expect(before.runs.map((x) => x.status)).toEqual(['running']);
    const finished = await signalledRun(s.config, [], () => false);
    expect(finished.code).toBe(0);
    const after = await ledgerState(s.ledger);
    const crashed = after.runs.find((x) => x.runId === before.runs[0]!.runId)!;
    expect(crashed.status).toBe('crashed');
    expect(crashed.error).toMatchObject({ code: 'crashed' });
    // Closed at its last commit: after it started, before the next run started.
    expect(Date.parse(crashed.finishedAt!)).toBeGreaterThan(Date.parse(crashed.startedAt));
    expect(Date.parse(crashed.finishedAt!)).toBeLessThanOrEqual(Date.parse(after.runs[0]!.startedAt));
    const list = (await spawnBin(['runs', s.config])).stdout;
    expect(list).toMatch(new RegExp(`${crashed.runId} .* crashed .*crashed: the process stopped without closing this run`));
  });
});
