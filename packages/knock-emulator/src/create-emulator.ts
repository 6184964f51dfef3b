import { randomUUID } from 'node:crypto';
import { KNOCK_ENDPOINTS } from '@syncline/knock-wire';
import { Hono, type Context } from 'hono';
import type { AppEnv, RegisterRoute } from './app-types.js';
import { createControl, registerControlRoutes, type EmulatorControl } from './emulator-control.js';
import { EmulatorState } from './emulator-state.js';
import type { ChosenFault } from './fault-injector.js';
import type { Environment } from './environment.js';
import { faultResponse, rateLimitBody, retryHeaders, shouldRetryValue } from './fault-response.js';
import { KnockHttpError } from './knock-http-error.js';
import { resolveOptions, type EmulatorOptions } from './options.js';
import { requestIds } from './request-ids.js';
import { registerAudienceRoutes } from './routes/audiences.js';
import { registerBulkOperationRoutes } from './routes/bulk-operations.js';
import { registerObjectRoutes } from './routes/objects.js';
import { registerTenantRoutes } from './routes/tenants.js';
import { registerUserRoutes } from './routes/users.js';
import { registerWorkflowRoutes } from './routes/workflows.js';

/** An emulator built but not listening: the Hono app, its control surface and its state. */
export interface Emulator {
  app: Hono<AppEnv>;
  control: EmulatorControl;
  /** @internal */
  state: EmulatorState;
}

/** One route of the emulated API: method, Knock path template and rate tier. */
export interface EmulatedRoute {
  method: string;
  template: string;
  tier: number;
}

/**
 * Routes that cannot observe stored data, so they leave eager bulk jobs in place (eager-apply.ts): the
 * bulk upserts themselves and bulk-operation polls. Every other route settles them first.
 */
const LEAVES_EAGER_JOBS = new Set([
  'POST /v1/users/bulk/identify',
  'POST /v1/objects/{collection}/bulk/set',
  'GET /v1/bulk_operations/{id}',
]);

/** `Authorization: Bearer <key>` (compiled once). */
const BEARER = /^Bearer\s+(\S+)\s*$/i;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function destroySocket(c: Context<AppEnv>): boolean {
  const socket = c.env?.incoming?.socket;
  if (!socket) return false;
  socket.destroy();
  return true;
}

/**
 * The environment of a request's `Authorization: Bearer <key>`; 401 for a missing or unknown key, 403
 * (switch `publishableKeyStatus`) for a publishable key (§1.2). Shared with fast-path.ts.
 */
export function authenticate(state: EmulatorState, header: string | undefined): Environment {
  const match = BEARER.exec(header ?? '');
  const key = match?.[1];
  const switches = state.options.switches;
  if (!key || (!key.startsWith('sk_') && !key.startsWith('pk_')) || (state.options.apiKeys && !state.options.apiKeys.has(key))) {
    throw new KnockHttpError({ ...switches.unauthorized, status: 401 });
  }
  // Publishable keys are for client-side code and cannot stand in for secret keys (§1.2).
  if (key.startsWith('pk_')) {
    throw new KnockHttpError({
      code: 'incorrect_token_type',
      message: 'A secret API key (sk_...) is required for this endpoint.',
      status: switches.publishableKeyStatus,
      type: 'authentication_error',
    });
  }
  return state.environmentFor(key);
}

/** What the request log records of one `/v1` request (see {@link logRequest}). */
export interface LoggedRequest {
  method: string;
  path: string;
  query: string;
  route: string | null;
  status: number;
  /** The `content-length` request header. */
  contentLength: string | undefined;
  requestId: string;
  environment: string | null;
  idempotencyKey: string | null;
  fault: string | null;
  /** The parsed body (kept only with `logBodies`). */
  body: unknown;
}

/**
 * Appends one `/v1` request to the request log; `start` is its `performance.now()` on arrival. Used by
 * the Hono middleware and by fast-path.ts, so both log the same entries.
 */
export function logRequest(state: EmulatorState, start: number, r: LoggedRequest): void {
  state.log.push({
    seq: state.log.nextSeq(),
    time: new Date(performance.timeOrigin + start).toISOString(),
    method: r.method,
    path: r.path,
    query: r.query,
    route: r.route,
    status: r.status,
    durationMs: Math.round((performance.now() - start) * 100) / 100,
    bodyBytes: r.contentLength ? Number(r.contentLength) : 0,
    requestId: r.requestId,
    environment: r.environment,
    idempotencyKey: r.idempotencyKey,
    fault: r.fault,
    ...(state.options.logBodies && r.body !== undefined ? { body: r.body } : {}),
  });
}

/**
 * Whether fast-path.ts may serve a request that arrives now. It serves bulk identify and bulk-operation
 * polls without Hono, running only the steps the route wrapper below runs when nothing is planned:
 * authentication, then the same handler functions. So it must stay closed whenever the wrapper would
 * do more — any fault rule or random fault, rate limiting — and any new step added to the wrapper
 * must close it too.
 */
export function fastPathOpen(state: EmulatorState): boolean {
  return state.faults.idle && !state.rateLimits;
}

/**
 * Builds the emulator: a Hono app serving Knock's `/v1` API and the `/__emulator` control routes.
 * @example
 * const { app, control } = createEmulator({ rateLimits: false });
 * const res = await app.request('/v1/users/u1', { headers: { authorization: 'Bearer sk_test_1' } });
 */
export function createEmulator(options: EmulatorOptions = {}): Emulator & { routes: EmulatedRoute[] } {
  const state = new EmulatorState(resolveOptions(options));
  const app = new Hono<AppEnv>();
  const routes: EmulatedRoute[] = [];
  const { switches } = state.options;

  // Every response carries x-request-id (reference §1.3); every /v1 request is logged.
  app.use('*', async (c, next) => {
    const start = performance.now();
    const requestId = randomUUID();
    c.set('requestId', requestId);
    c.header('x-request-id', requestId);
    await next();
    if (c.get('resetAfter')) destroySocket(c);
    if (state.options.shouldRetryHeader && c.res.status >= 400 && !c.res.headers.has('x-should-retry'))
      c.res.headers.set('x-should-retry', shouldRetryValue(c.res.status)!);
    const url = c.req.url;
    const pathStart = url.indexOf('/', url.indexOf('//') + 2);
    const q = url.indexOf('?', pathStart);
    const path = q < 0 ? url.slice(pathStart) : url.slice(pathStart, q);
    if (!path.startsWith('/v1/')) return;
    logRequest(state, start, {
      method: c.req.method,
      path,
      query: q < 0 ? '' : url.slice(q + 1),
      route: c.get('route') ?? null,
      status: c.res.status,
      contentLength: c.req.header('content-length'),
      requestId,
      environment: c.get('environment') ?? null,
      idempotencyKey: c.req.header('idempotency-key') ?? null,
      fault: c.get('fault') ?? null,
      body: c.get('body'),
    });
  });

  // A forced fault status, answered before or after the handler ran (with its Retry-After and x-should-retry).
  const respondWithFault = (c: Context<AppEnv>, fault: ChosenFault, status: number): Response =>
    faultResponse(c, status, {
      mode: state.options.rateLimitHeaders,
      rateLimitCode: switches.rateLimitCode,
      retryAfterMs: fault.retryAfterMs,
      body: fault.body,
      shouldRetry: fault.shouldRetry,
    });

  const route: RegisterRoute = (operation, handler) => {
    const endpoint = KNOCK_ENDPOINTS[operation];
    const { method, path: template, tier } = endpoint;
    routes.push({ method, template, tier });
    const name = `${method} ${template}`;
    const settles = !LEAVES_EAGER_JOBS.has(name);
    // fast-path.ts runs bulk identify and polls without this wrapper while `fastPathOpen(state)`: keep both in step.
    app.on(method, template.replace(/\{(\w+)\}/g, ':$1'), async (c) => {
      c.set('route', name);
      if (settles) state.bulk.settle();
      const fault = state.faults.idle
        ? undefined
        : state.faults.take(method, template, state.faults.needsIds ? await requestIds(c) : undefined);
      if (fault) {
        c.set('fault', fault.source);
        c.header('x-emulator-fault', fault.source);
        if (fault.delayMs) await sleep(fault.delayMs);
        if (fault.reset === 'before' && destroySocket(c)) return c.body(null, 500);
        if (fault.status !== undefined && !fault.afterApply) return respondWithFault(c, fault, fault.status);
      }
      const env = authenticate(state, c.req.header('authorization'));
      c.set('environment', env.id);
      if (state.rateLimits) {
        const waitMs = state.limiter.take(env.id, name, tier);
        if (waitMs > 0) {
          c.set('fault', 'rate-limit');
          throw new KnockHttpError(rateLimitBody(switches.rateLimitCode) as never, retryHeaders(state.options.rateLimitHeaders, waitMs));
        }
      }
      const response = await handler({ c, env, state, endpoint });
      if (fault?.reset === 'after') c.set('resetAfter', true);
      if (fault?.status !== undefined && fault.afterApply) return respondWithFault(c, fault, fault.status);
      return response;
    });
  };

  registerUserRoutes(route);
  registerObjectRoutes(route);
  registerTenantRoutes(route);
  registerAudienceRoutes(route);
  registerBulkOperationRoutes(route);
  registerWorkflowRoutes(route);

  const control = createControl(state);
  registerControlRoutes(app, control);

  app.notFound((c) =>
    c.json({ code: 'resource_missing', message: 'The resource you requested does not exist', status: 404, type: 'api_error' }, 404),
  );
  app.onError((error, c) => {
    if (error instanceof KnockHttpError) {
      for (const [k, v] of Object.entries(error.headers)) c.header(k, v);
      return c.json(error.body, error.status as 400);
    }
    return c.json({ code: 'internal_server_error', message: 'An internal error occurred', status: 500, type: 'api_error' }, 500);
  });

  return { app, control, state, routes };
}

/**
 * The emulator as a bare Hono app (no listening socket), e.g. for `app.request()` in tests.
 * @example const app = createEmulatorApp({ rateLimits: false })
 */
export function createEmulatorApp(options: EmulatorOptions = {}): Hono<AppEnv> {
  return createEmulator(options).app;
}
