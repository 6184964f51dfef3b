import { api, call } from './api.js';

/** The model wrapped as a subquery (a trailing `;` or `-- comment` cannot swallow the closing parenthesis). */
export const asSubquery = (sql: string): string => `(\n${sql.trim().replace(/;\s*$/, '')}\n) as model`;

/** A SQL identifier, quoted. */
export const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** A name as it would be typed into SQL: bare when it is a plain lower-case identifier, else quoted. */
export const sqlName = (name: string): string => (/^[a-z_][a-z0-9_]*$/.test(name) ? name : ident(name));

/** The model's columns, from running it with `limit 0` in the server's sandbox. */
export async function modelColumns(sql: string): Promise<{ name: string; type: string }[]> {
  return (await call(api.query.$post({ json: { sql, limit: 0 } }))).columns;
}

/** Null and duplicate counts of the key column over the whole model (in DuckDB, not a sample). */
export async function keyHealth(sql: string, key: string): Promise<{ rows: number; nulls: number; duplicates: number }> {
  const k = ident(key);
  const r = await call(
    api.query.$post({
      json: {
        sql: `select count(*) as n, count(*) filter (where ${k} is null) as nulls, count(${k}) - count(distinct ${k}) as duplicates from ${asSubquery(sql)}`,
        limit: 1,
      },
    }),
  );
  const row = r.rows[0] ?? {};
  return { rows: Number(row.n ?? 0), nulls: Number(row.nulls ?? 0), duplicates: Number(row.duplicates ?? 0) };
}

const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
/** Column names that commonly carry a Knock field, besides the field's own name. */
const ALIASES: Record<string, string[]> = {
  name: ['fullname', 'displayname'],
  email: ['emailaddress', 'mail'],
  phone_number: ['phone', 'mobile', 'phonenumber'],
  timezone: ['tz', 'timezone'],
  locale: ['language', 'lang'],
  avatar: ['avatarurl', 'photo', 'pictureurl'],
  created_at: ['createdat', 'signupdate', 'signedupat'],
};

/**
 * Suggested mappings by name, case- and punctuation-insensitive (`Email_Address` → `email`), for the fields
 * not mapped yet; the key column is never suggested.
 */
export function suggestMappings(fields: string[], columns: string[], mapped: Record<string, string>, key: string): Record<string, string> {
  const out: Record<string, string> = {};
  const used = new Set([...Object.values(mapped), key]);
  for (const f of fields) {
    if (mapped[f]) continue;
    const wanted = [norm(f), ...(ALIASES[f] ?? [])];
    const col = columns.find((c) => !used.has(c) && wanted.includes(norm(c)));
    if (col) {
      out[f] = col;
      used.add(col);
    }
  }
  return out;
}
