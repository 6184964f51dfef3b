import { afterAll, beforeAll, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '@syncline/knock-emulator';
import { knockDestination, type KnockTarget } from '../src/index.js';

const KEY = 'sk_test_read_records';
let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0, rateLimits: false });
  const put = (path: string, body: unknown) =>
    fetch(`${emulator.url}${path}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  await put('/v1/users/u%201', { name: 'Ann', email: 'ann@example.com', plan: 'pro' });
  await put('/v1/objects/companies/acme', { name: 'Acme', plan: 'enterprise' });
  await fetch(`${emulator.url}/v1/audiences/vip/members?create_audience=true`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ members: [{ user: { id: 'u 1' }, tenant: 'acme' }] }),
  });
});
afterAll(async () => emulator?.close());

const target = (t: Partial<KnockTarget>): KnockTarget => ({ type: 'users', mode: 'upsert', onDelete: 'nothing', nulls: 'skip', ...t });

test('read gives the current users, null for a missing one', async () => {
  await using knock = knockDestination({ apiKey: KEY, baseUrl: emulator.url });
  const now = await knock.read(['u 1', 'nobody'], target({}));
  expect(now.get('u 1')).toMatchObject({ id: 'u 1', name: 'Ann', email: 'ann@example.com', plan: 'pro' });
  expect(now.get('nobody')).toBeNull();
  const reads = emulator.control.requests().filter((r) => r.method === 'GET' && r.path.startsWith('/v1/users/'));
  expect(reads.map((r) => r.path).sort()).toEqual(['/v1/users/nobody', '/v1/users/u%201']);
});

test('read gives the current objects of the collection', async () => {
  await using knock = knockDestination({ apiKey: KEY, baseUrl: emulator.url });
  const now = await knock.read(['acme', 'initech'], target({ type: 'objects', collection: 'companies' }));
  expect(now.get('acme')).toMatchObject({ id: 'acme', properties: { name: 'Acme', plan: 'enterprise' } });
  expect(now.get('initech')).toBeNull();
});

test('read gives audience members with their tenant in one call', async () => {
  await using knock = knockDestination({ apiKey: KEY, baseUrl: emulator.url });
  const before = emulator.control.requests().length;
  const now = await knock.read(['u 1', 'nobody'], target({ type: 'audiences', mode: 'add', audience: 'vip' }));
  expect(now.get('u 1')).toMatchObject({ id: 'u 1', name: 'Ann', tenant: 'acme' });
  expect(now.get('nobody')).toBeNull();
  expect(emulator.control.requests().length - before).toBe(1);
});

test('a rejected key is an error, not an empty answer', async () => {
  emulator.control.addFault({ match: 'GET /v1/users/{user_id}', status: 401, count: 1 });
  await using knock = knockDestination({ apiKey: KEY, baseUrl: emulator.url });
  await expect(knock.read(['u 1'], target({}))).rejects.toThrow(/API key was rejected/);
});
