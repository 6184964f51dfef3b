import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { createEmulator } from './create-emulator.js';
import type { EmulatorControl } from './emulator-control.js';
import { fastPath } from './fast-path.js';
import type { EmulatorOptions } from './options.js';
import { persist } from './snapshot.js';

/** A listening emulator. */
export interface RunningEmulator {
  /** Base URL, e.g. `http://127.0.0.1:3100`; pass it as the Knock SDK's `baseURL`. */
  url: string;
  port: number;
  /** Stops listening, applies pending bulk jobs and writes the final snapshot. Idempotent. */
  close(): Promise<void>;
  /** Fault injection and inspection in code. */
  control: EmulatorControl;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts the emulator on 127.0.0.1 (never on other interfaces: the control routes have no auth).
 * @example
 * const emulator = await startEmulator({ port: 0, rateLimits: false });
 * const knock = new Knock({ apiKey: 'sk_test_1', baseURL: emulator.url });
 * await emulator.close();
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const emulator = createEmulator(options);
  const { state, control } = emulator;
  const persistence = state.options.dataDir ? await persist(state, state.options.dataDir, state.options.persistDebounceMs) : undefined;
  // `tenants/bulk/delete` carries up to 1,000 `tenant_ids[]` in the query string (reference §7): more
  // than Node's default 16 kB header limit.
  // Bulk identify and bulk-operation polls take a faster route to the same handlers (fast-path.ts).
  const hono = getRequestListener(emulator.app.fetch, { hostname: '127.0.0.1' });
  const server = createServer({ maxHeaderSize: 1024 * 1024 }, fastPath(state, hono));
  // Sockets destroyed by reset faults must not crash the process.
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(state.options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }).then(() => {
      state.bulk.flush(true);
      persistence?.close();
      state.bulk.clear();
    });
    return closing;
  };
  return { url: `http://127.0.0.1:${port}`, port, close, control, [Symbol.asyncDispose]: close };
}
