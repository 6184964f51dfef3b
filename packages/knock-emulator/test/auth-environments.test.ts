import { KNOCK_ENDPOINTS, matchEndpoint } from '@syncline/knock-wire';
import { describe, expect, test } from 'vitest';
import { createEmulator, createEmulatorApp } from '../src/index.js';
import { freshHarness, withHarness } from './helpers.js';

const start = freshHarness();

describe('authentication', () => {
  test.each([
    ['no header', undefined],
    ['not a bearer', 'Basic abc'],
    ['not an sk_ key', 'Bearer knock_st_service_token'],
  ])('%s → 401', async (_name, authorization) => {
    const { http } = await start();
    const res = await http('GET', '/v1/users', { key: null, headers: authorization ? { authorization } : {} });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      code: 'api_key_missing',
      message: 'The API key is missing or invalid.',
      status: 401,
      type: 'authentication_error',
    });
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  test('a publishable pk_ key → 403 incorrect_token_type (401 with the switch)', async () => {
    const { http } = await start();
    const res = await http('PUT', '/v1/users/u1', { key: 'pk_test_1', body: {} });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'incorrect_token_type', status: 403, type: 'authentication_error' });
    await withHarness({ switches: { publishableKeyStatus: 401 } }, async ({ http: h }) => {
      expect((await h('GET', '/v1/users', { key: 'pk_test_1' })).status).toBe(401);
    });
  });

  test('with apiKeys set, other sk_ keys are rejected', async () => {
    await withHarness({ apiKeys: ['sk_test_known'] }, async ({ http }) => {
      expect((await http('GET', '/v1/users', { key: 'sk_test_known' })).status).toBe(200);
      expect((await http('GET', '/v1/users', { key: 'sk_test_unknown' })).status).toBe(401);
    });
  });
});

describe('environments', () => {
  test('data is isolated per API key', async () => {
    const { http } = await start();
    await http('PUT', '/v1/users/u1', { key: 'sk_test_a', body: { name: 'A' } });
    expect((await http('GET', '/v1/users/u1', { key: 'sk_test_b' })).status).toBe(404);
    expect((await http('GET', '/v1/users/u1', { key: 'sk_test_a' })).body).toMatchObject({ name: 'A' });
  });

  test('every response carries a distinct x-request-id, also 404s of unknown routes', async () => {
    const { http } = await start();
    const a = await http('GET', '/v1/users');
    const b = await http('GET', '/v1/users');
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
    const unknown = await fetch(new URL('/v2/nothing', (await start()).emulator.url));
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-request-id')).toBeTruthy();
  });

  test('createEmulatorApp serves the same API through app.request()', async () => {
    const app = createEmulatorApp({ rateLimits: false });
    const res = await app.request('/v1/users/u1', {
      method: 'PUT',
      headers: { authorization: 'Bearer sk_test_1', 'content-type': 'application/json' },
      body: '{"name":"A"}',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: 'u1', name: 'A' });
  });
});

describe('route table', () => {
  test('the emulator serves exactly the endpoints of @syncline/knock-wire, with their rate tiers', () => {
    const { routes } = createEmulator();
    const endpoints = Object.values(KNOCK_ENDPOINTS);
    expect(routes.length).toBe(endpoints.length);
    expect(routes.map((r) => `${r.method} ${r.template} ${r.tier}`).sort()).toEqual(
      endpoints.map((e) => `${e.method} ${e.path} ${e.tier}`).sort(),
    );
    for (const route of routes) {
      const found = matchEndpoint(route.method, route.template.replace(/\{(\w+)\}/g, 'x'));
      expect(found?.endpoint.path, `${route.method} ${route.template}`).toBe(route.template);
    }
  });
});
