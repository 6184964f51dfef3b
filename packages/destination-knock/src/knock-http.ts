import { createHash, randomUUID } from 'node:crypto';
import {
  SyncError,
  backoffDelay,
  isRetryableStatus,
  redact,
  redactHeaders,
  retryAfterMs,
  sharedRateLimiter,
  sleep,
  type HttpExchange,
  type RateLimiter,
} from '@syncline/core';
import { Pool, type Dispatcher } from 'undici';
import { BreakerOpenError, createCircuitBreaker, type CircuitBreaker } from './circuit-breaker.js';
import { exactConnector } from './exact-connect.js';
import type { ResolvedKnockOptions } from './knock-options.js';
import { createRetryBudget, type RetryBudget } from './retry-budget.js';
import { limiterRate, spacedByAnswer } from './limiter-rate.js';

export { limiterRate };

export interface KnockRequest {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Path with encoded ids, e.g. `/v1/users/u%201`, and an optional query string. */
  path: string;
  body?: unknown;
  /** `body` already serialised (same content), sent as is. */
  json?: string | undefined;
  /** Knock rate tier of the endpoint. */
  tier: 1 | 2 | 3 | 4 | 5;
  /** The endpoint template, e.g. `PUT /v1/users/{user_id}`: Knock limits each endpoint separately. */
  route: string;
  /** Statuses that count as success besides 2xx (404 on delete: already gone). */
  okStatuses?: number[];
  /** Attempts at most, the first included (default `retry.maxAttempts`): a quick check gives up sooner. */
  maxAttempts?: number;
}

export interface SendContext {
  opId?: string;
  signal?: AbortSignal | undefined;
  log?: ((exchange: HttpExchange) => void) | undefined;
  /** The operation's requests were accepted; only confirmation (bulk job polling) is left. */
  onSent?: (() => void) | undefined;
  /** The run is stopping: a request whose first attempt has not left is not sent (`NOT_SENT`). */
  stop?: AbortSignal | undefined;
  /** Each request (every attempt) is leaving. */
  onRequest?: (() => void) | undefined;
}

export type SendResult =
  | { ok: true; status: number; body: unknown; requests: number }
  | {
      ok: false;
      status: number | null;
      code: string;
      message: string;
      requests: number;
      retryAfterMs?: number;
      /** An earlier attempt of this request may have been applied (a 5xx, a 408, a lost connection). */
      inDoubt?: boolean;
      /** `connection_failed`: the system's reason, e.g. `ECONNREFUSED`, `ENOTFOUND`. */
      cause?: string;
    };

/** A request Knock did not accept (after retries), with why. */
export type SendFailure = Extract<SendResult, { ok: false }>;

/**
 * Code of rows not sent because Knock asked to wait longer than `retry.maxRetryAfterMs` (a 429 or 503 with
 * a long `Retry-After`): the operation's outcome carries `resumeAfterMs` and the run ends "resume later".
 */
export const RESUME_LATER = 'rate_limited_resume_later';
export const RESUME_LATER_MESSAGE = '[knock] Knock asked to wait longer than retry.maxRetryAfterMs; the rest of the run resumes later';

/** Code of rows whose request did not leave because the run was stopping (`SendContext.stop`). */
export const NOT_SENT = 'not_sent';

/** A send slot taken ahead of time (breaker and rate limiter passed), for the request's first attempt. */
export interface Reservation {
  probe: boolean;
  /** Set when this request holds the first-request gate. */
  release?: (() => void) | undefined;
}

export interface KnockHttp {
  send(request: KnockRequest, ctx: SendContext, reservation?: Reservation): Promise<SendResult>;
  /** Waits for the breaker and the endpoint's rate limiter, so the caller can fill the request at the last moment. */
  reserve(request: Pick<KnockRequest, 'route' | 'tier'>, signal?: AbortSignal): Promise<Reservation>;
  readonly breaker: CircuitBreaker;
  readonly budget: RetryBudget;
  /**
   * Ms until `route` (or, without one, every route) may be called again, after Knock asked for a wait longer
   * than `retry.maxRetryAfterMs`; 0 when it is open.
   */
  blockedMs(route?: string): number;
  close(): Promise<void>;
}

const clock = (): number => performance.timeOrigin + performance.now();

/**
 * The transport of the Knock destination: undici (keep-alive `Pool`, or an injected `Dispatcher`), a
 * token bucket per Knock rate tier shared across the process, full-jitter retries of 408/409/429/5xx and
 * connection errors with a retry budget and a circuit breaker, exact `Retry-After`/`retry-after-ms`, and
 * fail-fast on 401/403. Every attempt is logged as a redacted `HttpExchange`.
 * @example const http = createKnockHttp(parseKnockOptions({ apiKey })); await http.send({ method: 'GET', path: '/v1/users/u1', tier: 4 }, {});
 */
export function createKnockHttp(options: ResolvedKnockOptions, credential: { origin?: string; token?: string } = {}): KnockHttp {
  const base = new URL(credential.origin ?? options.baseUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  const token = credential.token ?? options.apiKey;
  const injected = credential.origin === undefined ? options.dispatcher : undefined;
  let pool: Dispatcher | undefined;
  const dispatcher = (): Dispatcher =>
    injected ??
    (pool ??= new Pool(base.origin, {
      connections: options.connections,
      pipelining: 1,
      connect: exactConnector(options.timeouts.connectMs),
      headersTimeout: options.timeouts.headersMs,
      bodyTimeout: options.timeouts.bodyMs,
    }));
  // Limits are per endpoint, at the endpoint's tier, scoped per environment
  // (https://docs.knock.app/api-reference/overview/rate-limits): key the shared buckets by origin, a hash
  // of the credential (never the credential itself) and the endpoint template.
  const scope = `knock:${base.origin}${prefix}:${createHash('sha256').update(token).digest('hex').slice(0, 16)}`;
  const limiters = new Map<string, RateLimiter>();
  const limiterOf = (request: Pick<KnockRequest, 'route' | 'tier'>): RateLimiter => {
    let l = limiters.get(request.route);
    if (!l) {
      // An endpoint spaced by its answers (below) needs no jitter margin: its next request leaves a full
      // interval after the previous one's answer, so after its arrival whenever Knock counts it. The margin
      // would only add ~31 ms to each bulk job's second (3 % of a first sync at Knock's ceiling).
      const perSecond = limiterRate(options.tiers[request.tier], options.rateSafety);
      // Half a second of burst, not Knock's full second: requests that took a token but waited for a pooled
      // connection leave together, and Knock's own bucket must have room to absorb such a clump.
      l = sharedRateLimiter(`${scope}:${request.route}:${perSecond}/s`, { perSecond, burst: Math.max(1, Math.floor(perSecond / 2)) });
      limiters.set(request.route, l);
    }
    return l;
  };
  const breaker = createCircuitBreaker(options.breaker);
  const budget = createRetryBudget({ ratio: options.retry.budgetRatio, min: options.retry.budgetMin });
  let authError: SyncError | undefined;
  const max = options.maxBodyLogBytes;
  // Until one response has arrived, requests go one at a time: a wrong key then costs exactly one
  // request (reliability.md H-08) however many operations the run loop starts at once.
  let verified = false;
  let gate: Promise<void> | undefined;
  const passGate = async (signal?: AbortSignal): Promise<(() => void) | undefined> => {
    while (!verified) {
      if (!gate) {
        let open!: () => void;
        gate = new Promise<void>((r) => (open = r));
        return () => {
          gate = undefined;
          open();
        };
      }
      await Promise.race([
        gate,
        new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true })),
      ]);
      if (authError) throw authError;
    }
    return undefined;
  };

  async function reserve(request: Pick<KnockRequest, 'route' | 'tier'>, signal?: AbortSignal): Promise<Reservation> {
    if (authError) throw authError;
    // The gate comes before the rate limiter: a token must be spent when the request really leaves.
    const release = await passGate(signal);
    const probe = await breaker.acquire(signal);
    await limiterOf(request).take(signal);
    return { probe, release };
  }

  // Endpoints Knock closed for longer than retry.maxRetryAfterMs (until, on `clock()`): nothing more is sent
  // to them; their rows fail as RESUME_LATER at once. Kept here rather than in the shared limiter, so no
  // request sleeps for minutes, and a new run (the resume) asks Knock again.
  const closedUntil = new Map<string, number>();
  const blockedMs = (route?: string): number => {
    const t = clock();
    let max = 0;
    for (const [r, until] of closedUntil) if ((route === undefined || r === route) && until - t > max) max = until - t;
    return Math.ceil(max);
  };
  const resumeLater = (request: KnockRequest, status: number | null, requests: number): SendFailure => ({
    ok: false,
    status,
    code: RESUME_LATER,
    message: RESUME_LATER_MESSAGE,
    requests,
    retryAfterMs: blockedMs(request.route),
  });

  /**
   * Honours a 429 for every request of the endpoint: exactly its wait when it gives one; without one, slow
   * down (the rate halves). A wait longer than `retry.maxRetryAfterMs` closes the route instead (resume later).
   */
  const throttleOn = (request: KnockRequest, wait: number | undefined): void => {
    if (wait !== undefined && wait > options.retry.maxRetryAfterMs)
      closedUntil.set(request.route, Math.max(closedUntil.get(request.route) ?? 0, clock() + wait));
    else limiterOf(request).throttled(wait === undefined ? undefined : clock() + wait + 1);
  };

  async function send(request: KnockRequest, ctx: SendContext, reservation?: Reservation): Promise<SendResult> {
    const doubt = { may: false };
    const r = await attempts(request, ctx, reservation, doubt);
    return r.ok || !doubt.may ? r : { ...r, inDoubt: true };
  }

  async function attempts(
    request: KnockRequest,
    ctx: SendContext,
    reservation: Reservation | undefined,
    doubt: { may: boolean },
  ): Promise<SendResult> {
    const body = request.json ?? (request.body === undefined ? undefined : JSON.stringify(request.body));
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      'user-agent': options.userAgent,
      accept: 'application/json',
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    // Knock ignores Idempotency-Key outside workflow triggers, but the official SDK sends one per logical
    // write and keeps it across retries (docs: /api-reference/overview/idempotent-requests); so do we.
    if (request.method !== 'GET') headers['idempotency-key'] = `syncline-${randomUUID()}`;
    const maxAttempts = request.maxAttempts ?? options.retry.maxAttempts;
    let requests = 0;
    let failures = 0;
    let throttles = 0;
    let last: SendFailure | undefined;
    budget.attempt();

    // A stop (`ctx.stop`) ends the waits of a first attempt: a request that has not left is not sent. Retries
    // of a request already sent go on (it may have been applied); only `ctx.signal` cancels them.
    const stopped = (): boolean => ctx.stop?.aborted === true && ctx.signal?.aborted !== true;
    const notSent = (): SendFailure => ({
      ok: false,
      status: null,
      code: NOT_SENT,
      message: '[knock] not sent: the run was stopping',
      requests,
    });
    const firstWait = ctx.stop ? AbortSignal.any(ctx.signal ? [ctx.signal, ctx.stop] : [ctx.stop]) : ctx.signal;

    for (let attempt = 1; ; attempt++) {
      if (authError) throw authError;
      ctx.signal?.throwIfAborted();
      if (attempt === 1 && stopped()) return notSent();
      if (closedUntil.size > 0 && !(attempt === 1 && reservation) && blockedMs(request.route) > 0)
        return resumeLater(request, last?.status ?? null, requests);
      const waitOn = attempt === 1 ? firstWait : ctx.signal;
      let probe: boolean;
      let release: (() => void) | undefined;
      if (attempt === 1 && reservation) ({ probe, release } = reservation);
      else {
        // The gate comes before the rate limiter: a token must be spent when the request really leaves.
        try {
          release = await passGate(waitOn);
        } catch (error) {
          if (attempt === 1 && stopped()) return notSent();
          throw error;
        }
        try {
          probe = await breaker.acquire(waitOn);
        } catch (error) {
          release?.();
          if (attempt === 1 && stopped()) return notSent();
          if (!(error instanceof BreakerOpenError)) throw error;
          // Knock kept failing for longer than breaker.maxWaitMs: give the rows back (they are sent next run).
          return {
            ok: false,
            status: last?.status ?? null,
            code: 'circuit_open',
            message: `[knock] Knock kept failing; gave up after waiting ${Math.round(error.waitedMs / 1000)} s for it to recover`,
            requests,
          };
        }
        try {
          await limiterOf(request).take(waitOn);
        } catch (error) {
          release?.();
          breaker.release(probe);
          if (attempt === 1 && stopped()) return notSent();
          throw error;
        }
      }
      // The endpoint's wait is re-checked as the request leaves: a 429 that arrived after this request's slot
      // was taken (reserved ahead, or queued behind the limiter's chain) holds it too; it queues for a new slot.
      const limiter = limiterOf(request);
      try {
        while (limiter.blockedMs() > 0) await limiter.take(waitOn);
      } catch (error) {
        release?.();
        breaker.release(probe);
        if (attempt === 1 && stopped()) return notSent();
        throw error;
      }
      if (attempt === 1 && stopped()) {
        release?.();
        breaker.release(probe);
        return notSent();
      }
      if (authError) {
        release?.();
        throw authError;
      }
      if (closedUntil.size > 0 && blockedMs(request.route) > 0) {
        // Closed while this request waited for its slot: it is not sent.
        release?.();
        if (probe) breaker.success(probe);
        return resumeLater(request, last?.status ?? null, requests);
      }
      requests += 1;
      ctx.onRequest?.();
      const startedAt = new Date();
      const t0 = performance.now();
      // Built only when someone listens: truncating and redacting 1,000-row bodies is not free.
      const exchange: HttpExchange | undefined = ctx.log && {
        ...(ctx.opId === undefined ? {} : { opId: ctx.opId }),
        method: request.method,
        path: request.path,
        status: null,
        attempt,
        startedAt: startedAt.toISOString(),
        durationMs: 0,
        requestHeaders: redactHeaders(headers),
        ...(body === undefined ? {} : { requestBody: truncate(body, max) }),
      };
      let status: number;
      let text: string;
      let responseHeaders: Record<string, string | string[] | undefined>;
      // undici's own timers tick at ~0.5 s, so the headers deadline is ours (exact); the body and
      // connect timeouts stay undici's (https://undici.nodejs.org/#/docs/api/Client, ClientOptions).
      const headersDeadline = new AbortController();
      const timer = setTimeout(
        () => headersDeadline.abort(timeoutError('UND_ERR_HEADERS_TIMEOUT', options.timeouts.headersMs)),
        options.timeouts.headersMs,
      );
      const signals = [AbortSignal.timeout(options.timeouts.attemptMs), headersDeadline.signal];
      if (ctx.signal) signals.push(ctx.signal);
      try {
        const res = await dispatcher().request({
          origin: base.origin,
          path: prefix + request.path,
          method: request.method,
          headers,
          body: body ?? null,
          headersTimeout: options.timeouts.headersMs,
          bodyTimeout: options.timeouts.bodyMs,
          signal: AbortSignal.any(signals),
        });
        clearTimeout(timer);
        status = res.statusCode;
        responseHeaders = res.headers;
        // A 429 closes the endpoint as soon as its headers arrive, not after its body was read: requests
        // leaving meanwhile would land inside the wait.
        if (status === 429) throttleOn(request, retryAfterMs(responseHeaders));
        // Knock may count a request anywhere between its arrival and its answer. For 1 request/s
        // endpoints (bulk), also keep a full interval after the answer, so a slow answer (a 1,000-row
        // body) cannot squeeze the next request into the same server second.
        const rate = options.tiers[request.tier];
        if (spacedByAnswer(rate)) limiterOf(request).throttled(clock() + 1000 / rate);
        if (status !== 401 && status !== 403) verified = true;
        text = await res.body.text();
      } catch (error) {
        clearTimeout(timer);
        release?.();
        if (exchange) {
          exchange.durationMs = performance.now() - t0;
          exchange.error = redact(describe(error));
          ctx.log!(exchange);
        }
        if (ctx.signal?.aborted) throw ctx.signal.reason;
        breaker.failure(probe);
        doubt.may = true;
        failures += 1;
        const cause = errorCode(error);
        last = { ok: false, status: null, code: 'connection_failed', message: `[knock] request failed: ${cause}`, requests, cause };
        if (failures >= maxAttempts || !budget.tryRetry()) return { ...last, requests };
        await sleep(backoffDelay(failures, options.retry), ctx.signal);
        continue;
      }
      if (exchange) {
        exchange.durationMs = performance.now() - t0;
        exchange.status = status;
        exchange.responseHeaders = redactHeaders(flatten(responseHeaders));
        if (text.length > 0) exchange.responseBody = truncate(text, max);
        ctx.log!(exchange);
      }
      if (status === 401 || status === 403) {
        authError ??= new SyncError('auth_failed', `[knock] the API key was rejected (${status})`, {
          adapter: 'knock',
          details: { status },
        });
      }
      release?.();

      if ((status >= 200 && status < 300) || request.okStatuses?.includes(status)) {
        breaker.success(probe);
        limiterOf(request).succeeded();
        const parsed = parseJson(text);
        if (parsed === INVALID && status !== 204 && text.trim() !== '') {
          // A 2xx whose body is not JSON (a proxy page): the write may have happened; upserts are safe to repeat.
          doubt.may = true;
          failures += 1;
          last = { ok: false, status, code: 'invalid_response', message: `[knock] HTTP ${status} with a body that is not JSON`, requests };
          if (failures >= maxAttempts || !budget.tryRetry()) return { ...last, requests };
          await sleep(backoffDelay(failures, options.retry), ctx.signal);
          continue;
        }
        return { ok: true, status, body: parsed === INVALID ? undefined : parsed, requests };
      }
      const error = errorOf(status, text);
      if (status === 401 || status === 403) {
        breaker.success(probe);
        throw authError!;
      }
      const wait = retryAfterMs(responseHeaders);
      // Knock's SDK checks `x-should-retry` before anything else (knock-api.md §1.6): `false` never retries,
      // `true` retries even a status it would not (401/403 still fail fast: the key is wrong).
      const shouldRetry = header(responseHeaders, 'x-should-retry');
      const noRetry = shouldRetry === 'false';
      last = {
        ok: false,
        status,
        code: error.code,
        message: error.message,
        requests,
        ...(wait === undefined ? {} : { retryAfterMs: wait }),
      };
      if (status === 429) {
        breaker.success(probe);
        throttles += 1;
        if (wait !== undefined && wait > options.retry.maxRetryAfterMs) {
          closedUntil.set(request.route, Math.max(closedUntil.get(request.route) ?? 0, clock() + wait));
          return resumeLater(request, status, requests);
        }
        // The server's wait was applied to the whole endpoint when the headers arrived (throttleOn).
        if (noRetry || throttles >= maxAttempts * 2) return { ...last, code: 'rate_limited', requests };
        if (wait === undefined) await sleep(backoffDelay(throttles, options.retry), ctx.signal);
        continue;
      }
      if (status >= 500 || status === 408) doubt.may = true;
      if ((!isRetryableStatus(status) && shouldRetry !== 'true') || noRetry) {
        breaker.success(probe);
        return last;
      }
      if (status >= 500 || status === 408) breaker.failure(probe);
      else breaker.success(probe);
      failures += 1;
      if (failures >= maxAttempts || !budget.tryRetry()) return last;
      if (wait !== undefined && wait > options.retry.maxRetryAfterMs) {
        closedUntil.set(request.route, Math.max(closedUntil.get(request.route) ?? 0, clock() + wait));
        return resumeLater(request, status, requests);
      }
      await sleep(wait ?? backoffDelay(failures, options.retry), ctx.signal);
    }
  }

  return {
    send,
    reserve,
    breaker,
    budget,
    blockedMs,
    async close() {
      const p = pool;
      pool = undefined;
      await p?.close();
    },
  };
}

const INVALID = Symbol('invalid');

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return INVALID;
  }
}

/** Knock's error body `{code, message, status, type, errors?}` (knock-api.md §1.5), or a stand-in for HTML 502s. */
function errorOf(status: number, text: string): { code: string; message: string } {
  const parsed = parseJson(text);
  if (parsed !== INVALID && parsed && typeof parsed === 'object') {
    const e = parsed as { code?: unknown; message?: unknown; errors?: unknown };
    const details = Array.isArray(e.errors)
      ? e.errors
          .map((x: { field?: unknown; message?: unknown }) =>
            typeof x?.field === 'string' ? `${x.field} ${String(x.message ?? '')}`.trim() : '',
          )
          .filter(Boolean)
          .join('; ')
      : '';
    const code = typeof e.code === 'string' ? e.code : `http_${status}`;
    const message = typeof e.message === 'string' ? e.message : `HTTP ${status}`;
    return { code, message: redact(`[knock] ${message}${details ? ` (${details})` : ''} (HTTP ${status})`) };
  }
  return { code: `http_${status}`, message: `[knock] HTTP ${status}${text.trim() ? ' with a body that is not JSON' : ''}` };
}

function header(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function flatten(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** Truncates a body for the log at `max` bytes (UTF-8) and redacts anything key-like. */
export function truncate(text: string, max: number): string {
  if (text.length * 3 <= max) return redact(text);
  const total = Buffer.byteLength(text, 'utf8');
  if (total <= max) return redact(text);
  const cut = Buffer.from(text.slice(0, max), 'utf8')
    .subarray(0, max)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return `${redact(cut)}…[truncated ${total - Buffer.byteLength(cut, 'utf8')} bytes]`;
}

function timeoutError(code: string, ms: number): Error {
  return Object.assign(new Error(`no response headers within ${ms} ms`), { code, name: 'HeadersTimeoutError' });
}

function errorCode(error: unknown): string {
  if (error && typeof error === 'object') {
    const e = error as { code?: unknown; name?: unknown };
    if (typeof e.code === 'string') return e.code;
    if (typeof e.name === 'string') return e.name;
  }
  return 'unknown';
}

function describe(error: unknown): string {
  return error instanceof Error ? `${errorCode(error)}: ${error.message}` : String(error);
}
