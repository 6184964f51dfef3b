import { createHash } from 'node:crypto';
import { ident, type Column } from '@syncline/core';

/**
 * How a column's value is written into the payload's JSON text in Postgres, so that the text is the one the
 * DuckDB path (local-ledger mode: `postgresSource` → DuckDB → `json_object(...)::VARCHAR`) produces for
 * the same row: keys in sorted order, no whitespace, `bigint`/`numeric` as exact decimal strings,
 * timestamps as ISO 8601 UTC with a `Z`. The session runs with `SESSION_SETTINGS` (UTC, ISO dates,
 * ISO 8601 intervals, shortest exact floats).
 */
export type PayloadKind =
  'json-native' | 'decimal' | 'float' | 'timestamptz' | 'timestamp' | 'json' | 'decimal-array' | 'timestamp-array' | 'text';

/** The payload kind of a column described as a Postgres type name (as `columnMapping` names types). */
export function payloadKind(pgType: string): PayloadKind {
  if (pgType === 'boolean' || pgType === 'smallint' || pgType === 'integer' || pgType === 'oid') return 'json-native';
  if (pgType === 'bigint' || pgType === 'numeric') return 'decimal';
  if (pgType === 'real' || pgType === 'double precision') return 'float';
  if (pgType === 'timestamp with time zone') return 'timestamptz';
  if (pgType === 'timestamp') return 'timestamp';
  if (pgType === 'json' || pgType === 'jsonb') return 'json';
  if (pgType === 'bigint[]' || pgType === 'numeric[]') return 'decimal-array';
  if (pgType === 'timestamp with time zone[]' || pgType === 'timestamp[]') return 'timestamp-array';
  if (pgType.endsWith('[]')) return 'json';
  return 'text';
}

/** SQL of one column's JSON text (never NULL: a NULL value is the JSON `null`). */
export function jsonValueSql(column: Column): string {
  const c = ident(column.name);
  const kind = payloadKind(column.type);
  const value = ((): string => {
    switch (kind) {
      // Texts that never need JSON escaping are quoted directly: `to_json` looks its argument's type up on
      // every call, which is most of the payload's cost on a wide model.
      case 'json-native':
        // true/false and integers print as JSON already.
        return `(${c})::${column.type === 'oid' ? 'bigint::' : ''}text`;
      case 'decimal':
        // Exact decimal strings, as the local path stores them (NaN/Infinity print as strings).
        return `'"' || (${c})::text || '"'`;
      case 'float':
        return `to_json(${c})::text`;
      case 'timestamptz':
        // `2024-01-02 03:04:05.123456+00` (UTC session) → "2024-01-02T03:04:05.123456Z", the server's precision.
        return `'"' || replace(replace((${c})::text, '+00', 'Z'), ' ', 'T') || '"'`;
      case 'timestamp':
        return `'"' || replace((${c})::text, ' ', 'T') || 'Z"'`;
      case 'json':
        return `to_json(${c})::text`;
      case 'timestamp-array':
        // to_json prints elements as `2024-01-02T03:04:05+00:00` (timestamptz, UTC session) or without a zone.
        return `regexp_replace(to_json(${c})::text, '(\\d)(\\+00:00)?"', '\\1Z"', 'g')`;
      case 'decimal-array':
        return `to_json((${c})::text[])::text`;
      case 'text':
        // Through the type's own output (bpchar keeps its padding, enums and uuids print as text).
        return `to_json(${c})::text`;
    }
  })();
  return `coalesce(${value}, 'null')`;
}

/**
 * Compiles a field mapping to the Postgres expression of a row's canonical payload text: the same text
 * `payloadProjection` gives in DuckDB (`{"email":"a@example.com","plan":"pro"}`), built by concatenation
 * because `jsonb` reorders keys by length and both `json_build_object` and `jsonb` print spaces.
 * @example payloadSql({ plan: 'plan', email: 'email' }, columns) // '{"email":' || coalesce(to_json("email")::text, 'null') || …
 */
export function payloadSql(fields: Record<string, string>, columns: Column[]): string {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const names = Object.keys(fields).sort();
  if (names.length === 0) return `'{}'`;
  const parts = names.map((field, i) => {
    const column = byName.get(fields[field]!);
    if (!column) throw new Error(`unknown column ${fields[field]}`);
    const key = `${i === 0 ? '{' : ','}${JSON.stringify(field)}:`;
    return `'${key.replaceAll("'", "''")}' || ${jsonValueSql(column)}`;
  });
  return `(${parts.join(' || ')} || '}')`;
}

/** A model row as the warehouse diff reads it: SQL over the model (`FROM (model) AS model`) and over its result. */
export interface ModelRowSql {
  /**
   * The select list over the model: the key as text (`syncline_k`), the row's fingerprint (`syncline_f`) and
   * each mapped column renamed `syncline_c0`, `syncline_c1`… (so that no model column can clash with the
   * ledger's own columns in the join).
   */
  select: string;
  /** The payload text's expression over that select list's columns (see {@link payloadSql}). */
  payload: string;
}

/**
 * Compiles the key, the fingerprint and the payload of a model row. The fingerprint is a salted 64-bit hash
 * of the mapped columns' text (`hashtextextended(ROW(…)::text, salt)`), much cheaper than building the payload
 * and its md5: the diff builds payloads only for rows whose fingerprint differs from the snapshot's. It
 * changes whenever the payload can: the payload is a function of the mapped values' text (each kind prints
 * through the type's output or `to_json`, under the session's fixed settings), `ROW(…)::text` quotes and
 * separates them so that different values (and NULL vs '') give different texts, and the salt covers the
 * config hash, the compiled payload SQL (field names, columns, their order) and the columns' types.
 * @example modelRowSql('id', { email: 'email' }, columns, configHash).select // 'CAST("id" AS text) AS syncline_k, hashtextextended(ROW("email")::text, -123…) AS syncline_f, "email" AS syncline_c0'
 */
export function modelRowSql(key: string, fields: Record<string, string>, columns: Column[], salt: string): ModelRowSql {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const used = [
    ...new Set(
      Object.keys(fields)
        .sort()
        .map((f) => fields[f]!),
    ),
  ];
  const alias = new Map(used.map((name, i) => [name, `syncline_c${i}`]));
  const aliased = used.map((name) => {
    const column = byName.get(name);
    if (!column) throw new Error(`unknown column ${name}`);
    return { ...column, name: alias.get(name)! };
  });
  const payload = payloadSql(Object.fromEntries(Object.entries(fields).map(([f, c]) => [f, alias.get(c)!])), aliased);
  const typed = used.map((name) => `${name}:${byName.get(name)!.type}`).join('\u0001');
  const digest = createHash('sha256').update(`fingerprint-v1\u0000${salt}\u0000${payload}\u0000${typed}`).digest();
  const fpSalt = digest.readBigInt64BE(0).toString();
  const fingerprint = used.length ? `hashtextextended(ROW(${used.map(ident).join(', ')})::text, ${fpSalt})` : `${fpSalt}::bigint`;
  return {
    select: [
      `CAST(${ident(key)} AS text) AS syncline_k`,
      `${fingerprint} AS syncline_f`,
      ...used.map((name) => `${ident(name)} AS ${alias.get(name)}`),
    ].join(', '),
    payload,
  };
}

/**
 * A row hash as Postgres stores it (`md5(...)::uuid`, the digest's bytes in order) → the 32 hex digits core
 * shows (`Change.hash`): the digest read as a little-endian 128-bit number, as DuckDB's `md5_number` gives it
 * (see core's row-hash.ts), so a row hashes to the same `hash` whichever engine hashed it.
 */
export function uuidToRowHash(uuid: string): string {
  const hex = uuid.replaceAll('-', '');
  let out = '';
  for (let i = hex.length - 2; i >= 0; i -= 2) out += hex.slice(i, i + 2);
  return out;
}

/** The inverse of {@link uuidToRowHash}: core's 32 hex digits → the uuid text Postgres stores. */
export function rowHashToUuid(hash: string): string {
  const hex = uuidToRowHash(hash.padStart(32, '0'));
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
