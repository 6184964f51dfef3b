/**
 * The server side of `npm run bench -- server`: the server with its built-in emulator in one process, as
 * `syncline serve` runs them — the emulator (without rate limits) in a worker thread of this process
 * (`startBuiltInEmulator`); `--emulator-on-loop` runs it on this process's main thread as before that change,
 * `--emulator-apart` in a process of its own — apart from the load generator. It watches its own event loop
 * (monitorEventLoopDelay) and answers `{ type: 'loop' }` messages with the delays since the last one. Started
 * by bench/server.ts with `{ dir, token, timeoutMs, emulator }`; sends `{ origin }` when listening.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { serve } from '@hono/node-server';
import { startEmulator } from '@syncline/knock-emulator';
import { createServer, startBuiltInEmulator } from '@syncline/server';

const init = await new Promise<{ dir: string; token: string; timeoutMs: number; emulator: 'thread' | 'loop' | 'apart' }>((r) =>
  process.once('message', (m) => r(m as never)),
);
/** The built-in emulator as `syncline serve` runs it (a thread), on this loop (before), or apart (as a remote Knock). */
const emulator =
  init.emulator === 'apart'
    ? await (async () => {
        const child = fork(join(import.meta.dirname, '_emulator-process.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        const { url } = await new Promise<{ url: string }>((r) => child.once('message', (m) => r(m as { url: string })));
        return { url, close: async () => void child.disconnect() };
      })()
    : init.emulator === 'loop'
      ? await startEmulator({ port: 0, rateLimits: false })
      : await startBuiltInEmulator({ rateLimits: false });
const server = createServer({
  dir: init.dir,
  token: init.token,
  emulatorUrl: emulator.url,
  baseUrl: emulator.url,
  queryTimeoutMs: init.timeoutMs,
  log: () => undefined,
});
const http = await new Promise<ReturnType<typeof serve>>((r) => {
  const s = serve({ fetch: server.app.fetch, port: 0, hostname: '127.0.0.1' }, () => r(s));
});
let loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
process.on('message', (m: { type: string }) => {
  if (m.type !== 'loop') return;
  loop.disable();
  process.send!({ p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 });
  loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
});
process.on('disconnect', () => {
  http.close();
  void server
    .close()
    .then(() => emulator.close())
    .finally(() => process.exit(0));
});
process.send!({ origin: `http://127.0.0.1:${(http.address() as AddressInfo).port}` });
