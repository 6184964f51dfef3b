import { describe, expect, test } from 'vitest';
import { withHarness } from './helpers.js';

/** Sends `n` requests as fast as possible (sequentially) and returns their statuses and times. */
async function burst(send: () => Promise<{ status: number }>, n: number): Promise<Array<{ status: number; at: number }>> {
  const out: Array<{ status: number; at: number }> = [];
  for (let i = 0; i < n; i++) {
    const { status } = await send();
    out.push({ status, at: performance.now() });
  }
  return out;
}

describe('rate limits (on by default)', () => {
  test('tier 1 (bulk identify) admits 1 request per second per environment', async () => {
    await withHarness({ rateLimits: true }, async ({ http }) => {
      const body = { users: [{ id: 'u1' }] };
      // Warm the wire-format checks of the harness in another environment, so the burst is really fast.
      await http('POST', '/v1/users/bulk/identify', { body, key: 'sk_test_warm' });
      await http('POST', '/v1/users/bulk/identify', { body, key: 'sk_test_warm' });
      const first = await burst(() => http('POST', '/v1/users/bulk/identify', { body }), 3);
      expect(first.map((r) => r.status)).toEqual([200, 429, 429]);
      // Another environment has its own bucket; another endpoint has its own too.
      expect((await http('POST', '/v1/users/bulk/identify', { body, key: 'sk_test_other' })).status).toBe(200);
      expect((await http('POST', '/v1/users/bulk/delete', { body: { user_ids: ['u1'] } })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1000));
      expect((await http('POST', '/v1/users/bulk/identify', { body })).status).toBe(200);
    });
  });

  test('tier 2 (user delete) admits at most 5 + 5·T requests in a window of T seconds', async () => {
    await withHarness({ rateLimits: true }, async ({ http }) => {
      await http('DELETE', '/v1/users/u1', { key: 'sk_test_warm' });
      const t0 = performance.now();
      const results = await burst(() => http('DELETE', '/v1/users/u1'), 30);
      const window = (performance.now() - t0) / 1000;
      const admitted = results.filter((r) => r.status === 204).length;
      expect(admitted).toBeGreaterThanOrEqual(5);
      expect(admitted).toBeLessThanOrEqual(5 + Math.ceil(5 * window));
      expect(results.slice(0, 5).every((r) => r.status === 204)).toBe(true);
      expect(results.filter((r) => r.status === 429).length).toBe(30 - admitted);
    });
  });

  test('a 429 has the common body, a Retry-After by default and is logged as rate-limit', async () => {
    await withHarness({ rateLimits: true }, async ({ http, emulator }) => {
      const body = { users: [{ id: 'u1' }] };
      await http('POST', '/v1/users/bulk/identify', { body });
      const limited = await http('POST', '/v1/users/bulk/identify', { body });
      expect(limited.status).toBe(429);
      expect(limited.body).toEqual({
        code: 'rate_limit_exceeded',
        message: 'Rate limit exceeded, please retry later',
        status: 429,
        type: 'api_error',
      });
      expect(Number(limited.headers.get('retry-after'))).toBe(1);
      expect(emulator.control.requests().at(-1)?.fault).toBe('rate-limit');
    });
  });

  test('retry-after-ms mode gives the exact wait; the SDK obeys it and succeeds', async () => {
    await withHarness(
      { rateLimits: true, rateLimitHeaders: 'retry-after-ms' },
      async ({ http, knock }) => {
        const body = { users: [{ id: 'u1' }] };
        await http('POST', '/v1/users/bulk/identify', { body });
        const limited = await http('POST', '/v1/users/bulk/identify', { body });
        const wait = Number(limited.headers.get('retry-after-ms'));
        expect(wait).toBeGreaterThan(800);
        expect(wait).toBeLessThanOrEqual(1000);
        const t0 = performance.now();
        const op = await knock.users.bulk.identify(body);
        expect(op.status).toBe('queued');
        expect(performance.now() - t0).toBeGreaterThan(wait - 150);
      },
      { maxRetries: 2 },
    );
  });

  test('rate limits can be turned off at runtime', async () => {
    await withHarness({ rateLimits: true }, async ({ http }) => {
      await http('PUT', '/__emulator/settings', { body: { rateLimits: false } });
      const results = await burst(() => http('POST', '/v1/users/bulk/identify', { body: { users: [{ id: 'a' }] } }), 4);
      expect(results.every((r) => r.status === 200)).toBe(true);
    });
  });
});
