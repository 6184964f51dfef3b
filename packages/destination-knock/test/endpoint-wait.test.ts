import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningEmulator } from '@syncline/knock-emulator';
import { Pool, type Dispatcher } from 'undici';
import { describe, expect, test } from 'vitest';
import { createKnockHttp, knockDestination, parseKnockOptions } from '../src/index.js';
import { API_KEY, add, fast, useEmulator, usersTarget } from './support.js';

// Issue 11 §4: a 429's wait applies to the whole endpoint, including requests whose rate-limiter slot was
// taken before the 429 arrived. Measured at the client: the dispatcher records when each request leaves
// and when each 429's headers arrive, so "0 requests between a 429 and its permitted time" is exact.

let emulator: RunningEmulator;
useEmulator((e) => (emulator = e));

const PUT = 'PUT /v1/users/{user_id}';
const many = (n: number) => Array.from({ length: n }, (_, i) => add(`u${i}`, { name: `N${i}` }));

interface Watch {
  dispatcher: Dispatcher;
  /** performance.now() of each request handed to the socket pool. */
  left: Array<{ at: number; path: string }>;
  /** performance.now() when each 429's headers arrived, with its Retry-After in ms. */
  throttled: Array<{ at: number; waitMs: number }>;
}

/** An undici Pool that records when requests leave and when 429 headers arrive. */
function watchedPool(url: string): Watch {
  const left: Watch['left'] = [];
  const throttled: Watch['throttled'] = [];
  const dispatcher = new Pool(url).compose((dispatch) => (opts, handler) => {
    left.push({ at: performance.now(), path: opts.path });
    const watched = new Proxy(handler, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        if (prop !== 'onResponseStart') return value.bind(target);
        return (...args: unknown[]) => {
          const [, status, headers] = args as [unknown, number, Record<string, string>];
          if (status === 429) {
            const ms = headers['retry-after-ms'] ?? String(Number(headers['retry-after']) * 1000);
            throttled.push({ at: performance.now(), waitMs: Number(ms) });
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    return dispatch(opts, watched);
  });
  return { dispatcher, left, throttled };
}

/** Requests to `prefix` that left inside any 429's wait, described for the failure message. */
function insideWaits(w: Watch, prefix: string): string[] {
  return w.throttled.flatMap((t) =>
    w.left
      .filter((r) => r.path.startsWith(prefix) && r.at > t.at && r.at < t.at + t.waitMs)
      .map((r) => `${r.path} left ${(r.at - t.at).toFixed(1)} ms into a ${t.waitMs} ms wait`),
  );
}

describe('a 429 holds the whole endpoint', () => {
  test('0 requests leave between a 429 and its permitted time while 32 operations send (emulator fault mid-stream)', async () => {
    emulator.control.setRateLimits({ headers: 'retry-after-ms' });
    const w = watchedPool(emulator.url);
    await using knock = knockDestination(fast(emulator, { dispatcher: w.dispatcher }));
    const target = usersTarget();
    const n = 400;
    const plan = knock.plan(many(n), { target, totals: { add: n, change: 0, remove: 0 } });
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < plan.operations.length) {
        const op = plan.operations[next++]!;
        if (next === 60) emulator.control.addFault({ match: PUT, status: 429, retryAfterMs: 300, count: 1 });
        expect((await knock.apply(op, { target })).failed).toEqual([]);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    await w.dispatcher.close();
    expect(w.throttled).toHaveLength(1);
    expect(insideWaits(w, '/v1/users/')).toEqual([]);
    expect(emulator.control.requests().filter((e) => e.route === PUT && e.status === 200)).toHaveLength(n);
  });

  test('a request whose slot was reserved before the 429 waits for the permitted time', async () => {
    emulator.control.setRateLimits({ headers: 'retry-after-ms' });
    const w = watchedPool(emulator.url);
    const http = createKnockHttp(parseKnockOptions({ ...fast(emulator), dispatcher: w.dispatcher }));
    try {
      const route = { route: PUT, tier: 3 as const };
      const ctx = {};
      // One answered request first: until then the transport sends one request at a time (a wrong key costs one).
      expect((await http.send({ method: 'PUT', path: '/v1/users/warm', body: { name: 'W' }, ...route }, ctx)).ok).toBe(true);
      emulator.control.addFault({ match: PUT, status: 429, retryAfterMs: 400, count: 1 });
      // Both slots are taken before anything is sent: the bulk coalescer reserves this way, then fills the body.
      const early = await http.reserve(route);
      const reserved = await http.reserve(route);
      const first = http.send({ method: 'PUT', path: '/v1/users/a', body: { name: 'A' }, ...route }, ctx, early);
      while (w.throttled.length === 0) await new Promise((r) => setTimeout(r, 2));
      const second = await http.send({ method: 'PUT', path: '/v1/users/b', body: { name: 'B' }, ...route }, ctx, reserved);
      expect([(await first).ok, second.ok]).toEqual([true, true]);
      expect(insideWaits(w, '/v1/users/')).toEqual([]);
    } finally {
      await http.close();
      await w.dispatcher.close();
    }
  });

  test('a 429 holds the endpoint from its headers on, not from when its (slow) body was read', async () => {
    // A proxy-style 429 whose body trickles in over 250 ms, then 200s.
    let calls = 0;
    const server = createServer((req, res) => {
      calls += 1;
      req.resume();
      req.on('end', () => {
        if (calls === 5) {
          res.writeHead(429, { 'content-type': 'application/json', 'retry-after-ms': '500' });
          res.write('{"code":"rate_limited",');
          setTimeout(() => res.end('"message":"slow down","status":429}'), 250);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ __typename: 'User', id: 'x', updated_at: '2026-01-01T00:00:00Z' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const w = watchedPool(url);
    try {
      await using knock = knockDestination({
        apiKey: API_KEY,
        baseUrl: url,
        dispatcher: w.dispatcher,
        retry: { baseMs: 10, capMs: 20 },
        tiers: { 1: 20, 2: 100, 3: 200, 4: 4000, 5: 20000 },
      });
      const target = usersTarget();
      const plan = knock.plan(many(60), { target, totals: { add: 60, change: 0, remove: 0 } });
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < plan.operations.length) expect((await knock.apply(plan.operations[next++]!, { target })).failed).toEqual([]);
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      expect(w.throttled).toHaveLength(1);
      expect(insideWaits(w, '/v1/users/')).toEqual([]);
    } finally {
      await w.dispatcher.close();
      await new Promise((r) => server.close(r));
    }
  });
});
