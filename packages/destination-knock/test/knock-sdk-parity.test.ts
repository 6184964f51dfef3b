import type { Change } from '@syncline/core';
import Knock from '@knocklabs/node';
import type { RunningEmulator } from '@syncline/knock-emulator';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { API_KEY, add, closeDispatchers, destination, emulatorFor, expectValidRequests, remove, sync } from './support.js';
import type { KnockTarget } from '../src/index.js';

// Knock's official Node SDK and this destination make the same calls against the same emulator: the
// write requests (method, route, query, body) and the resulting state must match, so the emulator and
// the adapter agree with the real client.
let emulator: RunningEmulator;
let knock: Knock;
beforeAll(async () => {
  emulator = await emulatorFor();
  knock = new Knock({ apiKey: API_KEY, baseURL: emulator.url, maxRetries: 0 });
});
afterAll(async () => {
  await closeDispatchers();
  await emulator.close();
});
afterEach(() => {
  expectValidRequests();
});

type Step = { seed?: Change[]; sdk: (k: Knock) => Promise<unknown>; target: KnockTarget; changes: Change[]; state: string[] };
const users = (extra: Partial<KnockTarget> = {}): KnockTarget => ({
  type: 'users',
  mode: 'upsert',
  onDelete: 'delete',
  nulls: 'skip',
  ...extra,
});
const objects: KnockTarget = { type: 'objects', mode: 'upsert', onDelete: 'delete', nulls: 'skip', collection: 'projects' };
const audience = (mode: 'add' | 'remove'): KnockTarget => ({
  type: 'audiences',
  mode,
  onDelete: 'nothing',
  nulls: 'skip',
  audience: 'vips',
  createAudience: true,
});
const bulkRows = Array.from({ length: 120 }, (_, i) => ({ id: `b${i}`, name: `B${i}` }));

const steps: Record<string, Step> = {
  'identify a user': {
    sdk: (k) => k.users.update('u 1', { name: 'Ann', email: 'ann@example.com', plan: 'pro' } as never),
    target: users(),
    changes: [add('u 1', { name: 'Ann', email: 'ann@example.com', plan: 'pro' })],
    state: ['/v1/users/u%201'],
  },
  'bulk identify users': {
    sdk: (k) => k.users.bulk.identify({ users: bulkRows }),
    target: users(),
    changes: bulkRows.map((u) => add(u.id, { name: u.name })),
    state: ['/v1/users/b0', '/v1/users/b119'],
  },
  'delete a user': {
    seed: [add('u1')],
    sdk: (k) => k.users.delete('u1'),
    target: users(),
    changes: [remove('u1')],
    state: ['/v1/users/u1'],
  },
  'bulk delete users': {
    seed: bulkRows.map((u) => add(u.id)),
    sdk: (k) => k.users.bulk.delete({ user_ids: bulkRows.map((u) => u.id) }),
    target: users(),
    changes: bulkRows.map((u) => remove(u.id)),
    state: ['/v1/users/b5'],
  },
  'set an object': {
    sdk: (k) => k.objects.set('projects', 'p1', { name: 'Apollo', budget: 3 } as never),
    target: objects,
    changes: [add('p1', { name: 'Apollo', budget: 3 })],
    state: ['/v1/objects/projects/p1'],
  },
  'bulk set objects': {
    sdk: (k) => k.objects.bulk.set('projects', { objects: bulkRows }),
    target: objects,
    changes: bulkRows.map((u) => add(u.id, { name: u.name })),
    state: ['/v1/objects/projects/b7'],
  },
  'delete an object': {
    seed: [add('p1')],
    sdk: (k) => k.objects.delete('projects', 'p1'),
    target: objects,
    changes: [remove('p1')],
    state: ['/v1/objects/projects/p1'],
  },
  'add audience members': {
    sdk: (k) =>
      k.audiences.addMembers('vips', { members: [{ user: { id: 'u1', email: 'u1@example.com' }, tenant: 'acme' }], create_audience: true }),
    target: audience('add'),
    changes: [add('u1', { email: 'u1@example.com', tenant: 'acme' })],
    state: ['/v1/audiences/vips/members', '/v1/users/u1'],
  },
  'remove audience members': {
    seed: [add('u1', { tenant: 'acme' })],
    sdk: (k) => k.audiences.removeMembers('vips', { members: [{ user: { id: 'u1' }, tenant: 'acme' }] }),
    target: audience('remove'),
    changes: [add('u1', { tenant: 'acme' })],
    state: ['/v1/audiences/vips/members'],
  },
};

const writes = () =>
  emulator.control
    .requests()
    .filter((e) => e.method !== 'GET')
    .map((e) => ({ method: e.method, route: e.route, query: e.query, status: e.status, body: e.body }));

async function state(paths: string[]): Promise<unknown[]> {
  return Promise.all(
    paths.map(async (p) => {
      const res = await fetch(`${emulator.url}${p}`, { headers: { authorization: `Bearer ${API_KEY}` } });
      const body = res.status === 200 ? ((await res.json()) as Record<string, unknown>) : res.status;
      return JSON.parse(JSON.stringify(body, (k, v) => (/_at$/.test(k) ? '<time>' : v)));
    }),
  );
}

describe('parity with @knocklabs/node', () => {
  test.each(Object.entries(steps))('%s: same requests and same resulting state', async (_name, step) => {
    const run = async (via: 'sdk' | 'destination') => {
      emulator.control.reset();
      await using dest = destination(emulator, { bulk: { pollIntervalMs: 20, singleOnlySeconds: step.changes.length > 100 ? 0.01 : 1.5 } });
      if (step.seed) {
        const seedTarget = step.target.type === 'audiences' ? audience('add') : { ...step.target, onDelete: 'nothing' as const };
        await sync(dest, seedTarget, step.seed);
        emulator.control.flushBulk();
        emulator.control.clearRequests();
      }
      if (via === 'sdk') await step.sdk(knock);
      else {
        // Bulk paths need ≥ 100 rows and send ~6 % singly; compare only the bulk request then.
        const r = await sync(dest, step.target, step.changes);
        expect(r.failed).toEqual([]);
      }
      emulator.control.flushBulk();
      const sent = writes();
      return { sent, state: await state(step.state) };
    };
    const sdk = await run('sdk');
    const ours = await run('destination');
    expect(sdk.sent.every((s) => s.status < 300)).toBe(true);
    if (sdk.sent.length === 1 && ours.sent.length > 1) {
      // Bulk: the destination sends the same endpoint with a subset of the rows (the rest singly).
      const bulk = ours.sent.find((s) => s.route === sdk.sent[0]!.route)!;
      expect(bulk).toBeDefined();
      const list = (b: unknown) => Object.values(b as Record<string, unknown[]>)[0]!;
      expect(list(sdk.sent[0]!.body)).toEqual(expect.arrayContaining(list(bulk.body)));
    } else {
      expect(ours.sent).toEqual(sdk.sent);
    }
    expect(ours.state).toEqual(sdk.state);
  });
});
