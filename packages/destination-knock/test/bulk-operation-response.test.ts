import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { knockDestination } from '../src/index.js';
import { add, API_KEY, sync, usersTarget } from './support.js';

/**
 * A Knock stand-in on 127.0.0.1 whose bulk identify and bulk-operation polls answer the bodies given: the
 * destination must read them through knock-wire's `BulkOperation` schema, not trust their shape.
 */
async function knockAnswering(post: (id: string) => unknown, poll: (id: string) => unknown): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'POST' && req.url === '/v1/users/bulk/identify') return reply(200, post(randomUUID()));
      if (req.method === 'GET' && req.url?.startsWith('/v1/bulk_operations/')) return reply(200, poll(req.url.slice(20)));
      const id = decodeURIComponent(req.url?.split('/')[3] ?? '');
      if (req.method === 'PUT') return reply(200, { __typename: 'User', id, updated_at: new Date().toISOString() });
      reply(404, { code: 'resource_missing', message: 'The resource you requested does not exist', status: 404, type: 'api_error' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const operation = (id: string, extra: Record<string, unknown>) => ({
  __typename: 'BulkOperation',
  id,
  name: 'users.identify',
  estimated_total_rows: 300,
  processed_rows: 0,
  success_count: 0,
  inserted_at: '2024-05-22T12:00:00Z',
  updated_at: '2024-05-22T12:00:00Z',
  ...extra,
});

const rows = Array.from({ length: 300 }, (_, i) => add(`b${i}`, { name: `N${i}` }));

async function run(url: string) {
  await using knock = knockDestination({
    apiKey: API_KEY,
    baseUrl: url,
    retry: { baseMs: 20, capMs: 100 },
    bulk: { pollIntervalMs: 20, maxPollIntervalMs: 50, singleOnlySeconds: 0 },
    tiers: { 1: 20, 2: 100, 3: 1200, 4: 4000, 5: 20000 },
  });
  return sync(knock, usersTarget(), rows);
}

describe('bulk operation responses are parsed with knock-wire', () => {
  test('a completed job whose error_items is not a list confirms no row: its rows stay in doubt', async () => {
    const { url } = await knockAnswering(
      (id) => operation(id, { status: 'completed', error_items: 'oops' }),
      (id) => operation(id, { status: 'completed' }),
    );
    const r = await run(url);
    const bulkRows = r.failed.filter((f) => f.code === 'invalid_response');
    expect(bulkRows.length).toBeGreaterThan(250);
    expect(bulkRows.every((f) => f.inDoubt)).toBe(true);
    expect(r.ok.length + r.failed.length).toBe(300);
    expect(r.ok.length).toBeLessThan(50); // only the rows planned as single calls
  });

  test('a poll with an unknown status is not read as a failed job: the rows stay in doubt', async () => {
    const { url } = await knockAnswering(
      (id) => operation(id, { status: 'queued' }),
      (id) => operation(id, { status: 'complete' }),
    );
    const r = await run(url);
    const bulkRows = r.failed.filter((f) => f.code === 'invalid_response');
    expect(bulkRows.length).toBeGreaterThan(250);
    expect(bulkRows.every((f) => f.inDoubt)).toBe(true);
    expect(r.failed.some((f) => f.code === 'bulk_operation_failed')).toBe(false);
  });

  test('fields the destination does not read (a relative progress_path) do not fail a job', async () => {
    const { url } = await knockAnswering(
      (id) => operation(id, { status: 'queued', progress_path: `/v1/bulk_operations/${id}` }),
      (id) => operation(id, { status: 'completed', error_items: [], progress_path: `/v1/bulk_operations/${id}` }),
    );
    const r = await run(url);
    expect(r.failed).toEqual([]);
    expect(r.ok).toHaveLength(300);
  });
});
