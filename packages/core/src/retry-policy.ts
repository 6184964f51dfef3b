/**
 * Retry timing: full-jitter exponential backoff (AWS Architecture Blog, "Exponential Backoff and
 * Jitter") and `Retry-After` / `retry-after-ms` parsing as Knock's own SDK does it
 * (knocklabs/knock-node `src/client.ts` `retryRequest`).
 */
export interface BackoffOptions {
  baseMs?: number;
  capMs?: number;
  random?: () => number;
}

/**
 * Delay before retry number `attempt` (1-based): uniform in [0, min(cap, base·2^(attempt-1))].
 * @example backoffDelay(3, { baseMs: 500, capMs: 30_000 }) // somewhere in [0, 2000]
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = Math.max(0, options.baseMs ?? 500);
  const cap = Math.max(0, options.capMs ?? 30_000);
  const random = options.random ?? Math.random;
  const n = Number.isFinite(attempt) ? Math.max(0, Math.floor(attempt) - 1) : 0;
  const ceiling = Math.min(cap, base * 2 ** Math.min(n, 1023));
  // A random source outside [0, 1) must not push the delay out of its bounds.
  const r = Math.min(1, Math.max(0, random() || 0));
  return Math.floor(r * ceiling);
}

const NUMBER = /^\d+(\.\d+)?$/;
const DAYS = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTHS = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
// RFC 9110 §5.6.7 HTTP-date: IMF-fixdate, plus the obsolete RFC 850 and asctime forms.
const HTTP_DATE = new RegExp(
  `^(?:${DAYS}, \\d{2} ${MONTHS} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT|(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \\d{2}-${MONTHS}-\\d{2} \\d{2}:\\d{2}:\\d{2} GMT|${DAYS} ${MONTHS} [ \\d]\\d \\d{2}:\\d{2}:\\d{2} \\d{4})$`,
);

/**
 * The wait a server asked for, in ms, or undefined. `retry-after-ms` wins over `retry-after`, which may be
 * seconds or an HTTP date (RFC 9110 §10.2.3); a past date means 0. Anything else is ignored (undefined).
 * The result is always a finite, non-negative integer.
 * @example retryAfterMs({ 'retry-after': '2' }) // 2000
 */
export function retryAfterMs(headers: Record<string, string | string[] | undefined>, now = Date.now()): number | undefined {
  const get = (k: string): string | undefined => {
    const v = headers[k] ?? headers[k.toLowerCase()] ?? findInsensitive(headers, k);
    return (Array.isArray(v) ? v[0] : v)?.trim();
  };
  const ms = get('retry-after-ms');
  if (ms !== undefined && NUMBER.test(ms)) return finite(Math.ceil(Number(ms)));
  const ra = get('retry-after');
  if (ra === undefined) return undefined;
  if (NUMBER.test(ra)) return finite(Math.ceil(Number(ra) * 1000));
  if (!HTTP_DATE.test(ra)) return undefined;
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : finite(Math.max(0, date - now));
}

function finite(n: number): number {
  return Number.isFinite(n) ? n : Number.MAX_SAFE_INTEGER;
}

function findInsensitive(headers: Record<string, string | string[] | undefined>, name: string): string | string[] | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/**
 * Statuses worth retrying: timeouts, conflicts (Knock's SDK retries 409 as a lock timeout), rate limits
 * and server errors.
 * @example isRetryableStatus(503) // true
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}
