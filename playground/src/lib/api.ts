import { hc, type ClientResponse } from 'hono/client';
import type { AppType } from '@syncline/server';

/**
 * Hono's typed client over the server's own routes: the UI and the API share one set of types, so they
 * cannot drift apart. Same origin only; the access token travels in the cookie `syncline serve` set.
 */
export const api = hc<AppType>(location.origin).api;

/** An API failure with the server's error code and message (and `line`/`column` for SQL errors). */
export class ApiFailure extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: Record<string, unknown>;
  constructor(status: number, code: string, message: string, details: Record<string, unknown>) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** The body of a route's 2xx answer, from the server's own types. */
export type Success<R> = R extends ClientResponse<infer T, infer S, string> ? (S extends 200 | 201 | 202 ? T : never) : never;

/**
 * Awaits a typed client call and returns its JSON body, or throws an {@link ApiFailure} carrying the
 * server's `{ error: { code, message } }` (a network failure says so in words).
 * @example const { tables } = await call(api.tables.$get());
 */
export async function call<R extends ClientResponse<unknown, number, string>>(request: Promise<R>): Promise<Success<R>> {
  let res: R;
  try {
    res = await request;
  } catch {
    throw new ApiFailure(0, 'network', 'The Syncline server does not answer: is `syncline serve` still running?', {});
  }
  const body = (await res.json().catch(() => ({}))) as unknown;
  if (!res.ok) {
    const error = (body as { error?: { code?: string; message?: string } & Record<string, unknown> }).error ?? {};
    const hint = res.status === 401 ? ' Open the URL that `syncline serve` printed (it carries the access token).' : '';
    throw new ApiFailure(res.status, error.code ?? 'http_error', (error.message ?? `HTTP ${res.status}`) + hint, error);
  }
  return body as Success<R>;
}
