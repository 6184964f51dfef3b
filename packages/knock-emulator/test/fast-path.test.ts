import { request } from 'node:http';
import { describe, expect, test } from 'vitest';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../src/index.js';
import type { RequestLogEntry } from '../src/request-log.js';

/**
 * fast-path.ts serves bulk identify and bulk-operation polls without Hono while no fault or rate limit
 * is in play. These tests send the same raw requests with the fast path open and closed (closed by a
 * fault rule that never matches them) and expect the same answers, headers and request-log entries.
 */

interface Raw {
  status: number;
  /** Header names in wire order. */
  names: string[];
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

function send(
  emulator: RunningEmulator,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(`${emulator.url}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          names: res.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase()),
          headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const AUTH = { authorization: 'Bearer sk_test_fast_path' };
const JSON_AUTH = { ...AUTH, 'content-type': 'application/json' };
/** Closes the fast path without touching bulk identify or polls. */
const UNRELATED_FAULT = { match: 'DELETE /v1/tenants/{id}', status: 500, count: null };
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g;

/** Volatile parts (ids, times) masked. */
function normal(raw: Raw): { status: number; names: string[]; contentType: unknown; body: string } {
  return {
    status: raw.status,
    names: raw.names,
    contentType: raw.headers['content-type'],
    body: raw.text.replace(UUID, '<id>').replace(TIME, '<time>'),
  };
}

function logged(entry: RequestLogEntry | undefined): Partial<RequestLogEntry> {
  const { seq: _s, time: _t, durationMs: _d, requestId: _r, ...rest } = entry!;
  return { ...rest, path: rest.path.replace(UUID, '<id>') };
}

/** Sends one request with the fast path open, then closed; returns both answers and log entries. */
async function both(
  emulator: RunningEmulator,
  method: string,
  path: string | ((open: boolean) => string),
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<Array<{ raw: Raw; entry: RequestLogEntry | undefined }>> {
  const out = [];
  for (const open of [true, false]) {
    emulator.control.clearFaults();
    if (!open) emulator.control.addFault(UNRELATED_FAULT);
    const raw = await send(emulator, method, typeof path === 'string' ? path : path(open), headers, body);
    const entry = emulator.control.requests().at(-1);
    expect(raw.headers['x-request-id']).toBe(entry?.requestId);
    out.push({ raw, entry });
  }
  emulator.control.clearFaults();
  return out;
}

async function withEmulator(options: EmulatorOptions, fn: (emulator: RunningEmulator) => Promise<void>): Promise<void> {
  const emulator = await startEmulator({ port: 0, rateLimits: false, bulkDelayMs: 30, ...options });
  try {
    await fn(emulator);
  } finally {
    await emulator.close();
  }
}

const users = (n: number, extra: object = {}) =>
  JSON.stringify({ users: Array.from({ length: n }, (_, i) => ({ id: `u${i}`, ...extra })) });

describe('fast path (bulk identify and polls without Hono)', () => {
  test('answers, headers and log entries are the same as through Hono, for successes and every error', async () => {
    await withEmulator({ logBodies: true }, async (emulator) => {
      const cases: Array<[string, string, Record<string, string>, string | Buffer | undefined]> = [
        ['POST', '/v1/users/bulk/identify', { ...JSON_AUTH, 'idempotency-key': 'k1' }, users(3, { name: 'Ann', company: { id: 'c1' } })],
        ['POST', '/v1/users/bulk/identify', JSON_AUTH, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(users(1))])],
        ['POST', '/v1/users/bulk/identify', JSON_AUTH, users(2, { name: 'caf\u00e9 \u{1f600}' })],
        ['POST', '/v1/users/bulk/identify', JSON_AUTH, '{"users": [{"id": "a"}'],
        ['POST', '/v1/users/bulk/identify', JSON_AUTH, ''],
        ['POST', '/v1/users/bulk/identify', JSON_AUTH, '[]'],
        ['POST', '/v1/users/bulk/identify', JSON_AUTH, '{}'],
        ['POST', '/v1/users/bulk/identify', JSON_AUTH, '{"users": {}}'],
        ['POST', '/v1/users/bulk/identify', JSON_AUTH, users(1001)],
        ['POST', '/v1/users/bulk/identify', JSON_AUTH, '{"users": [{"id": "a"}, {"name": "no id"}, 7]}'],
        ['POST', '/v1/users/bulk/identify', JSON_AUTH, '{"users": [{"id": "ok"}, {"id": "bad/id"}]}'],
        ['POST', '/v1/users/bulk/identify', { 'content-type': 'application/json' }, users(1)],
        ['POST', '/v1/users/bulk/identify', { ...JSON_AUTH, authorization: 'Bearer pk_test_1' }, users(1)],
        ['POST', '/v1/users/bulk/identify', { ...JSON_AUTH, authorization: 'Bearer nope' }, users(1)],
        ['POST', '/v1/users/bulk/identify', { ...JSON_AUTH, host: 'EXAMPLE.test:80' }, users(1)],
        ['POST', '/v1/users/bulk/identify?x=1', JSON_AUTH, users(1)],
        ['GET', '/v1/bulk_operations/00000000-0000-4000-8000-000000000000', AUTH, undefined],
        ['GET', '/v1/bulk_operations/not%2Dthere', AUTH, undefined],
        ['GET', '/v1/bulk_operations/x', {}, undefined],
      ];
      for (const [method, path, headers, body] of cases) {
        const [fast, hono] = await both(emulator, method, path, headers, body);
        const label = `${method} ${path} ${String(body).slice(0, 40)}`;
        expect(normal(fast!.raw), label).toEqual(normal(hono!.raw));
        expect(logged(fast!.entry), label).toEqual(logged(hono!.entry));
      }
    });
  });

  test('polls answer the same with the fast path open and closed, through every state', async () => {
    await withEmulator({ bulkDelayMs: 200 }, async (emulator) => {
      const ids: string[] = [];
      for (let i = 0; i < 2; i++) {
        const res = await send(emulator, 'POST', '/v1/users/bulk/identify', JSON_AUTH, users(2));
        ids.push((JSON.parse(res.text) as { id: string }).id);
      }
      // Both jobs are in the same state at any moment; poll one with the path open, the other closed.
      const states = new Set<string>();
      for (let k = 0; k < 40 && !states.has('completed'); k++) {
        const [fast, hono] = await both(emulator, 'GET', (open) => `/v1/bulk_operations/${ids[open ? 0 : 1]}`, AUTH);
        const a = JSON.parse(fast!.raw.text) as { status: string };
        const b = JSON.parse(hono!.raw.text) as { status: string };
        if (a.status === b.status) {
          expect(normal(fast!.raw)).toEqual(normal(hono!.raw));
          states.add(a.status);
        }
        expect(logged(fast!.entry)).toEqual(logged(hono!.entry));
        await new Promise((r) => setTimeout(r, 15));
      }
      expect(states).toContain('completed');
    });
  });

  test('a job sent through the fast path applies only at completion, exactly like one sent through Hono', async () => {
    await withEmulator({ bulkDelayMs: 80 }, async (emulator) => {
      // Invalid UTF-8 (bad continuation, truncated, surrogate, overlong, 0xff) must decode the same way.
      const invalid = Buffer.from([0xc3, 0x28, 0xf0, 0x9f, 0x98, 0xed, 0xa0, 0x80, 0xc0, 0xaf, 0xff, 0xe2, 0x82]);
      const identify = (open: boolean, id: string) => {
        emulator.control.clearFaults();
        if (!open) emulator.control.addFault(UNRELATED_FAULT);
        const body = Buffer.concat([
          Buffer.from(`{"users": [{"id": "${id}", "plan": "pro", "n": {"a": 1}, "bad": "`),
          invalid,
          Buffer.from('", "ok": "caf\u00e9 \u{1f600}"}]}'),
        ]);
        return send(emulator, 'POST', '/v1/users/bulk/identify', JSON_AUTH, body);
      };
      expect((await identify(true, 'fast')).status).toBe(200);
      expect((await identify(false, 'hono')).status).toBe(200);
      emulator.control.clearFaults();
      for (const id of ['fast', 'hono']) expect((await send(emulator, 'GET', `/v1/users/${id}`, AUTH)).status).toBe(404);
      emulator.control.flushBulk();
      const read = async (id: string) => JSON.parse((await send(emulator, 'GET', `/v1/users/${id}`, AUTH)).text) as Record<string, unknown>;
      const fast = await read('fast');
      const hono = await read('hono');
      expect({ ...fast, id: 'x', updated_at: 'x' }).toEqual({ ...hono, id: 'x', updated_at: 'x' });
      expect(fast).toMatchObject({ id: 'fast', plan: 'pro', n: { a: 1 }, ok: 'caf\u00e9 \u{1f600}' });
      expect(fast['bad']).toContain('\ufffd');
    });
  });

  test('with rate limits or faults the hot routes keep them (the fast path is closed)', async () => {
    await withEmulator({ rateLimits: true }, async (emulator) => {
      const first = await send(emulator, 'POST', '/v1/users/bulk/identify', JSON_AUTH, users(1));
      const second = await send(emulator, 'POST', '/v1/users/bulk/identify', JSON_AUTH, users(1));
      expect([first.status, second.status]).toEqual([200, 429]);
      expect(second.headers['retry-after']).toBeDefined();
      expect(emulator.control.requests().at(-1)).toMatchObject({ status: 429, fault: 'rate-limit' });
    });
    await withEmulator({}, async (emulator) => {
      emulator.control.addFault({ match: 'POST /v1/users/bulk/identify', status: 503 });
      const res = await send(emulator, 'POST', '/v1/users/bulk/identify', JSON_AUTH, users(1));
      expect(res.status).toBe(503);
      expect(res.headers['x-emulator-fault']).toBe('rule:1');
      expect((await send(emulator, 'POST', '/v1/users/bulk/identify', JSON_AUTH, users(1))).status).toBe(200);
    });
  });
});
