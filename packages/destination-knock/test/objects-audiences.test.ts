import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isSyncError } from '@syncline/core';
import type { RunningEmulator } from '@syncline/knock-emulator';
import { describe, expect, test } from 'vitest';
import { API_KEY, add, audience, capturedHeaders, change, destination, getUser, remove, sync, useEmulator } from './support.js';
import type { KnockTarget } from '../src/index.js';

let emulator: RunningEmulator;
useEmulator((e) => (emulator = e));

const objects = (extra: Partial<KnockTarget> = {}): KnockTarget => ({
  type: 'objects',
  mode: 'upsert',
  onDelete: 'nothing',
  nulls: 'skip',
  collection: 'projects',
  ...extra,
});
const bulkOnly = { bulk: { pollIntervalMs: 20, maxPollIntervalMs: 50, singleOnlySeconds: 0 } };

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies of the emulator
async function api(path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${emulator.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
const members = async (key = 'vips') =>
  ((await api(`/v1/audiences/${key}/members`)).body?.entries ?? [])
    .map((m: { user_id: string; tenant: string | null }) => [m.user_id, m.tenant])
    .sort();

describe('objects', () => {
  test('sets a few objects with single calls, custom properties nested under properties', async () => {
    await using knock = destination(emulator);
    const r = await sync(knock, objects(), [add('p 1', { name: 'Apollo', locale: 'en', budget: 12 })]);
    expect(r.ok).toEqual(['p 1']);
    const got = await api('/v1/objects/projects/p%201');
    expect(got.body).toMatchObject({ id: 'p 1', collection: 'projects', properties: { name: 'Apollo', budget: 12 } });
  });

  test('sets many objects through bulk set jobs', async () => {
    await using knock = destination(emulator, bulkOnly);
    const rows = Array.from({ length: 400 }, (_, i) => add(`p${i}`, { name: `P${i}` }));
    const r = await sync(knock, objects(), rows);
    expect(r.failed).toEqual([]);
    expect(r.ok).toHaveLength(400);
    expect(emulator.control.requests().some((e) => e.route === 'POST /v1/objects/{collection}/bulk/set')).toBe(true);
    expect((await api('/v1/objects/projects/p399')).body).toMatchObject({ properties: { name: 'P399' } });
  });

  test.each([
    ['single', {}],
    ['bulk', bulkOnly],
  ] as const)('deletes objects with onDelete delete (%s)', async (_mode, extra) => {
    await using knock = destination(emulator, extra);
    await sync(knock, objects(), [add('a'), add('b'), add('c')]);
    const r = await sync(knock, objects({ onDelete: 'delete' }), [remove('a'), remove('b'), remove('gone')]);
    expect(r.ok.sort()).toEqual(['a', 'b', 'gone']);
    expect((await api('/v1/objects/projects/a')).status).toBe(404);
    expect((await api('/v1/objects/projects/c')).status).toBe(200);
  });

  test('skips removals with onDelete nothing', async () => {
    await using knock = destination(emulator);
    const r = await sync(knock, objects(), [remove('a')]);
    expect(r.skipped).toEqual(['a']);
    expect(emulator.control.requests()).toEqual([]);
  });
});

describe('audiences', () => {
  test('add mode: adds members with their tenant, upserts user fields, removes rows leaving the model', async () => {
    await using knock = destination(emulator, { bulk: { pollIntervalMs: 20 } });
    const target = audience('add', { createAudience: true });
    await sync(knock, target, [add('u1', { email: 'u1@example.com', tenant: 'acme' }), add('u2', { name: 'Bo' }), add('u3')]);
    expect(await members()).toEqual([
      ['u1', 'acme'],
      ['u2', null],
      ['u3', null],
    ]);
    expect(await getUser(emulator, 'u1')).toMatchObject({ email: 'u1@example.com' });
    expect(await getUser(emulator, 'u1')).not.toHaveProperty('tenant');
    const r = await sync(knock, target, [remove('u2'), change('u3', { name: 'Cy' })]);
    expect(r.ok.sort()).toEqual(['u2', 'u3']);
    expect(await members()).toEqual([
      ['u1', 'acme'],
      ['u3', null],
    ]);
    // Re-adding an existing member is not a new entry (no entry workflow fires twice).
    expect(
      emulator.control
        .audienceEntries('vips')
        .map((e) => e.user_id)
        .sort(),
    ).toEqual(['u1', 'u2', 'u3']);
  });

  test('remove mode: rows in the model are removed, rows leaving it need no call', async () => {
    await using knock = destination(emulator);
    await sync(knock, audience('add', { createAudience: true }), [add('u1'), add('u2', { tenant: 't1' })]);
    emulator.control.clearRequests();
    const r = await sync(knock, audience('remove'), [add('u1'), add('u2', { tenant: 't1' }), remove('u9')]);
    expect(r.skipped).toEqual(['u9']);
    expect(r.ok.sort()).toEqual(['u1', 'u2']);
    expect(await members()).toEqual([]);
  });

  test('batches up to 1,000 members per call', async () => {
    await using knock = destination(emulator);
    const rows = Array.from({ length: 2500 }, (_, i) => add(`m${i}`));
    const r = await sync(knock, audience('add', { createAudience: true }), rows);
    expect(r.ok).toHaveLength(2500);
    expect(
      emulator.control
        .requests()
        .filter((e) => e.method === 'POST')
        .map((e) => (e.body as { members: unknown[] }).members.length),
    ).toEqual([1000, 1000, 500]);
  });

  test('fails the rows of a missing audience without createAudience, and check() says why', async () => {
    await using knock = destination(emulator);
    const error = await knock.check!(audience('add')).catch((e: unknown) => e);
    expect(isSyncError(error) && error.code).toBe('destination_failed');
    const r = await sync(knock, audience('add'), [add('u1')]);
    expect(r.failed).toEqual([expect.objectContaining({ key: 'u1', code: 'audience_missing', status: 404 })]);
  });

  test('check() with createAudience and a service token creates a static audience through the Management API only', async () => {
    const seen: Array<{ method?: string; url?: string; auth?: string; body: string }> = [];
    const mapi = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"audience":{"key":"vips","type":"static"}}');
      });
    });
    await new Promise<void>((r) => mapi.listen(0, '127.0.0.1', r));
    try {
      const token = 'knock_st_SENTINELTOKEN123';
      await using knock = destination(emulator, {
        serviceToken: token,
        managementBaseUrl: `http://127.0.0.1:${(mapi.address() as AddressInfo).port}`,
        environment: 'staging',
      });
      await knock.check!(audience('add', { createAudience: true }));
      expect(seen).toEqual([
        {
          method: 'PUT',
          url: '/v1/audiences/vips?environment=staging&commit=true',
          auth: `Bearer ${token}`,
          body: '{"audience":{"type":"static","name":"vips"}}',
        },
      ]);
      expect(capturedHeaders().join('\n')).not.toContain(token);
    } finally {
      mapi.closeAllConnections();
      await new Promise((r) => mapi.close(r));
    }
  });
});
