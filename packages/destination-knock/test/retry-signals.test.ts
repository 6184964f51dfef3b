import type { RunningEmulator } from '@syncline/knock-emulator';
import { beforeEach, describe, expect, test } from 'vitest';
import { add, destination, getUser, sync, useEmulator, usersTarget } from './support.js';

let emulator: RunningEmulator;
useEmulator((e) => (emulator = e));
beforeEach(() => {
  emulator.control.setRateLimits({ headers: 'retry-after' });
  emulator.control.setShouldRetryHeader(false);
});

const PUT = 'PUT /v1/users/{user_id}';
const BULK = 'POST /v1/users/bulk/identify';
const many = (n: number) => Array.from({ length: n }, (_, i) => add(`u${i}`, { name: `N${i}` }));
const log = (route: string) => emulator.control.requests().filter((e) => e.route === route);

describe('Retry-After honoured exactly (H-01)', () => {
  test.each(['retry-after-date', 'retry-after'] as const)(
    '%s: sends nothing to the endpoint before the time a 429 names, and delivers every row',
    async (mode) => {
      emulator.control.setRateLimits({ headers: mode });
      emulator.control.addFault({ match: PUT, status: 429, retryAfterMs: 300, count: 3 });
      await using knock = destination(emulator);
      const r = await sync(knock, usersTarget(), many(6));
      expect(r.failed).toEqual([]);
      expect(r.ok).toHaveLength(6);
      // The emulator logs arrivals on the performance clock; an HTTP date is wall-clock time (same process).
      const skew = Date.now() - (performance.timeOrigin + performance.now());
      const entries = new Map(log(PUT).map((e) => [e.requestId, e]));
      const entryOf = (x: (typeof r.exchanges)[number]) => entries.get(x.responseHeaders!['x-request-id']!)!;
      const throttles = r.exchanges.filter((x) => x.status === 429);
      expect(throttles).toHaveLength(3);
      let checked = 0;
      for (const t of throttles) {
        const value = t.responseHeaders!['retry-after']!;
        const answered = entryOf(t);
        // The server's permitted time: the date it named, or its answer time plus the seconds.
        const permitted =
          mode === 'retry-after-date'
            ? Math.floor(Date.parse(value) - skew)
            : Math.floor(Date.parse(answered.time) + answered.durationMs + Number(value) * 1000);
        if (mode === 'retry-after-date') expect(value).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
        else expect(value).toBe('1');
        // Every request sent once this 429 was in hand (requests already in flight could not know).
        const known = Date.parse(t.startedAt) + t.durationMs;
        for (const x of r.exchanges.filter((e) => Date.parse(e.startedAt) >= known)) {
          expect(Date.parse(entryOf(x).time)).toBeGreaterThanOrEqual(permitted);
          checked += 1;
        }
      }
      expect(checked).toBeGreaterThanOrEqual(3);
    },
  );
});

describe('x-should-retry (knock-api.md §1.5–1.6)', () => {
  test('false: a 503 is not retried (the row fails in doubt after one request)', async () => {
    emulator.control.addFault({ match: PUT, status: 503, shouldRetry: false, count: 1 });
    await using knock = destination(emulator);
    const r = await sync(knock, usersTarget(), [add('u1')]);
    expect(log(PUT)).toHaveLength(1);
    expect(r.failed).toEqual([expect.objectContaining({ key: 'u1', code: 'http_503', status: 503, inDoubt: true })]);
  });

  test('false: a 429 is not retried', async () => {
    emulator.control.addFault({ match: PUT, status: 429, retryAfterMs: 50, shouldRetry: false, count: 1 });
    await using knock = destination(emulator);
    const r = await sync(knock, usersTarget(), [add('u1')]);
    expect(log(PUT)).toHaveLength(1);
    expect(r.failed).toEqual([expect.objectContaining({ key: 'u1', code: 'rate_limited', status: 429 })]);
  });

  test.each([400, 422])('true: a %i, which is never retried otherwise, is retried', async (status) => {
    emulator.control.addFault({ match: PUT, status, shouldRetry: true, count: 1 });
    await using knock = destination(emulator);
    const r = await sync(knock, usersTarget(), [add('u1', { name: 'Ann' })]);
    expect(r.ok).toEqual(['u1']);
    expect(log(PUT).map((e) => e.status)).toEqual([status, 200]);
    expect(await getUser(emulator, 'u1')).toMatchObject({ name: 'Ann' });
  });

  test('without the header a 422 is not retried and a 503 is', async () => {
    emulator.control.addFault({ match: PUT, status: 422, count: 1 });
    emulator.control.addFault({ match: PUT, status: 503, count: 1 });
    await using knock = destination(emulator);
    const r = await sync(knock, usersTarget(), [add('u1')], { concurrency: 1 });
    const r2 = await sync(knock, usersTarget(), [add('u2')]);
    expect(r.failed).toEqual([expect.objectContaining({ status: 422 })]);
    expect(r2.ok).toEqual(['u2']);
    expect(log(PUT).map((e) => e.status)).toEqual([422, 503, 200]);
  });

  test('with the emulator sending it on every error (shouldRetryHeader), the defaults hold', async () => {
    emulator.control.setShouldRetryHeader(true);
    emulator.control.addFault({ match: PUT, status: 503, count: 2 });
    await using knock = destination(emulator);
    const bad = add('x'.repeat(300));
    const r = await sync(knock, usersTarget(), [add('u1'), bad], { concurrency: 1 });
    expect(r.ok).toEqual(['u1']);
    expect(r.failed).toEqual([expect.objectContaining({ key: bad.key, status: 422, code: 'invalid_params' })]);
    expect(r.exchanges.filter((x) => x.status === 422)[0]!.responseHeaders!['x-should-retry']).toBe('false');
    expect(log(PUT).map((e) => e.status)).toEqual([503, 503, 200, 422]);
  });
});

describe('a Retry-After longer than maxRetryAfterMs (H-03)', () => {
  test('fails the other operations of the endpoint at once without sending them, and asks the run to resume later', async () => {
    emulator.control.addFault({ match: PUT, status: 429, retryAfterMs: 600_000, count: 1 });
    await using knock = destination(emulator);
    const t0 = performance.now();
    const r = await sync(knock, usersTarget(), many(40), { concurrency: 1 });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(log(PUT)).toHaveLength(1);
    expect(r.ok).toEqual([]);
    expect(r.failed).toHaveLength(40);
    expect(new Set(r.failed.map((f) => f.code))).toEqual(new Set(['rate_limited_resume_later']));
    expect(r.failed.filter((f) => f.status === 429)).toHaveLength(1);
    expect(r.failed.some((f) => f.inDoubt)).toBe(false);
    for (const o of r.outcomes) {
      expect(o.resumeAfterMs).toBeGreaterThan(598_000);
      expect(o.resumeAfterMs).toBeLessThanOrEqual(600_000);
    }
  });

  test('on a bulk endpoint: the queued jobs fail at once, single calls of other endpoints go on', async () => {
    emulator.control.addFault({ match: BULK, status: 429, retryAfterMs: 600_000, count: 1 });
    // chooseSplit at the test tiers with a job done 0.3 s after its POST: 2 jobs + 300 singles (0.38 s, the
    // run loop's own cost of 2,300 rows and 302 calls) beat 3 jobs (0.4 s). Each chunk sends ⌊n · 300/2,300⌋ singles: 130 + 130 + 39 = 299, and its other rows as
    // one bulk operation (870 + 870 + 261).
    await using knock = destination(emulator, {
      bulk: { pollIntervalMs: 20, maxPollIntervalMs: 50, singleOnlySeconds: 0.3, coalesce: false },
    });
    const t0 = performance.now();
    const r = await sync(knock, usersTarget(), many(2300));
    const elapsed = performance.now() - t0;
    // "At once": nothing waits for the 600 s Retry-After (the bound leaves room for a loaded machine).
    expect(elapsed).toBeLessThan(5000);
    expect(log(BULK)).toHaveLength(1);
    expect(log(PUT)).toHaveLength(299);
    expect(r.ok).toHaveLength(299);
    expect(r.failed).toHaveLength(2001);
    expect(new Set(r.failed.map((f) => f.code))).toEqual(new Set(['rate_limited_resume_later']));
    // Each failed outcome says how much of the 600 s is left when it ends: at least 600 s less the time the
    // whole sync took (a fixed 598 s failed on a loaded machine, where the sync took 2.5 s).
    const left = r.outcomes.filter((o) => o.failed.length > 0).map((o) => o.resumeAfterMs!);
    expect(left.length).toBeGreaterThan(0);
    for (const ms of left) expect(ms).toBeGreaterThan(600_000 - elapsed - 1);
  });

  test('keeps a row in doubt when an earlier attempt may have been applied', async () => {
    emulator.control.addFault({ match: PUT, reset: 'after', count: 1 });
    emulator.control.addFault({ match: PUT, status: 429, retryAfterMs: 600_000, count: 1 });
    await using knock = destination(emulator);
    const r = await sync(knock, usersTarget(), [add('u1')]);
    expect(r.failed).toEqual([expect.objectContaining({ key: 'u1', code: 'rate_limited_resume_later', status: 429, inDoubt: true })]);
  });

  test('check() neither waits nor fails when its read is closed for long: the writes decide', async () => {
    emulator.control.addFault({ match: 'GET /v1/users', status: 429, retryAfterMs: 600_000, count: 1 });
    await using knock = destination(emulator);
    const t0 = performance.now();
    await knock.check(usersTarget());
    expect(performance.now() - t0).toBeLessThan(1000);
    const r = await sync(knock, usersTarget(), [add('u1')]);
    expect(r.ok).toEqual(['u1']);
  });

  test('a new destination (the resume) asks Knock again and sends', async () => {
    emulator.control.addFault({ match: PUT, status: 429, retryAfterMs: 600_000, count: 1 });
    {
      await using knock = destination(emulator);
      const r = await sync(knock, usersTarget(), [add('u1')]);
      expect(r.failed).toEqual([expect.objectContaining({ code: 'rate_limited_resume_later' })]);
    }
    await using knock = destination(emulator);
    const r = await sync(knock, usersTarget(), [add('u1')]);
    expect(r.ok).toEqual(['u1']);
  });
});
