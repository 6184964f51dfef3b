import { literal, type FieldSpec, type RowSql, type SyncTarget } from '@syncline/core';
import { SERVER_OWNED_FIELDS } from './field-catalog.js';
import { E164, EMAIL, MAX_CUSTOM_BYTES, catalogOf, isTimeZone } from './validate-row.js';

/**
 * Every test below is a sufficient condition for the JavaScript rule of the same name in validate-row.ts:
 * a value it accepts, `validateRow` accepts too, so only the rows it does not clear need JavaScript. The
 * character classes are ASCII, where RE2 (DuckDB) and JavaScript regular expressions agree, and lengths are
 * then the same in code points (DuckDB) and UTF-16 units (JavaScript).
 */
const full = (v: string, re: RegExp): string => `regexp_full_match(${v}, ${literal(re.source)})`;

/** Ids made of these characters, 1–256 long and not `.`/`..`, pass `idProblem`. */
const ID = /[A-Za-z0-9_.:@|+=~-]+/;
const idSql = (v: string): string => `(length(${v}) BETWEEN 1 AND 256 AND ${full(v, ID)} AND ${v} NOT IN ('.', '..'))`;
/** A 2–3 letter language with an optional region is a well-formed BCP-47 tag. */
const LOCALE = /[a-z]{2,3}(-[A-Z]{2})?/;
/** Days 01–28 exist in every month; other dates, leap seconds and offsets are left to JavaScript. */
const ISO = /\d{4}-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])(T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?Z)?/;

let zoneList: string | undefined;
/** The canonical IANA zones and the common UTC aliases, each checked by the JavaScript rule itself. */
const zonesSql = (): string =>
  (zoneList ??= [...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC', 'GMT', 'Etc/GMT'].filter(isTimeZone).map(literal).join(', '));

const RULE_SQL: Partial<Record<NonNullable<FieldSpec['rule']>, (v: string) => string>> = {
  email: (v) => `(length(${v}) <= 254 AND ${full(v, EMAIL)})`,
  e164: (v) => full(v, E164),
  // list_contains, not IN: DuckDB evaluates an IN of ~430 constants as a chain of comparisons (60× slower).
  timezone: (v) => `list_contains([${zonesSql()}], ${v})`,
  locale: (v) => full(v, LOCALE),
  iso8601: (v) => full(v, ISO),
  id: idSql,
  // url: WHATWG URL parsing (IPv4 hosts, punycode) has no short sufficient pattern; JavaScript checks it.
};

/** Column types whose JSON value is a string (projection.ts turns dates and timestamps into ISO text). */
const TEXT = /^(VARCHAR|DATE|TIMESTAMP.*)$/i;

/**
 * The SQL twin of `validateRow` used by large dry runs: TRUE only for rows `validateRow` accepts.
 * @example validRowSql({ type: 'users' }, rowSql('id', { email: 'email' }, columns))
 */
export function validRowSql(target: Pick<SyncTarget, 'type'>, row: RowSql): string {
  const catalog = catalogOf(target.type);
  const tests = [idSql(row.key)];
  let custom = false;
  for (const f of row.fields) {
    // A mapped server-owned field is an issue unless it equals the key: JavaScript decides, row by row.
    if (SERVER_OWNED_FIELDS.has(f.name)) return 'FALSE';
    const spec = catalog.get(f.name);
    if (!spec || spec.name === '*') {
      custom = true;
      continue;
    }
    // A null is skipped; a value that is not a JSON string is a type issue.
    const rule = spec.rule ? RULE_SQL[spec.rule] : undefined;
    const ok = !TEXT.test(f.type) ? 'FALSE' : !spec.rule ? 'TRUE' : rule ? rule(f.value) : 'FALSE';
    if (ok !== 'TRUE') tests.push(`(${f.value} IS NULL OR ${ok})`);
  }
  // JSON.stringify of the custom properties takes at most 24 bytes per byte of DuckDB's payload text
  // (a control character becomes \u001f, a number at most 24 characters).
  if (custom) tests.push(`strlen(${row.payload}) * 24 <= ${MAX_CUSTOM_BYTES}`);
  return tests.join(' AND ');
}
