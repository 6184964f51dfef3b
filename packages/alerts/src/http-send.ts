import { retryAfterMs } from '@syncline/core';
import { DeliveryError } from './delivery-error.js';

/** How channels reach the network: the global `fetch` by default; tests and proxies may pass their own. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** Per attempt: a receiver that hangs must not hold the run's process for long. */
const ATTEMPT_TIMEOUT_MS = 10_000;

/**
 * Sends one request and returns the response status, or throws a {@link DeliveryError} that names only the
 * status or the kind of network error (the URL may be the secret, as with Slack webhooks).
 * @example await httpSend({ url, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
 */
export async function httpSend(request: {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
  fetch?: FetchLike | undefined;
  signal?: AbortSignal | undefined;
}): Promise<number> {
  const timeout = AbortSignal.timeout(ATTEMPT_TIMEOUT_MS);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await (request.fetch ?? fetch)(request.url, { method: request.method, headers: request.headers, body: request.body, signal });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause;
    const kind = timeout.aborted ? 'timed out' : (cause?.code ?? (e as Error).name ?? 'network error');
    throw new DeliveryError(`request failed: ${kind}`, { retryable: !request.signal?.aborted });
  }
  // Drain the body so the connection is reused; its text is not reported (receivers may echo secrets).
  await res.arrayBuffer().catch(() => undefined);
  if (res.ok) return res.status;
  const s = res.status;
  throw new DeliveryError(`HTTP ${s}`, {
    status: s,
    retryable: s === 408 || s === 429 || s >= 500,
    retryAfterMs: retryAfterMs(Object.fromEntries(res.headers)),
  });
}
