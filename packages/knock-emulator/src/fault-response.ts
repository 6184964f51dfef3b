import type { Context } from 'hono';
import type { AppEnv } from './app-types.js';
import type { RateLimitHeaderMode } from './options.js';

const HTML_TITLES: Record<number, string> = { 502: 'Bad Gateway', 503: 'Service Temporarily Unavailable', 504: 'Gateway Time-out' };

const CODES: Record<number, [string, string]> = {
  400: ['bad_request', 'Bad request'],
  408: ['request_timeout', 'The request timed out'],
  409: ['conflict', 'The request conflicts with another request'],
  422: ['invalid_params', 'One or more parameters are invalid'],
  500: ['internal_server_error', 'An internal error occurred'],
};

/**
 * Headers that tell a client when to retry a 429 (mode is a switch: Knock's real headers are
 * UNCONFIRMED, reference §1.6; the SDK obeys `retry-after-ms` first, then `retry-after`).
 */
export function retryHeaders(mode: RateLimitHeaderMode, waitMs: number): Record<string, string> {
  if (mode === 'retry-after') return { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) };
  // An HTTP date has whole seconds: round up, so the advertised time is never earlier than the real one.
  if (mode === 'retry-after-date')
    return { 'retry-after': new Date(Math.ceil((Date.now() + Math.max(1, waitMs)) / 1000) * 1000).toUTCString() };
  if (mode === 'retry-after-ms') return { 'retry-after-ms': String(Math.max(1, Math.ceil(waitMs))) };
  return {};
}

/**
 * `x-should-retry` for an error status, as Knock's SDK would decide without the header (it retries 408,
 * 409, 429 and ≥ 500: knock-node `src/client.ts shouldRetry`); undefined below 400.
 */
export function shouldRetryValue(status: number): 'true' | 'false' | undefined {
  if (status < 400) return undefined;
  return status === 408 || status === 409 || status === 429 || status >= 500 ? 'true' : 'false';
}

/** The body of a 429 in the common error shape (`code` is the `rateLimitCode` switch). */
export function rateLimitBody(code: string): Record<string, unknown> {
  return { code, message: 'Rate limit exceeded, please retry later', status: 429, type: 'api_error' };
}

/**
 * The response of an injected status fault: 502/503/504 answer HTML like a load balancer would
 * ([GO-legacy] handles non-JSON ELB errors), everything else the common JSON error shape.
 */
export function faultResponse(
  c: Context<AppEnv>,
  status: number,
  options: {
    mode: RateLimitHeaderMode;
    rateLimitCode: string;
    retryAfterMs?: number | undefined;
    body?: string | undefined;
    shouldRetry?: boolean | undefined;
  },
): Response {
  const s = status as 500;
  if (options.shouldRetry !== undefined) c.header('x-should-retry', String(options.shouldRetry));
  if (status === 429) {
    for (const [k, v] of Object.entries(retryHeaders(options.mode, options.retryAfterMs ?? 1000))) c.header(k, v);
    return options.body !== undefined
      ? c.body(options.body, s, { 'content-type': 'application/json' })
      : c.json(rateLimitBody(options.rateLimitCode), s);
  }
  const title = HTML_TITLES[status];
  if (title) {
    const text =
      options.body ??
      `<html>\r\n<head><title>${status} ${title}</title></head>\r\n<body>\r\n<center><h1>${status} ${title}</h1></center>\r\n</body>\r\n</html>\r\n`;
    return c.body(text, s, { 'content-type': 'text/html' });
  }
  if (options.body !== undefined) return c.body(options.body, s, { 'content-type': 'application/json' });
  const [code, message] = CODES[status] ?? ['injected_fault', `Injected fault ${status}`];
  return c.json({ code, message, status, type: status >= 500 ? 'api_error' : 'invalid_request_error' }, s);
}
