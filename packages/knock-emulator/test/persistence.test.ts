import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { startEmulator } from '../src/index.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const auth = { authorization: 'Bearer sk_test_persist', 'content-type': 'application/json' };

describe('persistence', () => {
  test('a restart on the same dataDir keeps users, objects, audiences and bulk operations, and no keys are written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'knock-emulator-'));
    dirs.push(dir);
    const first = await startEmulator({ port: 0, dataDir: dir, rateLimits: false });
    await fetch(`${first.url}/v1/users/u1`, { method: 'PUT', headers: auth, body: '{"name":"Ann"}' });
    await fetch(`${first.url}/v1/objects/teams/t1`, { method: 'PUT', headers: auth, body: '{"name":"T"}' });
    await fetch(`${first.url}/v1/audiences/vip/members?create_audience=true`, {
      method: 'POST',
      headers: auth,
      body: '{"members":[{"user":{"id":"u1"}}]}',
    });
    const op = (await (
      await fetch(`${first.url}/v1/users/bulk/identify`, { method: 'POST', headers: auth, body: '{"users":[{"id":"u2"}]}' })
    ).json()) as { id: string };
    await first.close();
    await first.close();
    const file = await readFile(join(dir, 'knock-emulator.json'), 'utf8');
    expect(file).not.toContain('sk_test_persist');

    const second = await startEmulator({ port: 0, dataDir: dir, rateLimits: false });
    try {
      expect(await (await fetch(`${second.url}/v1/users/u1`, { headers: auth })).json()).toMatchObject({ name: 'Ann' });
      expect(await (await fetch(`${second.url}/v1/users/u2`, { headers: auth })).json()).toMatchObject({ id: 'u2' });
      expect(await (await fetch(`${second.url}/v1/objects/teams/t1`, { headers: auth })).json()).toMatchObject({
        properties: { name: 'T' },
      });
      expect(await (await fetch(`${second.url}/v1/audiences/vip/members`, { headers: auth })).json()).toMatchObject({
        entries: [{ user_id: 'u1' }],
      });
      expect(await (await fetch(`${second.url}/v1/bulk_operations/${op.id}`, { headers: auth })).json()).toMatchObject({
        status: 'completed',
      });
    } finally {
      await second.close();
    }
  });

  test('changes are written on a debounce, before close', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'knock-emulator-'));
    dirs.push(dir);
    const emulator = await startEmulator({ port: 0, dataDir: dir, rateLimits: false, persistDebounceMs: 20 });
    try {
      await fetch(`${emulator.url}/v1/users/u1`, { method: 'PUT', headers: auth, body: '{"name":"Ann"}' });
      await new Promise((r) => setTimeout(r, 150));
      expect(await readFile(join(dir, 'knock-emulator.json'), 'utf8')).toContain('"Ann"');
    } finally {
      await emulator.close();
    }
  });
});
