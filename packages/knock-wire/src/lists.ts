import { z } from 'zod';

/** Cursor info of a list response (OpenAPI `PageInfo`, knock-api.md §6). */
export const PageInfo = z.object({
  __typename: z.literal('PageInfo'),
  page_size: z.int(),
  after: z.string().nullable().optional(),
  before: z.string().nullable().optional(),
});

/**
 * A list response `{entries, page_info}` of the given entry schema (users, objects, tenants, members).
 * @example const ListUsersResponse = listOf(User)
 */
export function listOf<T extends z.ZodType>(entry: T) {
  return z.object({ entries: z.array(entry), page_info: PageInfo });
}

/** An integer query value: query values travel as text. */
export const QueryInt = z.string().regex(/^-?\d+$/, 'must be an integer');
/** A boolean query value. */
export const QueryBoolean = z.enum(['true', 'false']);

/** Cursor query parameters (`after`, `before`, `page_size` 1–50, knock-api.md §6). */
export const PageQuery = { after: z.string().optional(), before: z.string().optional(), page_size: QueryInt.optional() };
