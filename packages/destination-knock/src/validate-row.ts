import type { FieldSpec, Row, RowIssue, SyncTarget } from '@syncline/core';
import { idProblem } from './encode-id.js';
import { fieldCatalog, SERVER_OWNED_FIELDS } from './field-catalog.js';

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

const RULES: Record<string, { test: (v: string) => boolean; message: string }> = {
  email: { test: (v) => v.length <= 254 && EMAIL.test(v), message: 'is not a valid email address' },
  e164: { test: (v) => E164.test(v), message: 'is not an E.164 phone number (e.g. +33123456789)' },
  timezone: { test: isTimeZone, message: 'is not an IANA time zone (e.g. Europe/Paris)' },
  locale: { test: isLocale, message: 'is not a BCP-47 locale (e.g. en-US)' },
  iso8601: { test: isIso8601, message: 'is not an ISO-8601 date-time' },
  url: { test: isUrl, message: 'is not an http(s) URL' },
  id: { test: (v) => idProblem(v) === undefined, message: 'is not a valid Knock id' },
};

const catalogs = new Map<SyncTarget['type'], Map<string, FieldSpec>>();
/** The field catalog of a target type by field name (built once per type). */
export const catalogOf = (type: SyncTarget['type']): Map<string, FieldSpec> => {
  let c = catalogs.get(type);
  if (!c) catalogs.set(type, (c = new Map(fieldCatalog({ type }).map((f) => [f.name, f]))));
  return c;
};

/**
 * An upper bound of the UTF-8 size of `JSON.stringify(record)` for a record of strings, numbers, booleans
 * and nulls (NaN when it holds anything else): a UTF-16 unit takes at most 6 bytes in JSON (`\u001f`),
 * a number at most 24 characters. It spares nearly every row a stringify just to learn that it is small.
 */
function jsonBytesAtMost(record: Record<string, unknown>): number {
  let n = 2;
  for (const key in record) {
    const v = record[key];
    n += 6 * key.length + 4;
    if (typeof v === 'string') n += 6 * v.length + 2;
    else if (typeof v === 'number' || typeof v === 'boolean' || v === null) n += 24;
    else return NaN;
  }
  return n;
}

/**
 * Validates one mapped row against the target's field catalog. Returns one issue per bad field; messages
 * name the field and the rule, never the value.
 * @example validateRow({ key: 'u1', payload: { email: 'nope' } }, target) // [{ field: 'email', rule: 'email', … }]
 */
export function validateRow(row: Row, target: Pick<SyncTarget, 'type'>): RowIssue[] {
  const issues: RowIssue[] = [];
  const issue = (field: string, rule: string, message: string): void => {
    issues.push({ key: row.key, field, rule, message: `${field} ${message}` });
  };
  const keyProblem = idProblem(row.key);
  if (keyProblem) issue('key', 'id', `${keyProblem} (it becomes the Knock ${target.type === 'objects' ? 'object' : 'user'} id)`);

  const catalog = catalogOf(target.type);
  const custom: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(row.payload)) {
    const spec = catalog.get(name);
    if (SERVER_OWNED_FIELDS.has(name)) {
      if (!(name === 'id' && value === row.key)) issue(name, 'reserved', 'is set by Knock and cannot be mapped');
      continue;
    }
    if (!spec || spec.name === '*') {
      custom[name] = value;
      continue;
    }
    if (value === null || value === undefined) continue;
    if (typeof value !== 'string') {
      issue(name, 'type', `must be a ${spec.type === 'datetime' ? 'date-time string' : 'string'}`);
      continue;
    }
    const rule = spec.rule ? RULES[spec.rule] : undefined;
    if (rule && !rule.test(value)) issue(name, spec.rule!, rule.message);
  }
  if (Object.keys(custom).length > 0 && !(jsonBytesAtMost(custom) <= MAX_CUSTOM_BYTES)) {
    let bytes: number;
    try {
      bytes = Buffer.byteLength(JSON.stringify(custom), 'utf8');
    } catch {
      issue('*', 'type', 'custom properties must be JSON values');
      return issues;
    }
    if (bytes > MAX_CUSTOM_BYTES) issue('*', 'size', `custom properties total ${Math.ceil(bytes / 1024)} kB, over Knock's 256 kB`);
  }
  return issues;
}
