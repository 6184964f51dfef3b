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

describe('faults by id', () => {
  test('a rule with ids answers only requests carrying one of them: bulk items, id lists, members, path ids', async () => {
    const { http, emulator } = await start();
    emulator.control.addFault({ ids: ['bad'], status: 400, count: null });
    const users = (...ids: string[]) => ({ users: ids.map((id) => ({ id })) });
    expect((await http('POST', '/v1/users/bulk/identify', { body: users('a', 'bad') })).status).toBe(400);
    expect((await http('POST', '/v1/users/bulk/identify', { body: users('ok1', 'ok2') })).status).toBe(200);
    expect((await http('POST', '/v1/users/bulk/delete', { body: { user_ids: ['x', 'bad'] } })).status).toBe(400);
    expect((await http('POST', '/v1/objects/c/bulk/set', { body: { objects: [{ id: 'bad' }] } })).status).toBe(400);
    expect((await http('POST', '/v1/objects/c/bulk/delete', { body: { object_ids: ['bad'] } })).status).toBe(400);
    const members = { members: [{ user: { id: 'a' } }, { user: { id: 'bad' } }] };
    expect((await http('POST', '/v1/audiences/vips/members?create_audience=true', { body: members })).status).toBe(400);
    expect((await http('DELETE', '/v1/audiences/vips/members', { body: members })).status).toBe(400);
    const query = encodeURIComponent(JSON.stringify(members.members));
    expect((await http('DELETE', `/v1/audiences/vips/members?members=${query}`)).status).toBe(400);
    expect((await http('PUT', '/v1/users/bad', { body: {} })).status).toBe(400);
    expect((await http('PUT', '/v1/objects/c/bad', { body: {} })).status).toBe(400);
    expect((await http('PUT', '/v1/users/good', { body: {} })).status).toBe(200);
    // Rejected requests ran no handler (no 'a', 'x' or 'bad'); the rule stays until cleared. The accepted bulk
    // job (ok1, ok2) is applied asynchronously, so it may or may not be listed yet.
    const listed = (await http('GET', '/v1/users')).body as { entries: Array<{ id: string }> };
    const ids = listed.entries.map((u) => u.id);
    expect(ids).toContain('good');
    expect(ids.filter((id) => !['good', 'ok1', 'ok2'].includes(id))).toEqual([]);
    expect(emulator.control.faults()).toEqual([expect.objectContaining({ ids: ['bad'], remaining: null })]);
  });

  test('a 422 rule answers invalid_params; a bad ids field is refused', async () => {
    const { http, emulator } = await start();
    emulator.control.addFault({ match: 'POST /v1/users/bulk/identify', ids: ['b'], status: 422 });
    const res = await http('POST', '/v1/users/bulk/identify', { body: { users: [{ id: 'b' }] } });
    expect(res).toMatchObject({ status: 422, body: { code: 'invalid_params', status: 422 } });
    expect(() => emulator.control.addFault({ ids: [], status: 400 })).toThrow(/ids/);
    expect((await http('POST', '/__emulator/faults', { body: { ids: 'b', status: 400 }, key: null })).status).toBe(400);
  });
});

describe('x-should-retry', () => {
  test('a rule with shouldRetry sends the header, and the SDK obeys it both ways', async () => {
    await withHarness(
      {},
      async ({ knock, emulator }) => {
        emulator.control.addFault({ match: 'PUT /v1/users/{user_id}', status: 503, shouldRetry: false });
        await expect(knock.users.update('u1', { name: 'A' })).rejects.toMatchObject({ status: 503 });
        emulator.control.addFault({ match: 'PUT /v1/users/{user_id}', status: 400, shouldRetry: true });
        await knock.users.update('u2', { name: 'B' });
        const log = emulator.control.requests().map((r) => [r.path, r.status]);
        expect(log).toEqual([
          ['/v1/users/u1', 503],
          ['/v1/users/u2', 400],
          ['/v1/users/u2', 200],
        ]);
      },
      { maxRetries: 2 },
    );
  });

  test('option shouldRetryHeader marks every error response: true for 408/409/429/5xx, false for other 4xx', async () => {
    await withHarness({ shouldRetryHeader: true, rateLimits: true }, async ({ http, emulator }) => {
      const header = async (method: string, path: string, body?: unknown) =>
        (await http(method, path, body === undefined ? {} : { body })).headers.get('x-should-retry');
      expect(await header('PUT', '/v1/users/u1', {})).toBeNull();
      expect(await header('GET', '/v1/users/nobody')).toBe('false');
      expect(await header('POST', '/v1/users/bulk/identify', { users: [{}] })).toBe('false');
      expect(await header('GET', '/v1/users', undefined)).toBeNull();
      emulator.control.addFault({ status: 503 });
      expect(await header('GET', '/v1/users')).toBe('true');
      emulator.control.addFault({ status: 409 });
      expect(await header('GET', '/v1/users')).toBe('true');
      // The tier-1 bucket is spent by the first bulk call: the second is a real 429.
      await header('POST', '/v1/users/bulk/identify', { users: [{ id: 'a' }] });
      expect(await header('POST', '/v1/users/bulk/identify', { users: [{ id: 'b' }] })).toBe('true');
      expect((await http('GET', '/v1/users', { key: null })).headers.get('x-should-retry')).toBe('false');
      emulator.control.setShouldRetryHeader(false);
      expect(await header('GET', '/v1/users/nobody')).toBeNull();
    });
  });
});

describe('Retry-After as an HTTP date', () => {
  test('retry-after-date sends an IMF-fixdate never earlier than the wait, on forced and real 429s', async () => {
    await withHarness({ rateLimitHeaders: 'retry-after-date', rateLimits: true }, async ({ http, emulator }) => {
      const IMF = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
      emulator.control.addFault({ status: 429, retryAfterMs: 2500 });
      const sent = Date.now();
      const forced = (await http('GET', '/v1/users')).headers.get('retry-after')!;
      expect(forced).toMatch(IMF);
      expect(Date.parse(forced) - sent).toBeGreaterThanOrEqual(2500);
      expect(Date.parse(forced) - sent).toBeLessThan(4000);
      await http('POST', '/v1/users/bulk/identify', { body: { users: [{ id: 'a' }] } });
      const before = Date.now();
      const res = await http('POST', '/v1/users/bulk/identify', { body: { users: [{ id: 'b' }] } });
      expect(res.status).toBe(429);
      const date = res.headers.get('retry-after')!;
      expect(date).toMatch(IMF);
      expect(Date.parse(date)).toBeGreaterThan(before);
      expect(Date.parse(date) - before).toBeLessThanOrEqual(2000);
    });
  });
});
