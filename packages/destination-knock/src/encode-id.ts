/**
 * Path-segment encoding for Knock ids. Knock ids travel as path segments
 * (https://docs.knock.app/concepts/users "User identifiers": ≤ 256 chars, no `/` or `#`), and the
 * official SDK percent-encodes them and refuses `.`/`..` segments (knocklabs/knock-node
 * `src/internal/utils/path.ts`), because a URL parser would resolve those and change the endpoint.
 */

/** Why an id cannot be used, or undefined when it can. The message never contains the id. */
export function idProblem(id: unknown): string | undefined {
  if (typeof id !== 'string') return 'must be a string';
  if (id.length === 0) return 'must not be empty';
  if (id.length > 256) return 'must be at most 256 characters';
  if (id.includes('/') || id.includes('#')) return 'must not contain "/" or "#"';
  if (id === '.' || id === '..') return 'must not be "." or ".."';
  if (/[\u0000-\u001f\u007f]/.test(id)) return 'must not contain control characters';
  if (!isWellFormed(id)) return 'must be valid Unicode';
  return undefined;
}

/**
 * Percent-encodes one path segment so it can never change the endpoint: everything outside the RFC 3986
 * unreserved set is encoded (including `/`, `?`, `#`, `%`, `.` stays readable but `.`/`..` are rejected).
 * @example encodeId('user 1') // 'user%201'
 * @throws TypeError for `.`/`..` and lone surrogates, which have no safe encoding.
 */
export function encodeId(id: string): string {
  if (id === '.' || id === '..' || id === '') throw new TypeError('[knock] id cannot be used as a path segment');
  if (!isWellFormed(id)) throw new TypeError('[knock] id is not valid Unicode');
  return encodeURIComponent(id).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function isWellFormed(s: string): boolean {
  // String.prototype.isWellFormed arrives in Node 20; keep a fallback for older runtimes.
  const f = (s as { isWellFormed?: () => boolean }).isWellFormed;
  if (f) return f.call(s);
  try {
    encodeURIComponent(s);
    return true;
  } catch {
    return false;
  }
}
