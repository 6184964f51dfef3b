import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
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
