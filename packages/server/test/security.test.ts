import { existsSync, readdirSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { checkBaseUrl } from '../src/index.js';
import { TOKEN, testServer, type TestServer } from './helpers.js';

let t: TestServer;
beforeAll(async () => {
  t = await testServer({ uploadLimitBytes: 64 * 1024 });
});
afterAll(async () => {
  await t?.close();
});

const raw = (path: string, init: RequestInit & { headers?: Record<string, string> } = {}) => t.server.app.request(path, init);

describe('access', () => {
  test('every /api route but health needs the token', async () => {
    expect((await raw('/api/health')).status).toBe(200);
    for (const path of ['/api/tables', '/api/syncs', '/api/completions', '/api/openapi.json']) {
      const r = await raw(path);
      expect(r.status, path).toBe(401);
      expect(await r.json()).toMatchObject({ error: { code: 'unauthorized' } });
    }
    expect((await raw('/api/syncs', { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    expect((await raw('/api/syncs', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  test('the printed ?token= URL sets an HttpOnly SameSite=Strict cookie, then leaves the address bar', async () => {
    const first = await raw(`/?token=${TOKEN}`);
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toBe('/');
    const cookie = first.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^syncline_token=/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const r = await raw('/api/syncs', { headers: { cookie: cookie.split(';')[0]! } });
    expect(r.status).toBe(200);
  });

  test('a wrong ?token= sets no cookie', async () => {
    const r = await raw('/?token=nope');
    expect(r.headers.get('set-cookie')).toBeNull();
  });

  test.each(['evil.example', 'attacker.test:8787', '192.168.1.20:8787'])('Host %s gets 403 (DNS rebinding)', async (host) => {
    const r = await raw('http://x/api/syncs', { headers: { host, authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(403);
    expect(await r.json()).toMatchObject({ error: { code: 'forbidden' } });
  });

  test.each(['localhost:8787', '127.0.0.1:8787', '[::1]:8787'])('Host %s is served', async (host) => {
    const r = await raw('http://x/api/syncs', { headers: { host, authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(200);
  });

  test('a state-changing request from another origin is refused, the same origin is served', async () => {
    const body = JSON.stringify({ sql: 'select 1' });
    const base = {
      method: 'POST',
      body,
      headers: { host: '127.0.0.1:8787', authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    };
    const cross = await raw('http://127.0.0.1:8787/api/query', { ...base, headers: { ...base.headers, origin: 'http://evil.example' } });
    expect(cross.status).toBe(403);
    const site = await raw('http://127.0.0.1:8787/api/query', { ...base, headers: { ...base.headers, 'sec-fetch-site': 'cross-site' } });
    expect(site.status).toBe(403);
    const same = await raw('http://127.0.0.1:8787/api/query', {
      ...base,
      headers: { ...base.headers, origin: 'http://127.0.0.1:8787', 'sec-fetch-site': 'same-origin' },
    });
    expect(same.status).toBe(200);
  });

  test('no CORS: no Access-Control-Allow-Origin, and preflights are refused', async () => {
    const r = await raw('/api/health', { headers: { origin: 'http://evil.example' } });
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await raw('/api/query', {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(pre.status).toBe(403);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('uploads', () => {
  test('beyond the size limit: 413, and nothing is left on disk', async () => {
    const big = new Uint8Array(65 * 1024).fill(0x61);
    const r = await t.call('POST', '/api/tables?name=big', big);
    expect(r.status).toBe(413);
    expect(await r.json()).toMatchObject({ error: { code: 'too_large' } });
    expect(readdirSync(join(t.dir, 'data')).filter((f) => f.startsWith('big') || f.endsWith('.part'))).toEqual([]);
  });

  test('a streamed body without Content-Length is cut at the limit too', async () => {
    const chunk = new Uint8Array(16 * 1024).fill(0x61);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const r = await t.server.app.request('/api/tables?name=streamed', {
      method: 'POST',
      body,
      headers: { authorization: `Bearer ${TOKEN}` },
      duplex: 'half',
    } as RequestInit);
    expect(r.status).toBe(413);
    expect(existsSync(join(t.dir, 'data', 'streamed.csv'))).toBe(false);
  });

  test('the type comes from the content, not the name', async () => {
    const json = await t.call('POST', '/api/tables?name=looks_like.csv', '[{"id":"a","n":1},{"id":"b","n":2}]');
    expect(json.status).toBe(201);
    expect(await json.json()).toMatchObject({ name: 'looks_like', format: 'json', file: 'data/looks_like.json', rowCount: 2 });
    const binary = await t.call('POST', '/api/tables?name=blob', new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1]));
    expect(binary.status).toBe(415);
  });

  test('a ../ in the name does nothing: the file is stored under a generated name in data/', async () => {
    const r = await t.call('POST', `/api/tables?name=${encodeURIComponent('../../escape')}`, 'id\nx\n');
    expect(r.status).toBe(201);
    expect(await r.json()).toMatchObject({ name: 'escape', file: 'data/escape.csv' });
    expect(existsSync(join(t.dir, '..', 'escape.csv'))).toBe(false);
    expect(existsSync(join(t.dir, 'data', 'escape.csv'))).toBe(true);
  });

  test("a file DuckDB cannot read is refused with its name and DuckDB's reason, and not kept", async () => {
    const r = await t.call('POST', '/api/tables?name=broken', '[{"id": 1}, {"id": ');
    expect(r.status).toBe(400);
    expect((await r.json()) as unknown).toMatchObject({ error: { message: expect.stringMatching(/^data\/broken\.json: .*broken/) } });
    expect(existsSync(join(t.dir, 'data', 'broken.json'))).toBe(false);
  });
});

describe('the Knock key and base URL', () => {
  test('a key set through the API is never returned', async () => {
    const s = await testServer();
    try {
      const key = 'sk_test_NEVER_RETURNED_0123456789';
      const r = await s.call('PUT', '/api/destinations/knock', { apiKey: key, baseUrl: s.emulator.url });
      const text = await r.text();
      expect(r.status).toBe(200);
      expect(text).not.toContain('NEVER_RETURNED');
      for (const path of ['/api/health', '/api/syncs', '/api/tables', '/api/openapi.json'])
        expect(await (await s.call('GET', path)).text()).not.toContain('NEVER_RETURNED');
      const check = await s.call('POST', '/api/destinations/knock/check');
      expect(await check.text()).not.toContain('NEVER_RETURNED');
    } finally {
      await s.close();
    }
  });

  test.each([
    ['https://api.knock.app', true],
    ['https://api.knock.app/v1', true],
    ['http://127.0.0.1:3100', true],
    ['http://api.knock.app', false],
    ['https://api.knock.app.evil.example', false],
    ['https://evil.example', false],
    ['http://10.0.0.5:3100', false],
    ['https://user:sk_test_x@api.knock.app', false],
  ])('base URL %s allowed: %s', (url, ok) => {
    if (ok) expect(() => checkBaseUrl(url, undefined)).not.toThrow();
    else expect(() => checkBaseUrl(url, undefined)).toThrow(/refused|credentials/);
  });

  test('PUT /api/destinations/knock refuses a base URL outside Knock and the emulator', async () => {
    const r = await t.call('PUT', '/api/destinations/knock', { apiKey: 'sk_test_x_0123456789', baseUrl: 'https://evil.example' });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: { code: 'target_refused' } });
    expect((await t.json<{ target: { kind: string } }>('GET', '/api/syncs')).body.target.kind).toBe('emulator');
  });

  test('a sync config cannot carry the key (it would land on disk)', async () => {
    const r = await t.json<{ error: Record<string, unknown> }>('PUT', '/api/syncs/leaky', {
      model: 'select * from users',
      key: 'id',
      sync: { type: 'users', fields: { email: 'email' } },
      destination: { type: 'knock', apiKey: 'sk_test_on_disk_0123' },
    });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ field: 'destination.apiKey' });
    expect(existsSync(join(t.dir, 'syncs', 'leaky.yaml'))).toBe(false);
  });

  test('a sync config cannot carry a database password in its source URL (it would land on disk)', async () => {
    const r = await t.json<{ error: Record<string, unknown> }>('PUT', '/api/syncs/leakypg', {
      model: 'select * from users',
      key: 'id',
      sync: { type: 'users', fields: { email: 'email' } },
      source: { type: 'postgres', url: 'postgres://app:hunter2@db.internal:5432/app' },
    });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ field: 'source.url' });
    expect(JSON.stringify(r.body)).not.toContain('hunter2');
    expect(existsSync(join(t.dir, 'syncs', 'leakypg.yaml'))).toBe(false);
    const env = await t.json('PUT', '/api/syncs/envpg', {
      model: 'select * from users',
      key: 'id',
      sync: { type: 'users', fields: { email: 'email' } },
      source: { type: 'postgres', url: '${DATABASE_URL}' },
    });
    expect(env.status).toBe(200);
  });

  test('a redirect from the base URL is never followed with the key', async () => {
    const seen: IncomingMessage[] = [];
    const listen = (handler: (req: IncomingMessage, res: import('node:http').ServerResponse) => void) =>
      new Promise<{ url: string; close: () => void }>((resolve) => {
        const srv = createHttpServer(handler).listen(0, '127.0.0.1', () =>
          resolve({ url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, close: () => srv.close() }),
        );
      });
    const elsewhere = await listen((req, res) => {
      seen.push(req);
      res.end('{}');
    });
    const redirecting = await listen((_req, res) => {
      res.writeHead(307, { location: `${elsewhere.url}/v1/users?page_size=1` });
      res.end();
    });
    try {
      const s = await testServer();
      try {
        await s.call('PUT', '/api/destinations/knock', { apiKey: 'sk_test_REDIRECTED_0123456789', baseUrl: redirecting.url });
        const r = await s.json<{ ok: boolean }>('POST', '/api/destinations/knock/check');
        expect(r.body.ok).toBe(false);
        expect(seen).toHaveLength(0);
      } finally {
        await s.close();
      }
    } finally {
      elsewhere.close();
      redirecting.close();
    }
  });
});
