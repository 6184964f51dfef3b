import { afterEach, describe, expect, test, vi } from 'vitest';
import { nextTime, scheduleSchema, startScheduler, type ScheduledJob } from '../src/index.js';

afterEach(() => {
  vi.useRealTimers();
});

/** A job whose runs take `ms` of (fake) time each. */
function job(name: string, schedule: ScheduledJob['schedule'], ms: number, extra: Partial<ScheduledJob> = {}) {
  const starts: string[] = [];
  const j: ScheduledJob = {
    name,
    schedule,
    run: async () => {
      starts.push(new Date().toISOString());
      await new Promise((r) => setTimeout(r, ms));
      return 'succeeded';
    },
    ...extra,
  };
  return { job: j, starts };
}

describe('scheduleSchema', () => {
  test.each([
    ['*/15 * * * *', true],
    [{ every: '15m' }, true],
    [{ every: '1.5h' }, true],
    [{ cron: '0 9 * * 1-5', timezone: 'Europe/Paris' }, true],
    ['not cron', false],
    [{ every: '15 minutes' }, false],
    [{ every: '500ms' }, false],
  ])('%o parses: %s', (input, ok) => {
    expect(scheduleSchema.safeParse(input).success).toBe(ok);
  });

  test('names the problem of a bad cron expression', () => {
    const r = scheduleSchema.safeParse('61 * * * *');
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('not a cron expression');
  });

  test('a value of no known form lists the forms', () => {
    const r = scheduleSchema.safeParse({ every: 15 });
    expect(r.error?.issues[0]?.message).toBe(
      'a cron expression such as "*/15 * * * *", { every: 15m } or { cron: "0 9 * * *", timezone: Europe/Paris }',
    );
  });

  test('nextTime: cron and every', () => {
    const t = new Date('2026-12-07T00:07:00Z');
    expect(nextTime('*/15 * * * *', t)?.toISOString().slice(14)).toBe('15:00.000Z');
    expect(nextTime({ every: '15m' }, t)?.toISOString()).toBe('2026-12-07T00:22:00.000Z');
  });
});

describe('startScheduler (fake timers)', () => {
  test('runs each job on its schedule and logs the next run', async () => {
    vi.useFakeTimers({ now: new Date('2026-12-07T00:00:00Z') });
    const a = job('users', { every: '15m' }, 1000);
    const b = job('teams', '*/10 * * * *', 1000);
    const lines: string[] = [];
    const scheduler = await startScheduler({ jobs: [a.job, b.job], log: (l) => lines.push(l) });
    expect(lines).toEqual([
      'users: next run at 2026-12-07T00:15:00.000Z (every 15m)',
      'teams: next run at 2026-12-07T00:10:00.000Z (cron */10 * * * *)',
    ]);
    await vi.advanceTimersByTimeAsync(30 * 60_000);
    expect(a.starts).toEqual(['2026-12-07T00:15:00.000Z', '2026-12-07T00:30:00.000Z']);
    expect(b.starts).toEqual(['2026-12-07T00:10:00.000Z', '2026-12-07T00:20:00.000Z', '2026-12-07T00:30:00.000Z']);
    expect(lines).toContain('users: run finished in 1.0s: succeeded');
    expect(scheduler.status()).toEqual([
      { job: 'users', next: new Date('2026-12-07T00:45:00.000Z'), running: true },
      { job: 'teams', next: new Date('2026-12-07T00:40:00.000Z'), running: true },
    ]);
    await vi.advanceTimersByTimeAsync(1000);
    await scheduler.stop();
  });

  test('never runs a sync twice at once: a tick during a run is skipped and logged', async () => {
    vi.useFakeTimers({ now: new Date('2026-12-07T00:00:00Z') });
    const a = job('users', { every: '1m' }, 150_000); // each run takes 2.5 ticks
    const lines: string[] = [];
    const scheduler = await startScheduler({ jobs: [a.job], log: (l) => lines.push(l) });
    await vi.advanceTimersByTimeAsync(6 * 60_000);
    expect(a.starts).toEqual(['2026-12-07T00:01:00.000Z', '2026-12-07T00:04:00.000Z']);
    expect(lines.filter((l) => l.includes('skipped'))).toEqual([
      'users: skipped the run due at 2026-12-07T00:02:00.000Z: the previous run (started 2026-12-07T00:01:00.000Z) is still going',
      'users: skipped the run due at 2026-12-07T00:03:00.000Z: the previous run (started 2026-12-07T00:01:00.000Z) is still going',
      'users: skipped the run due at 2026-12-07T00:05:00.000Z: the previous run (started 2026-12-07T00:04:00.000Z) is still going',
      'users: skipped the run due at 2026-12-07T00:06:00.000Z: the previous run (started 2026-12-07T00:04:00.000Z) is still going',
    ]);
    const stopping = scheduler.stop();
    await vi.advanceTimersByTimeAsync(150_000);
    await stopping;
  });

  test('a run missed while the scheduler was down runs once on start, not once per missed tick', async () => {
    vi.useFakeTimers({ now: new Date('2026-12-07T12:05:00Z') });
    // Last ran 10 hours ago on a 15-minute schedule: 40 ticks missed.
    const a = job('users', '*/15 * * * *', 1000, { lastRunAt: async () => new Date('2026-12-07T02:00:00Z') });
    const fresh = job('teams', '*/15 * * * *', 1000, { lastRunAt: async () => new Date('2026-12-07T12:01:00Z') });
    const lines: string[] = [];
    const scheduler = await startScheduler({ jobs: [a.job, fresh.job], log: (l) => lines.push(l) });
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(a.starts).toEqual(['2026-12-07T12:05:00.000Z']);
    expect(fresh.starts).toEqual([]);
    expect(lines).toContain('users: missed the run due at 2026-12-07T02:15:00.000Z while the scheduler was down; running once now');
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(a.starts).toEqual(['2026-12-07T12:05:00.000Z', '2026-12-07T12:15:00.000Z']);
    expect(fresh.starts).toEqual(['2026-12-07T12:15:00.000Z']);
    const stopping = scheduler.stop();
    await vi.advanceTimersByTimeAsync(1000);
    await stopping;
  });

  test('stop() aborts runs in progress, waits for them, and ticks no more', async () => {
    vi.useFakeTimers({ now: new Date('2026-12-07T00:00:00Z') });
    let aborted = false;
    const runs: string[] = [];
    const scheduler = await startScheduler({
      jobs: [
        {
          name: 'users',
          schedule: { every: '1m' },
          run: (signal) =>
            new Promise((resolve) => {
              runs.push(new Date().toISOString());
              signal.addEventListener('abort', () => {
                aborted = true;
                // Finishing calls in flight and committing takes a moment.
                setTimeout(() => resolve('aborted'), 500);
              });
            }),
        },
      ],
    });
    await vi.advanceTimersByTimeAsync(60_000);
    let done = false;
    const stopping = scheduler.stop().then(() => (done = true));
    await vi.advanceTimersByTimeAsync(100);
    expect([aborted, done]).toEqual([true, false]);
    await vi.advanceTimersByTimeAsync(500);
    await stopping;
    expect(done).toBe(true);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(runs).toHaveLength(1);
    expect(scheduler.status()[0]!.next).toBeUndefined();
  });

  test('a run that throws is logged and the schedule goes on', async () => {
    vi.useFakeTimers({ now: new Date('2026-12-07T00:00:00Z') });
    let n = 0;
    const lines: string[] = [];
    const scheduler = await startScheduler({
      jobs: [
        {
          name: 'users',
          schedule: { every: '1m' },
          run: async () => (n++ === 0 ? Promise.reject(new Error('ledger locked')) : 'succeeded'),
        },
      ],
      log: (l) => lines.push(l),
    });
    await vi.advanceTimersByTimeAsync(2 * 60_000);
    expect(lines.filter((l) => l.includes('run failed') || l.includes('run finished'))).toEqual([
      'users: run failed after 0.0s: ledger locked',
      'users: run finished in 0.0s: succeeded',
    ]);
    await scheduler.stop();
  });
});

describe('startScheduler (real time)', () => {
  test('runs a 1-second schedule on real timers', async () => {
    const starts: number[] = [];
    const scheduler = await startScheduler({
      jobs: [{ name: 'users', schedule: { every: '1s' }, run: async () => void starts.push(Date.now()) }],
    });
    const t0 = Date.now();
    await vi.waitFor(() => expect(starts.length).toBeGreaterThanOrEqual(2), { timeout: 10_000, interval: 50 });
    await scheduler.stop();
    expect(starts[0]! - t0).toBeGreaterThanOrEqual(950);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(950);
  });
});
