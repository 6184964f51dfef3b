import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { z } from 'zod';
import { runSync, syncBlockFor, syncSpecFieldsSchema, toSyncSpec, type Destination } from '../src/index.js';
import { tableSource, trackLedgers } from './model-source.js';

// Issue 15: a destination written outside packages/ plugs in without touching core. It is the README's
// example, run against a receiver on loopback. (Imported by URL: the example is outside this package's sources.)
const example = new URL('../../../examples/custom-destination/webhook-destination.js', import.meta.url).href;
const { webhookDestination } = (await import(example)) as { webhookDestination: Destination<{ url: string }> };
const received: { action: string; key: string; payload: unknown }[][] = [];
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (d: Buffer) => (body += d));
  req.on('end', () => {
    received.push(JSON.parse(body) as (typeof received)[number]);
    res.writeHead(req.url === '/down' ? 503 : 204).end();
  });
});
let url: string;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
const ledger = trackLedgers();

// maxDeleteShare 1: removing one row of three is the point of the test, not a mass delete.
const config = (sync: Record<string, unknown>) =>
  syncSpecFieldsSchema.parse({
    name: 'hook',
    model: 'select * from people',
    key: 'id',
    maxDeleteShare: 1,
    sync: { fields: { email: 'email' }, ...sync },
  });

test('the webhook destination receives every row first, then only the changes; core carries its target typed', async () => {
  const spec = toSyncSpec(config({ url: `${url}/hook`, onDelete: 'delete' }), webhookDestination);
  expect(spec.target).toEqual({ url: `${url}/hook`, onDelete: 'delete', nulls: 'skip' });
  const l = await ledger();
  const rows = [
    { id: 'a', email: 'a@example.com' },
    { id: 'b', email: 'b@example.com' },
    { id: 'c', email: 'c@example.com' },
  ];
  received.length = 0;
  const first = await runSync({ spec, ledger: l, source: tableSource(rows), destination: webhookDestination });
  expect(first.status).toBe('succeeded');
  expect(received.flat().map((c) => [c.action, c.key])).toEqual([
    ['add', 'a'],
    ['add', 'b'],
    ['add', 'c'],
  ]);
  received.length = 0;
  const second = await runSync({
    spec,
    ledger: l,
    source: tableSource([
      { id: 'a', email: 'a@example.com' },
      { id: 'b', email: 'new@example.com' },
    ]),
    destination: webhookDestination,
  });
  expect(second.rows).toMatchObject({ changed: 1, removed: 1, unchanged: 1, synced: 2 });
  expect(received.flat()).toEqual([
    { action: 'change', key: 'b', payload: { email: 'new@example.com' } },
    { action: 'remove', key: 'c', payload: null },
  ]);
});

test('a failing receiver fails the rows, and the next run sends them again', async () => {
  const l = await ledger();
  const rows = [{ id: 'x', email: 'x@example.com' }];
  const down = await runSync({
    spec: toSyncSpec(config({ url: `${url}/down` }), webhookDestination),
    ledger: l,
    source: tableSource(rows),
    destination: webhookDestination,
  });
  expect(down.rows).toMatchObject({ failed: 1, synced: 0 });
  received.length = 0;
  const up = await runSync({
    spec: toSyncSpec(config({ url: `${url}/up` }), webhookDestination),
    ledger: l,
    source: tableSource(rows),
    destination: webhookDestination,
  });
  expect(up.rows).toMatchObject({ synced: 1 });
  expect(received.flat().map((c) => c.key)).toEqual(['x']);
});

test("the destination's targetSchema validates its keys of the sync block, at their path", async () => {
  // A loader merges the destination's keys with core's: a misspelt or bad key is reported where it is.
  const schema = z.strictObject({ sync: syncBlockFor(webhookDestination.targetSchema) });
  const issues = (sync: unknown) => schema.safeParse({ sync }).error?.issues.map((i) => `${i.path.join('.')}: ${i.code}`);
  expect(issues({ url: 'not a url' })).toEqual(['sync.url: invalid_format']);
  expect(issues({ url: `${url}/x`, uri: 'x' })).toEqual(['sync: unrecognized_keys']);
  expect(issues({ url: `${url}/x`, onDelete: 'sometimes' })).toEqual(['sync.onDelete: invalid_value']);
  expect(issues({ url: `${url}/x`, fields: { email: 'email' } })).toBeUndefined();
  // Without the loader, runSync itself refuses a target its destination does not accept, naming the key.
  const r = await runSync({
    spec: toSyncSpec(config({ url: 'nope' })),
    ledger: await ledger(),
    source: tableSource([]),
    destination: webhookDestination,
  });
  expect(r.status).toBe('failed');
  expect(r.error).toMatchObject({ code: 'config_invalid', message: expect.stringContaining('sync.url: Invalid URL') });
});
