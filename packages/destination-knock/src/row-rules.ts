import { literal, type FieldSpec } from '@syncline/core';
import { idProblem } from './encode-id.js';

/**
 * Knock's rules for field values, stated once: `validateRow` runs each rule's `test` on every value, and
 * `validRowSql` (large dry runs) uses its `sql`, a sufficient condition of the same rule: a value the SQL
 * accepts, `test` accepts too, so only rows the SQL does not clear need JavaScript. Character classes in SQL
 * are ASCII, where RE2 (DuckDB) and JavaScript regular expressions agree, and lengths are then the same in
 * code points (DuckDB) and UTF-16 units (JavaScript). row-rules.test.ts checks both sides on samples.
 */
export interface RowRule {
  /** The rule itself, on a string value. */
  test: (value: string) => boolean;
  /** What a failing value is not, after the field name: `email is not a valid email address`. */
  message: string;
  /** A SQL test of the DuckDB expression `v` that implies `test`; absent: JavaScript checks every value. */
  sql?: (v: string) => string;
}

/** A recipient's custom properties must total ≤ 256 kB (https://docs.knock.app/managing-recipients/identifying-recipients). */
export const MAX_CUSTOM_BYTES = 256 * 1024;

// Pragmatic email syntax (WHATWG `input type=email`), not RFC 5322: local@domain with a dotted or single-label domain.
export const EMAIL =
  /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
// E.164: '+', country code 1-9, at most 15 digits (ITU-T E.164; Knock: "phone_number … E.164").
export const E164 = /^\+[1-9]\d{1,14}$/;
// ISO-8601 date or date-time, optionally with fraction and offset.
const ISO8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

let zones: Set<string> | undefined;

/** True for an IANA time zone name that Node's ICU knows (canonical names, aliases such as `UTC`). */
export function isTimeZone(value: string): boolean {
  return memo(timeZoneVerdicts, value, checkTimeZone);
}

function checkTimeZone(value: string): boolean {
  zones ??= new Set(Intl.supportedValuesOf('timeZone'));
  if (zones.has(value)) return true;
  // supportedValuesOf lists canonical zones only; aliases (UTC, Etc/GMT+1, US/Pacific) pass DateTimeFormat.
  // Offsets like "+01:00" are not tz-database names, so require a name shape first.
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/.test(value)) return false;
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

// A model has few distinct time zones and locales but many rows; constructing an Intl object per row
// (an alias such as "UTC" is not in supportedValuesOf) cost ~25 µs each. Verdicts are cached, bounded.
const timeZoneVerdicts = new Map<string, boolean>();
const localeVerdicts = new Map<string, boolean>();
function memo(cache: Map<string, boolean>, value: string, check: (v: string) => boolean): boolean {
  let v = cache.get(value);
  if (v === undefined) {
    if (cache.size >= 10_000) cache.clear();
    cache.set(value, (v = check(value)));
  }
  return v;
}

/** True for a well-formed BCP-47 language tag. */
export function isLocale(value: string): boolean {
  return memo(localeVerdicts, value, checkLocale);
}

function checkLocale(value: string): boolean {
  if (value.length === 0) return false;
  try {
    return Intl.getCanonicalLocales(value).length === 1;
  } catch {
    return false;
  }
}

/** True for an ISO-8601 date or date-time that denotes a real instant. */
export function isIso8601(value: string): boolean {
  const m = ISO8601.exec(value);
  if (!m) return false;
  const [, y, mo, d, h = '00', mi = '00', s = '00'] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1) return false;
  const dim = new Date(Date.UTC(Number(y), month, 0)).getUTCDate();
  return day <= dim && Number(h) <= 23 && Number(mi) <= 59 && Number(s) <= 60;
}

function isUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

/** `regexp_full_match` of the same pattern as JavaScript's (RE2 accepts its `^…$` anchors too). */
const full = (v: string, re: RegExp): string => `regexp_full_match(${v}, ${literal(re.source)})`;

/** Ids made of these characters, 1–256 long and not `.`/`..`, pass `idProblem`. */
const ID = /[A-Za-z0-9_.:@|+=~-]+/;
/** A 2–3 letter language with an optional region is a well-formed BCP-47 tag. */
const LOCALE = /[a-z]{2,3}(-[A-Z]{2})?/;
/** Days 01–28 exist in every month; other dates, leap seconds and offsets are left to JavaScript. */
const ISO = /\d{4}-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])(T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?Z)?/;

let zoneList: string | undefined;
/** The canonical IANA zones and the common UTC aliases, each checked by the JavaScript rule itself. */
const zonesSql = (): string =>
  (zoneList ??= [...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC', 'GMT', 'Etc/GMT'].filter(isTimeZone).map(literal).join(', '));

/** The SQL test of a Knock id (a key or an id field). */
export const idSql = (v: string): string => `(length(${v}) BETWEEN 1 AND 256 AND ${full(v, ID)} AND ${v} NOT IN ('.', '..'))`;

/** Every rule of the field catalog (`FieldSpec['rule']`), by name. */
export const ROW_RULES: Record<NonNullable<FieldSpec['rule']>, RowRule> = {
  email: {
    test: (v) => v.length <= 254 && EMAIL.test(v),
    message: 'is not a valid email address',
    sql: (v) => `(length(${v}) <= 254 AND ${full(v, EMAIL)})`,
  },
  e164: { test: (v) => E164.test(v), message: 'is not an E.164 phone number (e.g. +33123456789)', sql: (v) => full(v, E164) },
  timezone: {
    test: isTimeZone,
    message: 'is not an IANA time zone (e.g. Europe/Paris)',
    // list_contains, not IN: DuckDB evaluates an IN of ~430 constants as a chain of comparisons (60× slower).
    sql: (v) => `list_contains([${zonesSql()}], ${v})`,
  },
  locale: { test: isLocale, message: 'is not a BCP-47 locale (e.g. en-US)', sql: (v) => full(v, LOCALE) },
  iso8601: { test: isIso8601, message: 'is not an ISO-8601 date-time', sql: (v) => full(v, ISO) },
  // url: WHATWG URL parsing (IPv4 hosts, punycode) has no short sufficient pattern; JavaScript checks it.
  url: { test: isUrl, message: 'is not an http(s) URL' },
  id: { test: (v) => idProblem(v) === undefined, message: 'is not a valid Knock id', sql: idSql },
};
