import { describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/index.js';

/**
 * Bulk identify merges eagerly on arrival, with an undo log (eager-apply.ts). The same bodies sent to an
 * emulator where the ordinary apply runs (a bulk fault that matches no item turns the eager path off) must
 * leave exactly the same users, property order included.
 */

const KEY = 'sk_test_eager_merge';

async function identify(emulator: RunningEmulator, body: string): Promise<void> {
  const res = await fetch(`${emulator.url}/v1/users/bulk/identify`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body,
  });
  expect(res.status).toBe(200);
  await res.text();
}

async function user(emulator: RunningEmulator, id: string): Promise<string> {
  const res = await fetch(`${emulator.url}/v1/users/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${KEY}` } });
  return `${res.status} ${(await res.text()).replace(/"updated_at":"[^"]*"/, '"updated_at":"…"')}`;
}

const wide = JSON.stringify(Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`k${i}`, i]))).slice(1, -1);
const item = (id: string, rest: object | string): string =>
  `{"id":"${id}"${typeof rest === 'string' ? (rest ? `,${rest}` : '') : JSON.stringify(rest).replace(/^\{/, ',').slice(0, -1)}}`.replace(
    ',}',
    '}',
  );

/**
 * Bodies (lists of item texts) with many shapes: nested merges, replacements, nulls, odd keys (`__proto__`
 * stays an own property only in JSON text), duplicates, wide items.
 */
const bodies: string[][] = [
  [
    item('a', { name: 'A', email: 'a@x', company: { id: 'c1', region: 'eu' } }),
    item('b', { name: 'B', email: 'b@x', company: { id: 'c2', region: 'us' } }),
    item('c', { email: 'c@x', name: 'C' }),
    item('d', { tags: ['x'], n: 1 }),
  ],
  [
    item('a', { name: 'A2', email: 'a@x', company: { id: 'c1', size: 5 } }),
    item('b', { name: 'B', email: 'b@x', company: { id: 'c2', region: 'us' } }),
    item('c', { name: null, company: 'none' }),
    item('d', { tags: { now: 'object' }, n: [1, 2] }),
    item('a', { company: { region: null, nested: { deep: { x: 1 } } } }),
    item('e', wide),
  ],
  [
    item('a', '"company":{"nested":{"deep":{"y":2}},"__proto__":{"polluted":true}}'),
    item(
      'f',
      '"__proto__":{"polluted":true},"constructor":"c","toString":1,"0":"zero","10":"ten","q\\"uote":1,"line\\u2028sep":2,"ключ":3',
    ),
    item('g', '"__typename":"User","updated_at":"2020-01-01T00:00:00Z","collection":"x","v":1'),
    item('b', { company: { id: 'c9' } }),
    item('d', { tags: null, n: { a: { b: 1 } } }),
  ],
  [
    item('d', { n: { a: { c: 2 } } }),
    item('e', `${wide},"k3":"three","k69":null`),
    item('f', { 0: 'ZERO', constructor: { now: 'object' } }),
    item('c', { company: { id: 'back to an object' } }),
    item('h', { name: 'H' }),
    item('h', { name: 'H2', email: 'h@x' }),
  ],
];

/** Each item ten times in a row (ids `a-0` … `a-9`): many users of each shape in one body. */
const COPIES = 10;
const repeated = (items: string[]): string =>
  `{"users":[${items.flatMap((text) => Array.from({ length: COPIES }, (_, r) => text.replace(/^\{"id":"([^"]*)"/, `{"id":"$1-${r}"`))).join(',')}]}`;
const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].flatMap((id) => Array.from({ length: COPIES }, (_, r) => `${id}-${r}`));

describe('eager bulk merges', () => {
  test('leave the same users as the ordinary apply, body after body', async () => {
    const eager = await startEmulator({ port: 0, rateLimits: false, bulkDelayMs: 1000 });
    const ordinary = await startEmulator({ port: 0, rateLimits: false, bulkDelayMs: 1000 });
    try {
      ordinary.control.setBulkFaults({ failItemIds: ['no-such-user'] });
      for (const body of bodies.map(repeated)) {
        // Two bodies in flight before a flush: later jobs merge over earlier pending ones.
        await identify(eager, body);
        await identify(ordinary, body);
        await identify(eager, body);
        await identify(ordinary, body);
        expect(eager.control.pendingBulk()).toBe(2);
        eager.control.flushBulk();
        ordinary.control.flushBulk();
        for (const id of ids) expect(await user(eager, id), id).toBe(await user(ordinary, id));
      }
      expect(await user(eager, 'f-3')).toContain('"ключ":3');
      expect(await user(eager, 'a-3')).not.toContain('polluted');
    } finally {
      await eager.close();
      await ordinary.close();
    }
  });

  test('a read while jobs are pending rolls eager merges back exactly', async () => {
    const eager = await startEmulator({ port: 0, rateLimits: false, bulkDelayMs: 1000 });
    try {
      await identify(eager, repeated(bodies[0]!));
      eager.control.flushBulk();
      const before = await Promise.all(ids.map((id) => user(eager, id)));
      await identify(eager, repeated(bodies[1]!));
      await identify(eager, repeated(bodies[2]!));
      // The read settles: both jobs roll back (newest first) and apply again only when flushed.
      expect(await Promise.all(ids.map((id) => user(eager, id)))).toEqual(before);
    } finally {
      await eager.close();
    }
  });
});
