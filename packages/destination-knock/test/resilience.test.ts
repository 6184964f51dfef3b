import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isSyncError } from '@syncline/core';
import type { RunningEmulator } from '@syncline/knock-emulator';
import { beforeEach, describe, expect, test } from 'vitest';
import { knockDestination } from '../src/index.js';
import { API_KEY, add, capturingDispatcher, destination, fast, getUser, sync, useEmulator, usersTarget, emulatorFor } from './support.js';

let emulator: RunningEmulator;
useEmulator((e) => (emulator = e));
beforeEach(() => {
  emulator.control.setRateLimits({ headers: 'retry-after' });
});

const PUT = 'PUT /v1/users/{user_id}';
const writes = () => emulator.control.requests().filter((e) => e.method !== 'GET');
const times = (route: string) =>
  emulator.control
    .requests()
    .filter((e) => e.route === route)
    .map((e) => Date.parse(e.time));
const many = (n: number) => Array.from({ length: n }, (_, i) => add(`u${i}`, { name: `N${i}` }));

describe('429 handling', () => {
  test.each([
    ['retry-after', 1000, 1000],
    ['retry-after-ms', 450, 450],
    ['none', 450, 0],
  ] as const)('retries a 429 with %s, never before the server allows', async (mode, retryAfterMs, minGap) => {
    emulator.control.setRateLimits({ headers: mode });
    emulator.control.addFault({ match: PUT, status: 429, retryAfterMs, count: 1 });
    await using knock = destination(emulator);
    const r = await sync(knock, usersTarget(), [add('u1')]);
    expect(r.ok).toEqual(['u1']);
    const [first, second] = times(PUT);
    expect(emulator.control.requests().map((e) => e.status)).toEqual([429, 200]);
    expect(second! - first!).toBeGreaterThanOrEqual(minGap);
    expect(r.requests).toBe(2);
  });

  test('holds every request of the endpoint until Retry-After has passed', async () => {
    emulator.control.setRateLimits({ headers: 'retry-after-ms' });
    emulator.control.addFault({ match: PUT, status: 429, retryAfterMs: 400, count: 1 });
    await using knock = destination(emulator);
    // One op first (it takes the 429), the rest start while the endpoint is blocked.
    const target = usersTarget();
    const plan = knock.plan(many(6), { target, totals: { add: 6, change: 0, remove: 0 } });
    const first = knock.apply(plan.operations[0]!, { target });
    await new Promise((r) => setTimeout(r, 50));
    const rest = await Promise.all(plan.operations.slice(1).map((op) => knock.apply(op, { target })));
    await first;
    expect(rest.flatMap((o) => o.ok)).toHaveLength(5);
    const [throttled, ...after] = times(PUT);
    for (const t of after) expect(t - throttled!).toBeGreaterThanOrEqual(400);
  });

  test('ends rows as rate_limited_resume_later with resumeAfterMs when Knock asks to wait longer than maxRetryAfterMs', async () => {
    emulator.control.setRateLimits({ headers: 'retry-after-ms' });
    emulator.control.addFault({ match: PUT, status: 429, retryAfterMs: 600_000, count: 1 });
    await using knock = knockDestination(fast(emulator, { apiKey: 'sk_test_long_wait', retry: { maxRetryAfterMs: 5_000 } }));
    const t0 = performance.now();
    const r = await sync(knock, usersTarget(), [add('u1')]);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(r.failed).toEqual([expect.objectContaining({ key: 'u1', code: 'rate_limited_resume_later', status: 429 })]);
    expect(r.failed[0]!.inDoubt).toBeUndefined();
    expect(r.outcomes[0]!.retryAfterMs).toBeGreaterThan(590_000);
    expect(r.outcomes[0]!.resumeAfterMs).toBeGreaterThan(590_000);
  });

  test("sends at Knock's tier rates without tripping the limiter", async () => {
    const limited = await emulatorFor({ rateLimits: true });
    try {
      await using knock = knockDestination({
        apiKey: API_KEY,
        baseUrl: limited.url,
        dispatcher: capturingDispatcher(limited.url),
        bulk: { pollIntervalMs: 50 },
      });
      const r = await sync(knock, usersTarget(), many(150));
      const r2 = await sync(
        knock,
        usersTarget(),
        many(2100).map((c) => ({ ...c, action: 'change' as const })),
        { concurrency: 32 },
      );
      expect(r.failed.length + r2.failed.length).toBe(0);
      expect(limited.control.requests().filter((e) => e.status === 429)).toEqual([]);
    } finally {
      await limited.close();
    }
  }, 20_000);
});

describe('server failures', () => {
  test('rides out a 5xx storm with the breaker and delivers every row', async () => {
    emulator.control.addFault({ match: '*', status: 503, count: 15 });
    await using knock = destination(emulator);
    const r = await sync(knock, usersTarget(), many(20));
    expect(r.failed).toEqual([]);
    expect(r.ok).toHaveLength(20);
    expect(writes().filter((e) => e.status === 503)).toHaveLength(15);
    expect(writes()).toHaveLength(20 + 15);
    // Every failure was logged with the load balancer's HTML body and no crash.
    expect(r.exchanges.filter((e) => e.status === 503).every((e) => e.responseBody?.includes('<html>'))).toBe(true);
  });

  test('ends a persistent storm within breaker.maxWaitMs: waiting rows fail as circuit_open, singles and bulk alike', async () => {
    emulator.control.addFault({ match: '*', status: 500, count: null });
    await using knock = destination(emulator, {
      breaker: { failureThreshold: 3, cooldownMs: 100, maxCooldownMs: 200, maxWaitMs: 600 },
      retry: { maxAttempts: 6, baseMs: 10, capMs: 50 },
      // 2,500 rows with a job done 0.5 s after its POST: 500 single calls and 2,000 rows in bulk jobs.
      bulk: { singleOnlySeconds: 0.5 },
    });
    const t0 = Date.now();
    const r = await sync(knock, usersTarget(), many(2500));
    const elapsed = Date.now() - t0;
    expect(r.ok).toEqual([]);
    expect(r.failed).toHaveLength(2500);
    expect(new Set(r.failed.map((f) => f.code))).toContain('circuit_open');
    // Bounded: the breaker lets at most one probe out per cool-down, and nobody waits past maxWaitMs.
    expect(elapsed).toBeLessThan(10_000);
    expect(writes().length).toBeLessThan(40);
  });

  test('gives up after maxAttempts on a persistent 502 and reports the rows failed', async () => {
    emulator.control.addFault({ match: '*', status: 502, count: null });
    await using knock = destination(emulator, { retry: { maxAttempts: 3, baseMs: 5, capMs: 20 } });
    const r = await sync(knock, usersTarget(), many(2));
    expect(r.ok).toEqual([]);
    expect(r.failed).toEqual([
      expect.objectContaining({ code: 'http_502', status: 502 }),
      expect.objectContaining({ code: 'http_502', status: 502 }),
    ]);
    expect(r.failed[0]!.message).toBe('[knock] HTTP 502 with a body that is not JSON');
    expect(writes()).toHaveLength(6);
  });

  test('retries a write whose response was lost to a connection reset after Knock applied it', async () => {
    emulator.control.addFault({ match: PUT, reset: 'after', count: 1 });
    await using knock = destination(emulator);
    const r = await sync(knock, usersTarget(), [add('u1', { name: 'Ann' })]);
    expect(r.ok).toEqual(['u1']);
    expect(r.exchanges.map((e) => e.status)).toEqual([null, 200]);
    expect(r.exchanges[0]!.error).toMatch(/UND_ERR_SOCKET|ECONNRESET|other side closed/);
    expect(await getUser(emulator, 'u1')).toMatchObject({ name: 'Ann' });
  });

  test('aborts an attempt at the headers timeout and retries it', async () => {
    emulator.control.addFault({ match: PUT, delayMs: 1500, count: 1 });
    await using knock = destination(emulator, { timeouts: { headersMs: 200 } });
    const r = await sync(knock, usersTarget(), [add('u1')]);
    expect(r.ok).toEqual(['u1']);
    expect(r.exchanges[0]!.error).toMatch(/HEADERS_TIMEOUT|Timeout/i);
    expect(r.exchanges[0]!.durationMs).toBeGreaterThanOrEqual(180);
    expect(r.exchanges[0]!.durationMs).toBeLessThan(600);
  });

  test('aborts an attempt whose body stalls at the body timeout, retries it, and leaves no socket open', async () => {
    // A server that answers the first request's headers and half a body, then goes silent.
    let calls = 0;
    const sockets = new Set<import('node:net').Socket>();
    const server = createServer((req, res) => {
      calls += 1;
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '200' });
        if (calls === 1) res.write('{"__typename":"User",');
        else res.end(JSON.stringify({ __typename: 'User', id: 'u1', updated_at: '2026-01-01T00:00:00Z' }).padEnd(200, ' '));
      });
    });
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      {
        await using knock = knockDestination({
          apiKey: API_KEY,
          baseUrl: url,
          timeouts: { bodyMs: 300 },
          retry: { baseMs: 10, capMs: 20 },
        });
        const r = await sync(knock, usersTarget(), [add('u1')]);
        expect(r.ok).toEqual(['u1']);
        expect(calls).toBe(2);
        expect(r.exchanges[0]!.error).toMatch(/BODY_TIMEOUT|Timeout/i);
        expect(r.exchanges[0]!.durationMs).toBeGreaterThanOrEqual(250);
        expect(r.exchanges[0]!.durationMs).toBeLessThan(2000);
      }
      // Closing the destination closes its pool: no connection stays open.
      await new Promise((r) => setTimeout(r, 50));
      expect(sockets.size).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('authentication', () => {
  test('fails the run after one request on 401, with no retry and no key in the error', async () => {
    const strict = await emulatorFor({ apiKeys: ['sk_test_the_right_one'] });
    try {
      await using knock = knockDestination(fast(strict));
      const error = await sync(knock, usersTarget(), many(10)).catch((e: unknown) => e);
      expect(isSyncError(error) && error.code).toBe('auth_failed');
      expect(String((error as Error).message)).not.toContain(API_KEY);
      expect(strict.control.requests()).toHaveLength(1);
      await expect(knock.check!(usersTarget())).rejects.toMatchObject({ code: 'auth_failed' });
      expect(strict.control.requests()).toHaveLength(1);
    } finally {
      await strict.close();
    }
  });

  test('check() reads one page of users with a good key', async () => {
    await using knock = destination(emulator);
    await knock.check!(usersTarget());
    expect(emulator.control.requests().map((e) => [e.route, e.query])).toEqual([['GET /v1/users', 'page_size=1']]);
  });

  test('never writes the API key into exchanges, and redacts the Authorization header', async () => {
    emulator.control.addFault({ match: PUT, status: 500, count: 1 });
    await using knock = destination(emulator);
    const r = await sync(knock, usersTarget(), [add('u1'), add('bad/id')]);
    const text = JSON.stringify(r);
    expect(text).not.toContain(API_KEY);
    expect(r.exchanges[0]!.requestHeaders['authorization']).toBe('Bearer …redacted');
    expect(r.exchanges[0]!.requestHeaders['user-agent']).toMatch(/^syncline-destination-knock\/\d/);
  });

  test('truncates logged bodies at maxBodyLogBytes', async () => {
    await using knock = destination(emulator, { maxBodyLogBytes: 64 });
    const r = await sync(knock, usersTarget(), [add('u1', { bio: 'x'.repeat(500) })]);
    expect(r.exchanges[0]!.requestBody).toMatch(/^\{"bio":"x+…\[truncated \d+ bytes\]$/);
    expect(Buffer.byteLength(r.exchanges[0]!.requestBody!.split('…')[0]!)).toBe(64);
  });
});
