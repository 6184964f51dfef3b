import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { serve } from '@hono/node-server';
import { startBuiltInEmulator, type BuiltInEmulator } from './builtin-emulator.js';
import { createServer, type ServerOptions, type SynclineServer } from './create-server.js';
import { EMULATOR_KEY } from './knock-target.js';
import { seedWorkspace, workspaceAt } from './workspace.js';

/** Options of {@link startServer}: those of `createServer` plus where to listen. */
export interface StartServerOptions extends Omit<ServerOptions, 'emulatorUrl' | 'apiKey' | 'anyHost'> {
  /** Default 8787; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. `0.0.0.0` listens on every interface (a warning is printed; the token is still required). */
  host?: string;
  /** Open the URL in the default browser. */
  open?: boolean;
  /**
   * The command that opens the URL (given as its one argument) with `open`. Default: `BROWSER` from `env`,
   * else `open` (macOS), `explorer` (Windows) or `xdg-open`.
   */
  browser?: string | undefined;
  /** Where the start lines go (the URL line included). Default stdout. */
  print?: (line: string) => void;
  /** Where warnings go. Default stderr. */
  warn?: (line: string) => void;
}

export interface RunningServer {
  /** The clickable URL with the token. */
  url: string;
  /** The origin (no token). */
  origin: string;
  port: number;
  token: string;
  server: SynclineServer;
  /** The built-in emulator (a worker thread of this process), when no KNOCK_API_KEY was set. */
  emulator: BuiltInEmulator | undefined;
  close(): Promise<void>;
}

/**
 * `syncline serve`: seeds an empty workspace with the sample data and an example sync, starts the built-in
 * Knock emulator when `KNOCK_API_KEY` is not set, listens (127.0.0.1 by default) and prints one line to click.
 * @example const running = await startServer({ dir: '.', port: 8787 }); await running.close();
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const print = options.print ?? ((l: string) => process.stdout.write(l + '\n'));
  const warn = options.warn ?? ((l: string) => process.stderr.write(l + '\n'));
  const env = options.env ?? process.env;
  const host = options.host ?? '127.0.0.1';
  const ws = workspaceAt(options.dir);
  if (await seedWorkspace(ws)) print(`Empty folder: added the sample data (data/) and an example sync (syncs/example-users.yaml).`);
  const apiKey = env.KNOCK_API_KEY || undefined;
  // The emulator answers from a thread of its own: its bulk work never delays this loop's answers (health).
  const emulator = apiKey ? undefined : await startBuiltInEmulator({}, warn);
  const server = createServer({
    ...options,
    env,
    apiKey,
    baseUrl: apiKey ? env.KNOCK_BASE_URL || undefined : emulator!.url,
    emulatorUrl: emulator?.url,
    // `syncline serve` runs the workspace's scheduled syncs (issue 14), shown in the run history and the debugger.
    schedule: options.schedule ?? true,
    anyHost: host === '0.0.0.0' || host === '::',
    allowedHosts: [host, ...(options.allowedHosts ?? [])],
  });
  const http = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: server.app.fetch, port: options.port ?? 8787, hostname: host }, () => resolve(s));
    s.once('error', reject);
  });
  const port = (http.address() as AddressInfo).port;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const origin = `http://${shown}:${port}`;
  const url = `${origin}/?token=${server.token}`;
  if (host === '0.0.0.0' || host === '::')
    warn(
      `Warning: listening on every network interface (--host ${host}); anyone who can reach this machine can try the API. The token is still required.`,
    );
  const t = server.target.describe();
  print(
    t.kind === 'emulator'
      ? `Target: the built-in Knock emulator at ${t.baseUrl} (key ${EMULATOR_KEY})`
      : `Target: Knock at ${t.baseUrl} (key from KNOCK_API_KEY)`,
  );
  print(`Syncline at ${url}`);
  if (options.open) {
    // The URL (with its token) goes to the opener's argv only, never to a log line: a failure says which command.
    const cmd =
      options.browser || env.BROWSER || (process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open');
    spawn(cmd, [url], { stdio: 'ignore', detached: true })
      .on('error', (e: NodeJS.ErrnoException) => warn(`Could not open a browser with ${cmd} (${e.code ?? e.message}); open the URL above.`))
      .unref();
  }
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await new Promise<void>((r) => {
        http.close(() => r());
        (http as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await server.close();
      await emulator?.close();
    })());
  return { url, origin, port, token: server.token, server, emulator, close };
}
