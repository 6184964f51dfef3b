import { parse as parseArray } from 'postgres-array';
import { SyncError } from '@syncline/core';

/**
 * How one Postgres result column becomes a Syncline value: the DuckDB type the local ledger stores it as
 * (`Source.describe`) and the conversion of Postgres' text output (the session runs with `TimeZone=UTC`,
 * `DateStyle=ISO` and `IntervalStyle=iso_8601`, see `SESSION_SETTINGS`). Values arrive as text, never through
 * node-postgres' own parsers, which turn `numeric`/`bigint` into floats or lose microseconds.
 */
export interface ColumnMapping {
  name: string;
  /** The Postgres type's name, for messages. */
  pgType: string;
  /** `BOOLEAN`, `SMALLINT`, `INTEGER`, `BIGINT`, `DOUBLE`, `VARCHAR` or `JSON` (a JSON text). */
  duckdbType: string;
  /** Postgres text → value; throws a message (not naming the value: it may be a secret) when it cannot. */
  convert: (text: string) => unknown;
}

/** Session settings that make Postgres' text output of dates, times and floats exact and stable. */
export const SESSION_SETTINGS = `SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'iso_8601'; SET LOCAL extra_float_digits = 1`;

/** One scalar mapping: the DuckDB type, the value and the value's JSON text inside an array. */
interface Scalar {
  duckdbType: string;
  convert: (text: string) => unknown;
  json: (text: string) => string;
}

const fail = (why: string): never => {
  throw new Error(why);
};

const finite = (text: string): number => {
  const n = Number(text);
  return Number.isFinite(n) ? n : fail(`${text === 'NaN' ? 'NaN' : 'an infinite value'} has no JSON form`);
};
const exactDecimal = (text: string): string =>
  /^-?\d+(\.\d+)?$/.test(text) ? text : fail(`${/nan/i.test(text) ? 'NaN' : 'an infinite value'} has no JSON form`);
/** `2024-01-02 03:04:05.123456+00` (UTC session) → `2024-01-02T03:04:05.123456Z`; time zone-less values are read as UTC. */
const isoTimestamp = (text: string): string => {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?:\+00)?$/.exec(text);
  return m
    ? `${m[1]}T${m[2]}Z`
    : fail(`${/infinity/.test(text) ? 'an infinite timestamp' : 'a timestamp outside years 1-9999'} has no ISO 8601 form`);
};
const isoDate = (text: string): string =>
  /^\d{4}-\d{2}-\d{2}$/.test(text)
    ? text
    : fail(`${/infinity/.test(text) ? 'an infinite date' : 'a date outside years 1-9999'} has no ISO 8601 form`);

const text: Scalar = { duckdbType: 'VARCHAR', convert: (t) => t, json: (t) => JSON.stringify(t) };
const withText = (convert: (t: string) => string): Scalar => ({ duckdbType: 'VARCHAR', convert, json: (t) => JSON.stringify(convert(t)) });
const integer = (duckdbType: string): Scalar => ({ duckdbType, convert: (t) => Number(t), json: (t) => t });
const float: Scalar = { duckdbType: 'DOUBLE', convert: finite, json: (t) => JSON.stringify(finite(t)) };
const json: Scalar = { duckdbType: 'JSON', convert: (t) => t, json: (t) => t };
const bool: Scalar = { duckdbType: 'BOOLEAN', convert: (t) => t === 't', json: (t) => (t === 't' ? 'true' : 'false') };

/** Built-in types by OID (pg_type.oid values are fixed for built-in types). */
const SCALARS = new Map<number, [string, Scalar]>([
  [16, ['boolean', bool]],
  [21, ['smallint', integer('SMALLINT')]],
  [23, ['integer', integer('INTEGER')]],
  [26, ['oid', integer('BIGINT')]],
  // bigint and numeric: exact decimal strings (a JSON number would be rounded to a double by most readers).
  [20, ['bigint', withText(exactDecimal)]],
  [1700, ['numeric', withText(exactDecimal)]],
  [700, ['real', float]],
  [701, ['double precision', float]],
  [25, ['text', text]],
  [1043, ['character varying', text]],
  [1042, ['character', text]],
  [18, ['"char"', text]],
  [19, ['name', text]],
  [142, ['xml', text]],
  [2950, ['uuid', text]],
  [869, ['inet', text]],
  [650, ['cidr', text]],
  [829, ['macaddr', text]],
  [774, ['macaddr8', text]],
  [1560, ['bit', text]],
  [1562, ['bit varying', text]],
  [1083, ['time', text]],
  [1266, ['time with time zone', text]],
  [1186, ['interval', text]],
  [1082, ['date', withText(isoDate)]],
  [1114, ['timestamp', withText(isoTimestamp)]],
  [1184, ['timestamp with time zone', withText(isoTimestamp)]],
  [114, ['json', json]],
  [3802, ['jsonb', json]],
]);

/** Array types by OID → their element type's OID. */
const ARRAYS = new Map<number, number>([
  [1000, 16],
  [1005, 21],
  [1007, 23],
  [1028, 26],
  [1016, 20],
  [1231, 1700],
  [1021, 700],
  [1022, 701],
  [1009, 25],
  [1015, 1043],
  [1014, 1042],
  [1002, 18],
  [1003, 19],
  [143, 142],
  [2951, 2950],
  [1041, 869],
  [651, 650],
  [1040, 829],
  [775, 774],
  [1561, 1560],
  [1563, 1562],
  [1183, 1083],
  [1270, 1266],
  [1187, 1186],
  [1182, 1082],
  [1115, 1114],
  [1185, 1184],
  [199, 114],
  [3807, 3802],
]);

/** Why a few common types have no faithful mapping, and the cast that gives one. */
const REFUSED = new Map<number, [string, string]>([
  [17, ['bytea', `encode(col, 'base64')`]],
  [790, ['money', 'col::numeric']],
]);

/** What `pg_type` says of a type outside the built-in table (an enum, a domain, an extension's type). */
export interface PgTypeInfo {
  oid: number;
  name: string;
  /** `pg_type.typcategory`: `S` string, `E` enum, `A` array… */
  category: string;
  /** The element type of an array type (0 otherwise). */
  elem: number;
}

/** A JSON text of a Postgres array literal: nested arrays of converted elements, `null` for NULL. */
const arrayJson = (literal: string, element: Scalar): string => {
  const walk = (v: unknown): string => (Array.isArray(v) ? `[${v.map(walk).join(',')}]` : v === null ? 'null' : element.json(v as string));
  return walk(parseArray(literal));
};

const scalarOf = (oid: number, info: Map<number, PgTypeInfo>): [string, Scalar] | undefined => {
  const known = SCALARS.get(oid);
  if (known) return known;
  // Enums and string-like types of extensions (citext…) print as text: text is their faithful form.
  const t = info.get(oid);
  return t && (t.category === 'E' || t.category === 'S') ? [t.name, text] : undefined;
};

/**
 * The mapping of one result column, or a `source_failed` SyncError naming the column when its type has no
 * faithful JSON form (bytea, money, geometric types, ranges…), with the cast that gives one when known.
 * `info` holds `pg_type` rows for OIDs outside the built-in table (see `unknownTypeOids`).
 */
export function columnMapping(column: { name: string; dataTypeID: number }, info: Map<number, PgTypeInfo>): ColumnMapping {
  const { name, dataTypeID: oid } = column;
  const scalar = scalarOf(oid, info);
  if (scalar) return { name, pgType: scalar[0], duckdbType: scalar[1].duckdbType, convert: scalar[1].convert };
  const elemOid = ARRAYS.get(oid) ?? (info.get(oid)?.category === 'A' ? info.get(oid)!.elem : undefined);
  const element = elemOid === undefined ? undefined : scalarOf(elemOid, info);
  if (element) return { name, pgType: `${element[0]}[]`, duckdbType: 'JSON', convert: (t) => arrayJson(t, element[1]) };
  const refused = REFUSED.get(oid);
  const typeName = refused?.[0] ?? info.get(oid)?.name ?? `type oid ${oid}`;
  const cast = refused ? `; select ${refused[1].replace('col', `"${name}"`)} instead` : '; cast it in the model (e.g. to text)';
  throw new SyncError('source_failed', `[postgres] column "${name}": type ${typeName} has no faithful JSON mapping${cast}`, {
    adapter: 'postgres',
    details: { column: name, type: typeName },
  });
}

/** OIDs of result columns that need a `pg_type` look-up before `columnMapping` (not built in). */
export function unknownTypeOids(columns: { dataTypeID: number }[]): number[] {
  return [...new Set(columns.map((c) => c.dataTypeID).filter((oid) => !SCALARS.has(oid) && !ARRAYS.has(oid) && !REFUSED.has(oid)))];
}
