import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OpenAPIHono } from '@hono/zod-openapi';
import { serveStatic } from '@hono/node-server/serve-static';
import { redact } from '@syncline/core';
import type { KnockOptions } from '@syncline/destination-knock';
import { accessGuard } from './access-guard.js';
import { ApiError } from './api-error.js';
import { errorResponse } from './error-handler.js';
import { knockTarget } from './knock-target.js';
import { createRunManager } from './run-manager.js';
import type { SyncRunnerOptions } from './sync-runner.js';
import { startSyncScheduler } from './sync-scheduler.js';
import type { Scheduler } from '@syncline/alerts';
import { createSqlSandbox } from './sql-sandbox.js';
import { dataRoutes } from './data-routes.js';
import { syncRoutes } from './sync-routes.js';
import { runRoutes } from './run-routes.js';
import { listTableFiles, workspaceAt } from './workspace.js';
import type { ServerContext } from './server-context.js';

/** This package's version. */
export const version: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

/** Options of {@link createServer}. */
export interface ServerOptions {
  /** The workspace folder: `syncs/*.yaml`, `data/*`, ledgers in `syncs/.syncline/`. */
  dir: string;
  /** Access token for `/api`; default a random 32-byte token. */
  token?: string;
  /** Knock secret key; without it the syncs go to `emulatorUrl` with `sk_test_local`. Held in memory only. */
  apiKey?: string | undefined;
  /** Knock base URL (only Knock's API host or a loopback emulator). */
  baseUrl?: string | undefined;
  /** URL of the built-in emulator, when one runs. */
  emulatorUrl?: string | undefined;
  /** Host names the `Host` header may carry besides localhost/127.0.0.1/[::1] (the bound address). */
  allowedHosts?: string[];
  /** Accept any `Host` (listening on all interfaces: the token still guards the API). */
  anyHost?: boolean;
  /** Upload size limit in bytes. Default 1 GiB. */
  uploadLimitBytes?: number;
  /** SQL sandbox statement timeout. Default 30 s. */
  queryTimeoutMs?: number;
  /** SQL sandbox DuckDB memory limit. Default `1GB`. */
  sandboxMemoryLimit?: string;
  /** The built playground to serve at `/`. Default: the repository's `playground/dist` when present. */
  playgroundDir?: string | undefined;
  /** Variables for `${NAME}` in configs. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Knock destination options besides the key and base URL, e.g. `tiers` (benchmarks against an emulator without rate limits). */
  knock?: Omit<KnockOptions, 'apiKey' | 'baseUrl'>;
  /** Where the server logs (already redacted). Default stderr. */
  log?: (line: string) => void;
  /**
   * The process that runs plans and runs: `hangTimeoutMs` (default 60 s) is how long it may send nothing
   * (its heartbeat comes every second from its event loop) while it has work before its jobs fail with
   * `sync_hung` and it is killed; `hardStopMs` (default 3 s) is how long a run may take to stop after a second
   * cancel before its process is killed. `entry` is for tests.
   */
  syncProcess?: Pick<SyncRunnerOptions, 'hangTimeoutMs' | 'hardStopMs' | 'entry'>;
  /** Run the workspace's scheduled syncs (`schedule:`) while the server runs. `syncline serve` does. Default false. */
  schedule?: boolean;
}

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Syncline</title>
<body style="font-family:system-ui;max-width:40rem;margin:4rem auto;line-height:1.5">
<h1>Syncline server</h1><p>The playground is not built. Build it with <code>npm run build -w playground</code>,
or use the API under <code>/api</code> (see <a href="/api/openapi.json">/api/openapi.json</a>).</p></body></html>`;

/**
 * The Syncline API as a Hono app: tables and uploads, the SQL sandbox, the Knock field catalog, sync
 * configs, plans, runs and the live debugger, `GET /api/openapi.json`, and the playground at `/`.
 * @example
 * const server = createServer({ dir: './workspace', emulatorUrl: emulator.url });
 * const res = await server.app.request('/api/health');
 * await server.close();
 */
export function createServer(options: ServerOptions) {
  const ws = workspaceAt(options.dir);
  const token = options.token ?? randomBytes(32).toString('base64url');
  const log = (line: string): void => (options.log ?? ((l) => process.stderr.write(l + '\n')))(redact(line));
  const target = knockTarget({ apiKey: options.apiKey, baseUrl: options.baseUrl, emulatorUrl: options.emulatorUrl });
  const env = options.env ?? process.env;
  const sandbox = createSqlSandbox({
    dir: ws.dir,
    tables: () => listTableFiles(ws),
    timeoutMs: options.queryTimeoutMs ?? 30_000,
    memoryLimit: options.sandboxMemoryLimit ?? '1GB',
    onReplace: (reason) => log(reason),
  });
  const runs = createRunManager({ ws, target, env, log, knock: options.knock, syncProcess: options.syncProcess });
  // A bad schedule in one sync file is logged; the server still starts (the file shows as invalid in the API).
  const scheduler = options.schedule
    ? startSyncScheduler({ ws, runs, env, log }).catch(
        (e: unknown) => void log(`Schedules not started: ${redact(String((e as Error)?.message ?? e))}`),
      )
    : Promise.resolve(undefined);
  let schedulerStatus: Scheduler | undefined;
  void scheduler.then((s) => (schedulerStatus = s ?? undefined));
  const nextRuns = (): Map<string, Date | undefined> => new Map((schedulerStatus?.status() ?? []).map((j) => [j.job, j.next]));
  const ctx: ServerContext = {
    ws,
    sandbox,
    target,
    runs,
    version,
    uploadLimitBytes: options.uploadLimitBytes ?? 2 ** 30,
    env,
    log,
    nextRuns,
  };

  const api = new OpenAPIHono({
    // Request validation errors name the field, in the same body shape as every other error.
    defaultHook: (result) => {
      if (!result.success) {
        const issue = result.error.issues[0]!;
        const field = issue.path.map(String).join('.') || result.target;
        throw new ApiError('invalid_request', `${result.target} ${field}: ${issue.message}`, 400, { field });
      }
    },
  });
  api.onError(errorResponse(log));
  api.use('*', accessGuard({ token, allowedHosts: options.allowedHosts ?? [], anyHost: options.anyHost ?? false }));
  const app = api.route('/', dataRoutes(ctx)).route('/', syncRoutes(ctx)).route('/', runRoutes(ctx));
  app.doc31('/api/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Syncline server', version, description: 'The API behind the Syncline playground (`syncline serve`).' },
    components: {},
    security: [{ bearer: [] }],
  } as never);
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.notFound((c) =>
    c.req.path.startsWith('/api/')
      ? c.json({ error: { code: 'not_found', message: `no route ${c.req.method} ${c.req.path}` } }, 404)
      : c.html(NOT_BUILT, 200),
  );
  const playground = options.playgroundDir ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'playground', 'dist');
  if (existsSync(join(playground, 'index.html'))) {
    app.get('*', serveStatic({ root: playground }));
    app.get('*', serveStatic({ path: join(playground, 'index.html') }));
  }

  return {
    app,
    /** The access token (printed once in the URL at start). */
    token,
    target,
    workspace: ws,
    /** Waits for runs in flight to finish (tests). */
    settle: () => runs.settle(),
    /** Stops runs cleanly (confirmed rows committed) and the SQL sandbox. Idempotent. */
    async close(): Promise<void> {
      await (await scheduler)?.stop();
      await runs.close();
      await sandbox.close();
    },
    /** For tests: make the sandbox process crash. */
    sandbox,
    /** For tests: the id of the process that runs plans and runs, while it runs. */
    syncProcessPid: () => runs.syncProcessPid(),
  };
}

/** The app's type, for Hono's typed client: `hc<AppType>(url)`. */
export type AppType = ReturnType<typeof createServer>['app'];
export type SynclineServer = ReturnType<typeof createServer>;
