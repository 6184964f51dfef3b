import { APIConnectionError } from '@knocklabs/node';
import { describe, expect, test } from 'vitest';
import { freshHarness, withHarness } from './helpers.js';

const start = freshHarness();

describe('status faults', () => {
  test.each([
    [500, 'application/json', 'internal_server_error'],
    [408, 'application/json', 'request_timeout'],
    [409, 'application/json', 'conflict'],
    [429, 'application/json', 'rate_limit_exceeded'],
  ])('a forced %i answers the common JSON error shape', async (status, type, code) => {
    const { http, emulator } = await start();
    emulator.control.addFault({ match: 'PUT /v1/users/{user_id}', status });
    const res = await http('PUT', '/v1/users/u1', { body: { name: 'A' } });
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain(type);
    expect(res.body).toMatchObject({ code, status });
    expect(res.headers.get('x-emulator-fault')).toBe('rule:1');
    expect(res.headers.get('x-request-id')).toBeTruthy();
    // The handler did not run: nothing was written.
    expect((await http('GET', '/v1/users/u1')).status).toBe(404);
  });

  test('a forced 502 answers an HTML body like a load balancer', async () => {
    const { http, emulator } = await start();
    emulator.control.addFault({ match: 'POST /v1/users/bulk/identify', status: 502 });
    const res = await http('POST', '/v1/users/bulk/identify', { body: { users: [{ id: 'a' }] } });
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.text).toContain('<title>502 Bad Gateway</title>');
  });

  test('count limits a rule to the next N matching requests; other endpoints pass', async () => {
    const { http, emulator } = await start();
    emulator.control.addFault({ match: 'GET /v1/users/{user_id}', status: 500, count: 2 });
    expect((await http('PUT', '/v1/users/u1', { body: {} })).status).toBe(200);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await http('GET', '/v1/users/u1')).status);
    expect(statuses).toEqual([500, 500, 200]);
    expect(emulator.control.faults()).toEqual([]);
  });

  test('"*" matches any request; "PUT *" any path of a method; count null until cleared', async () => {
    const { http, emulator } = await start();
    emulator.control.addFault({ match: 'PUT *', status: 409, count: null });
    expect((await http('PUT', '/v1/users/a', { body: {} })).status).toBe(409);
    expect((await http('PUT', '/v1/objects/c/o', { body: {} })).status).toBe(409);
    expect((await http('GET', '/v1/users')).status).toBe(200);
    emulator.control.clearFaults();
    emulator.control.addFault({ status: 500 });
    expect((await http('GET', '/v1/users')).status).toBe(500);
    expect((await http('GET', '/v1/users')).status).toBe(200);
  });

  test('afterApply answers the fault after the write was applied', async () => {
    const { http, emulator } = await start();
    emulator.control.addFault({ match: 'PUT /v1/users/{user_id}', status: 500, afterApply: true });
    expect((await http('PUT', '/v1/users/u1', { body: { name: 'A' } })).status).toBe(500);
    expect((await http('GET', '/v1/users/u1')).body).toMatchObject({ name: 'A' });
  });

  test.each([
    ['retry-after', { 'retry-after': '3' }],
    ['retry-after-ms', { 'retry-after-ms': '2500' }],
    ['none', {}],
  ] as const)('a forced 429 carries the %s header mode', async (mode, headers) => {
    await withHarness({ rateLimitHeaders: mode }, async ({ http, emulator }) => {
      emulator.control.addFault({ status: 429, retryAfterMs: 2500 });
      const res = await http('GET', '/v1/users');
      expect(res.status).toBe(429);
      const got = Object.fromEntries(
        ['retry-after', 'retry-after-ms'].flatMap((h) => (res.headers.get(h) ? [[h, res.headers.get(h)]] : [])),
      );
      expect(got).toEqual(headers);
    });
  });

  test('the SDK retries forced 500s with the same Idempotency-Key', async () => {
    await withHarness(
      {},
      async ({ knock, emulator }) => {
        emulator.control.addFault({ match: 'POST /v1/users/bulk/identify', status: 500, count: 2 });
        const op = await knock.users.bulk.identify({ users: [{ id: 'r1' }] });
        expect(op.status).toBe('queued');
        const log = emulator.control.requests().filter((r) => r.route === 'POST /v1/users/bulk/identify');
        expect(log.map((r) => r.status)).toEqual([500, 500, 200]);
        expect(new Set(log.map((r) => r.idempotencyKey)).size).toBe(1);
        expect(log[0]!.idempotencyKey).toMatch(/^stainless-node-retry-/);
      },
      { maxRetries: 2 },
    );
  });
});

describe('delays and connection resets', () => {
  test('delayMs delays the response', async () => {
    const { http, emulator } = await start();
    emulator.control.addFault({ match: 'GET /v1/users', delayMs: 200 });
    const t0 = performance.now();
    expect((await http('GET', '/v1/users')).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
  });

  test('reset "after" applies the write, then destroys the connection', async () => {
    const { http, knock, emulator } = await start();
    emulator.control.addFault({ match: 'PUT /v1/users/{user_id}', reset: 'after' });
    await expect(knock.users.update('u1', { name: 'Lost' })).rejects.toBeInstanceOf(APIConnectionError);
    expect((await http('GET', '/v1/users/u1')).body).toMatchObject({ name: 'Lost' });
  });

  test('reset "before" destroys the connection without applying', async () => {
    const { http, emulator } = await start();
    emulator.control.addFault({ match: 'PUT /v1/users/{user_id}', reset: 'before' });
    await expect(http('PUT', '/v1/users/u1', { body: { name: 'Never' } })).rejects.toThrow();
    expect((await http('GET', '/v1/users/u1')).status).toBe(404);
  });
});

describe('random faults', () => {
  const run = async (seed: number): Promise<number[]> => {
    let statuses: number[] = [];
    await withHarness({}, async ({ http, emulator }) => {
      emulator.control.setRandomFaults({ rate: 0.5, seed, faults: [500, 503] });
      for (let i = 0; i < 20; i++) statuses.push((await http('GET', '/v1/users')).status);
      statuses = statuses.slice();
    });
    return statuses;
  };

  test('a seed reproduces the same fault sequence at about the given rate', async () => {
    const a = await run(7);
    expect(await run(7)).toEqual(a);
    const faults = a.filter((s) => s !== 200);
    expect(faults.length).toBeGreaterThan(3);
    expect(faults.length).toBeLessThan(17);
    expect(new Set(faults)).toEqual(new Set([500, 503]));
    expect(await run(8)).not.toEqual(a);
  });
});

describe('control over HTTP', () => {
  test('POST /__emulator/faults adds rules; DELETE clears them', async () => {
    const { http } = await start();
    const added = await http('POST', '/__emulator/faults', { body: [{ match: 'GET /v1/users', status: 500, count: 5 }], key: null });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ faults: [{ id: 1, match: 'GET /v1/users', status: 500, remaining: 5 }] });
    expect((await http('GET', '/v1/users')).status).toBe(500);
    expect((await http('GET', '/__emulator/faults')).body).toMatchObject({ faults: [{ id: 1, remaining: 4 }] });
    expect((await http('DELETE', '/__emulator/faults')).status).toBe(204);
    expect((await http('GET', '/v1/users')).status).toBe(200);
    expect((await http('POST', '/__emulator/faults', { body: { match: '*' } })).status).toBe(400);
  });

  test('PUT /__emulator/faults/random sets seeded random faults', async () => {
    const { http } = await start();
    expect((await http('PUT', '/__emulator/faults/random', { body: { rate: 1, seed: 1, faults: [502] } })).status).toBe(204);
    expect((await http('GET', '/v1/users')).status).toBe(502);
    expect((await http('DELETE', '/__emulator/faults/random')).status).toBe(204);
    expect((await http('GET', '/v1/users')).status).toBe(200);
  });

  test('the request log lists method, path, query, status, time and body size; since and clear work', async () => {
    const { http } = await start();
    await http('PUT', '/v1/users/u1', { body: { name: 'A' } });
    await http('GET', '/v1/users?page_size=5&include[]=preferences');
    const log = (await http('GET', '/__emulator/requests')).body as { requests: Array<Record<string, unknown>>; last: number };
    expect(log.requests).toHaveLength(2);
    expect(log.requests[0]).toMatchObject({
      seq: 1,
      method: 'PUT',
      path: '/v1/users/u1',
      query: '',
      route: 'PUT /v1/users/{user_id}',
      status: 200,
      bodyBytes: 12,
    });
    expect(log.requests[1]).toMatchObject({ method: 'GET', query: 'page_size=5&include[]=preferences', bodyBytes: 0 });
    expect(Date.parse(log.requests[0]!['time'] as string)).not.toBeNaN();
    await http('GET', '/v1/users/u1');
    const newer = (await http('GET', `/__emulator/requests?since=${log.last}`)).body as { requests: unknown[] };
    expect(newer.requests).toEqual([expect.objectContaining({ path: '/v1/users/u1', method: 'GET' })]);
    await http('DELETE', '/__emulator/requests');
    expect(((await http('GET', '/__emulator/requests')).body as { requests: unknown[] }).requests).toEqual([]);
  });

  test('POST /__emulator/reset drops data and faults', async () => {
    const { http } = await start();
    await http('PUT', '/v1/users/u1', { body: {} });
    await http('POST', '/__emulator/faults', { body: { match: 'GET /v1/users', status: 500, count: null } });
    expect((await http('POST', '/__emulator/reset')).status).toBe(204);
    expect((await http('GET', '/v1/users')).body).toMatchObject({ entries: [] });
  });
});
