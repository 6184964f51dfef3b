import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { DuckDBInstance } from '@duckdb/node-api';
import { startEmulator, type RunningEmulator } from '@syncline/knock-emulator';
import { createServer, seedWorkspace, workspaceAt, type ServerOptions, type SynclineServer } from '../src/index.js';

export const TOKEN = 'test-token-0123456789';

/** A fresh workspace folder (seeded with the sample data unless `empty`). */
export async function tempWorkspace(empty = false): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-server-'));
  if (!empty) await seedWorkspace(workspaceAt(dir));
  return dir;
}

export interface TestServer {
  server: SynclineServer;
  emulator: RunningEmulator;
  dir: string;
  logs: string[];
  /** `app.request` with the token and JSON helpers. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  json<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

/** A server over a seeded workspace, pointed at an in-process emulator (rate limits off for speed). */
export async function testServer(opts: Partial<ServerOptions> & { emptyWorkspace?: boolean } = {}): Promise<TestServer> {
  const dir = opts.dir ?? (await tempWorkspace(opts.emptyWorkspace));
  const emulator = await startEmulator({ port: 0, rateLimits: false });
  const logs: string[] = [];
  const server = createServer({
    dir,
    token: TOKEN,
    emulatorUrl: emulator.url,
    baseUrl: opts.apiKey ? undefined : emulator.url,
    log: (l) => logs.push(l),
    // Not the repository's playground/dist: whether it was built must not change what these tests see.
    playgroundDir: join(dir, 'no-playground-build'),
    ...opts,
  });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    server.app.request(path, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body !== undefined && !(body instanceof Uint8Array) && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body === undefined ? {} : { body: body instanceof Uint8Array || typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  return {
    server,
    emulator,
    dir,
    logs,
    call,
    async json<T>(method: string, path: string, body?: unknown) {
      const r = await call(method, path, body);
      return { status: r.status, body: (await r.json()) as T };
    },
    async close() {
      await server.close();
      await emulator.close();
    },
  };
}

/** Serves a Hono app over real HTTP on 127.0.0.1 (a free port). */
export async function listen(app: { fetch: (r: Request) => Response | Promise<Response> }) {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * A sync `many` of `users` users (`w_00000`…) in the test server's workspace, sent one bulk call at a time
 * (tier 1 at 1 request/s), so a run with the emulator's bulk delay is still sending after its first confirmations.
 */
export async function manyUsersSync(t: TestServer, users: number): Promise<void> {
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  await db.run(
    `COPY (SELECT 'w_' || lpad(i::VARCHAR, 5, '0') AS id, 'w' || i || '@example.com' AS email FROM range(${users}) t(i)) TO '${join(t.dir, 'data', 'many.parquet')}' (FORMAT parquet)`,
  );
  db.closeSync();
  const put = await t.call('PUT', '/api/syncs/many', {
    model: 'select * from many',
    key: 'id',
    destination: { type: 'knock', tiers: { 1: 1 } },
    sync: { type: 'users', fields: { email: 'email' } },
  });
  if (put.status !== 200) throw new Error(`PUT /api/syncs/many: ${put.status} ${await put.text()}`);
}

/** Polls `GET /api/runs/:runId` until `until` holds for its record (at most `ms`); returns the last record. */
export async function waitForRun<R extends { run: { status: string; counts: Record<string, number> } }>(
  t: TestServer,
  runId: string,
  until: (r: R['run']) => boolean,
  ms = 30_000,
): Promise<R['run']> {
  let last: R['run'] | undefined;
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    last = (await t.json<R>('GET', `/api/runs/${runId}`)).body.run;
    if (until(last)) return last;
  }
  throw new Error(`run ${runId}: condition not met within ${ms} ms (last: ${JSON.stringify(last)})`);
}
