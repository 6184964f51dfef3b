import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TextDecoder } from 'node:util';
import { KNOCK_ENDPOINTS } from '@syncline/knock-wire';
import { BodyArena, type BodyRegion } from './body-arena.js';
import { bulkOperationJson, type BulkOperationRecord } from './bulk-operation.js';
import { compileCheck } from './compiled-check.js';
import { authenticate, fastPathOpen, logRequest } from './create-emulator.js';
import { isPlainObject, type JsonObject } from './deep-merge.js';
import type { EmulatorState } from './emulator-state.js';
import type { Environment } from './environment.js';
import { shouldRetryValue } from './fault-response.js';
import { KnockHttpError } from './knock-http-error.js';
import { pollBulkOperation } from './routes/bulk-operations.js';
import { bulkIdentify, checkBulkIdentify, type CheckedUsers } from './routes/users.js';

/** Decodes a leading byte-order mark away, as the adapter's `text()` does. */
const BOM_DECODER = new TextDecoder();

/**
 * A body as text, exactly as the node-server adapter's `text()` (a default TextDecoder: UTF-8, BOM
 * dropped, invalid bytes replaced by U+FFFD per the WHATWG decoder, as V8's `toString` does too)
 * decodes it; `toString` is faster for a body without a BOM.
 */
function utf8({ buf, start, end }: BodyRegion): string {
  return end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf
    ? BOM_DECODER.decode(buf.subarray(start, end))
    : buf.toString('utf8', start, end);
}

/** A node:http request listener. */
export type Listener = (req: IncomingMessage, res: ServerResponse) => void;

const IDENTIFY_PATH = '/v1/users/bulk/identify';
const IDENTIFY_ROUTE = 'POST /v1/users/bulk/identify';
const POLL_PREFIX = '/v1/bulk_operations/';
const POLL_ROUTE = 'GET /v1/bulk_operations/{id}';
/** The app's `onError` body for an unexpected error. */
const INTERNAL_ERROR = { code: 'internal_server_error', message: 'An internal error occurred', status: 500, type: 'api_error' };
/** A bulk-operation id the router would pass on unchanged (nothing to percent-decode, no query). */
const PLAIN_ID = /^[A-Za-z0-9_-]+$/;
/** A Host header the node-server adapter puts into the request URL as it is. */
const PLAIN_HOST = /^[A-Za-z0-9.-]+(?::[0-9]{1,5})?$/;
/** knock-wire's bulk identify body schema, compiled (compiled-check.ts); Hono's route parses with zod itself. */
const validBulkIdentify = compileCheck(KNOCK_ENDPOINTS.bulkIdentifyUsers.body);

/**
 * The emulator's request listener: `POST /v1/users/bulk/identify` and `GET /v1/bulk_operations/{id}`
 * (the throughput path, bench/emulator.ts) are served straight from node:http, everything else by the
 * Hono app through `hono` (the @hono/node-server listener). The node-server adapter's Request/Response
 * objects, Hono's routing and middleware cost ~0.1–0.2 ms per request, a tenth of a whole bulk identify.
 *
 * Nothing differs for a client or in the request log: the fast path runs the same steps the Hono route
 * wrapper runs when no fault and no rate limit is in play — authentication ({@link authenticate}), then
 * the route's own functions ({@link checkBulkIdentify}/{@link bulkIdentify}, {@link pollBulkOperation}) —
 * writes the same headers (`content-type`, `x-request-id`, `Content-Length`) and logs through the same
 * {@link logRequest}. It only answers successes: whenever the wrapper would do more
 * ({@link fastPathOpen} closed: faults, rate limits) and for every request that fails authentication,
 * parsing or validation (which change nothing), the request goes to Hono, with the body already read
 * handed over as `rawBody` (which the adapter reads instead of the stream), so Hono answers the error.
 * @example createServer(fastPath(state, getRequestListener(app.fetch)))
 */
export function fastPath(state: EmulatorState, hono: (req: IncomingMessage, res: ServerResponse) => unknown): Listener {
  const arena = new BodyArena();
  let lastHost: string | undefined;
  let lastBase = '';

  /** The `progress_path` base that `baseUrl()` would derive from this Host; undefined: leave the request to Hono. */
  const progressBase = (host: string | undefined): string | undefined => {
    if (state.options.switches.progressPath !== 'absolute') return '';
    if (host === lastHost) return lastBase;
    if (host === undefined || !PLAIN_HOST.test(host)) return undefined;
    let url: URL;
    try {
      url = new URL(`http://${host}/`);
    } catch {
      return undefined;
    }
    lastHost = host;
    lastBase = `${url.protocol}//${url.host}`;
    return lastBase;
  };

  /** The request's environment, or undefined when authentication fails (Hono then answers 401/403). */
  const environment = (req: IncomingMessage): Environment | undefined => {
    try {
      return authenticate(state, req.headers.authorization);
    } catch {
      return undefined;
    }
  };

  const reply = (
    req: IncomingMessage,
    res: ServerResponse,
    start: number,
    route: string,
    env: Environment,
    status: number,
    json: string,
    body: unknown,
    extra?: Record<string, string>,
  ): void => {
    const requestId = randomUUID();
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'x-request-id': requestId, ...extra };
    headers['Content-Length'] = Buffer.byteLength(json);
    // Only an error thrown after validation gets here with a status ≥ 400 (answered as the app's onError would).
    if (status >= 400 && state.options.shouldRetryHeader) headers['x-should-retry'] = shouldRetryValue(status)!;
    res.writeHead(status, headers);
    res.end(json);
    const path = req.url!;
    const idempotencyKey = req.headers['idempotency-key'];
    logRequest(state, start, {
      method: req.method!,
      path,
      query: '',
      route,
      status,
      contentLength: req.headers['content-length'],
      requestId,
      environment: env.id,
      idempotencyKey: typeof idempotencyKey === 'string' ? idempotencyKey : null,
      fault: null,
      body,
    });
  };

  const replyJob = (
    req: IncomingMessage,
    res: ServerResponse,
    start: number,
    route: string,
    env: Environment,
    base: string,
    job: () => BulkOperationRecord,
    body: unknown,
  ): void => {
    let json: string;
    try {
      json = JSON.stringify(bulkOperationJson(job(), base));
    } catch (error) {
      if (error instanceof KnockHttpError)
        reply(req, res, start, route, env, error.status, JSON.stringify(error.body), body, error.headers);
      else reply(req, res, start, route, env, 500, JSON.stringify(INTERNAL_ERROR), body);
      return;
    }
    reply(req, res, start, route, env, 200, json, body);
  };

  const identify = (req: IncomingMessage, res: ServerResponse): void => {
    const start = performance.now();
    const base = progressBase(req.headers.host);
    const env = base === undefined ? undefined : environment(req);
    if (base === undefined || env === undefined) {
      void hono(req, res);
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    let settled = false;
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
    });
    const fail = (): void => {
      // The body stream failed: Hono meets the same failure when it reads the body.
      if (settled) return;
      settled = true;
      void hono(req, res);
    };
    req.once('error', fail);
    req.once('close', fail);
    req.once('end', () => {
      if (settled) return;
      settled = true;
      // The body goes straight into the arena (no Buffer of its own), unless it is large.
      const region = arena.hold(chunks, length) ?? { buf: Buffer.concat(chunks, length), start: 0, end: length };
      const text = utf8(region);
      const ctx = { env, state };
      let value: unknown;
      let checked: CheckedUsers;
      try {
        value = text.length === 0 ? undefined : JSON.parse(text);
        if (!isPlainObject(value) || !validBulkIdentify(value)) throw new TypeError('not a valid bulk identify body');
        checked = checkBulkIdentify(ctx, value, true);
      } catch {
        // Invalid JSON or params (nothing changed yet): Hono parses the same bytes and answers the error.
        (req as IncomingMessage & { rawBody?: Buffer }).rawBody = Buffer.concat(chunks, length);
        arena.release(region);
        void hono(req, res);
        return;
      }
      chunks.length = 0;
      const { reparse, release } = kept(arena, region);
      replyJob(req, res, start, IDENTIFY_ROUTE, env, base, () => bulkIdentify(ctx, checked, text.length, reparse, release), value);
    });
  };

  const poll = (req: IncomingMessage, res: ServerResponse, id: string): void => {
    const start = performance.now();
    const base = progressBase(req.headers.host);
    const env = base === undefined ? undefined : environment(req);
    // An unknown id is Hono's 404.
    if (base === undefined || env === undefined || !env.bulkOperations.has(id)) {
      void hono(req, res);
      return;
    }
    replyJob(req, res, start, POLL_ROUTE, env, base, () => pollBulkOperation({ env, state }, id)!, undefined);
  };

  return (req, res) => {
    const url = req.url;
    if (req.method === 'POST' && url === IDENTIFY_PATH) {
      if (fastPathOpen(state)) return identify(req, res);
    } else if (req.method === 'GET' && url?.startsWith(POLL_PREFIX) && PLAIN_ID.test(url.slice(POLL_PREFIX.length))) {
      if (fastPathOpen(state)) return poll(req, res, url.slice(POLL_PREFIX.length));
    }
    void hono(req, res);
  };
}

/**
 * A bulk identify body kept for its job: `reparse` parses its `users` again (only if the eager merge is
 * rolled back), `release` gives the bytes back to the arena. Built outside the request's closures, so
 * that the job keeps nothing of the request alive.
 */
function kept(arena: BodyArena, region: BodyRegion): { reparse: () => JsonObject[]; release: () => void } {
  return {
    reparse: () => (JSON.parse(utf8(region)) as { users: JsonObject[] }).users,
    release: () => arena.release(region),
  };
}
