import { KnockHttpError } from './knock-http-error.js';
import type { KnockSwitches } from './options.js';

/** `PageInfo` (reference §6). */
export interface PageInfo {
  __typename: 'PageInfo';
  page_size: number;
  after: string | null;
  before: string | null;
  total_count?: number;
}

const encode = (id: string): string => Buffer.from(id, 'utf8').toString('base64url');
const decode = (cursor: string): string => Buffer.from(cursor, 'base64url').toString('utf8');

/**
 * Reads and checks `page_size` (1–50, default 50; out of range: 422 or clamp, a switch, §6).
 * @example pageSize(undefined, switches) // 50
 */
export function pageSize(raw: string | undefined, switches: KnockSwitches): number {
  if (raw === undefined || raw === '') return 50;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= 1 && n <= 50) return n;
  if (switches.pageSizeOutOfRange === 'clamp' && Number.isFinite(n)) return Math.min(50, Math.max(1, Math.trunc(n)));
  throw KnockHttpError.invalid([{ field: 'page_size', message: 'must be an integer between 1 and 50', type: 'number' }]);
}

/**
 * Cursor pagination over records ordered by id. Cursors are opaque (base64url of an id), so they stay
 * valid when records are added or removed; `after` is null on the last page (§6).
 * @example paginate(users, r => r.id, { page_size: '2' }, switches)
 */
export function paginate<T>(
  items: Iterable<T>,
  idOf: (item: T) => string,
  query: { after?: string | undefined; before?: string | undefined; page_size?: string | undefined },
  switches: KnockSwitches,
): { entries: T[]; page_info: PageInfo } {
  const size = pageSize(query.page_size, switches);
  const sorted = [...items].sort((a, b) => (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0));
  let start = 0;
  let end: number;
  if (query.after) {
    const after = decode(query.after);
    start = sorted.findIndex((item) => idOf(item) > after);
    if (start < 0) start = sorted.length;
    end = Math.min(sorted.length, start + size);
  } else if (query.before) {
    const before = decode(query.before);
    end = sorted.findIndex((item) => idOf(item) >= before);
    if (end < 0) end = sorted.length;
    start = Math.max(0, end - size);
  } else {
    end = Math.min(sorted.length, size);
  }
  const entries = sorted.slice(start, end);
  const last = entries[entries.length - 1];
  const first = entries[0];
  const page_info: PageInfo = {
    __typename: 'PageInfo',
    page_size: size,
    after: end < sorted.length && last !== undefined ? encode(idOf(last)) : null,
    before: start > 0 && first !== undefined ? encode(idOf(first)) : null,
  };
  if (switches.totalCount) page_info.total_count = Math.min(sorted.length, 10_000);
  return { entries, page_info };
}
