import type { Column, RowSql } from './contract.js';

/** Quotes a SQL identifier for DuckDB/Postgres. */
export const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;
/** Quotes a SQL string literal. */
export const literal = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/**
 * The SQL expression that turns one model column into its JSON-ready value. Timestamps become ISO-8601
 * in UTC (Knock's `created_at` is ISO-8601); everything else is left to `json_object`.
 */
export function valueExpr(column: Column): string {
  const c = ident(column.name);
  const t = column.type.toUpperCase();
  if (t === 'TIMESTAMP WITH TIME ZONE' || t === 'TIMESTAMPTZ') return `strftime(timezone('UTC', ${c}), '%Y-%m-%dT%H:%M:%S.%gZ')`;
  if (t.startsWith('TIMESTAMP')) return `strftime(${c}::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%gZ')`;
  if (t === 'DATE') return `strftime(${c}, '%Y-%m-%d')`;
  return c;
}

/**
 * Compiles a field mapping to the projection that stages a model: per row the key as text and the payload
 * as canonical JSON text (fields in sorted order, so the text, and its md5, only change when a value does).
 * @example payloadProjection({ email: 'email' }, columns) // json_object('email', "email")::VARCHAR
 */
export function payloadProjection(fields: Record<string, string>, columns: Column[]): string {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const parts = Object.keys(fields)
    .sort()
    .map((field) => {
      const column = byName.get(fields[field]!);
      if (!column) throw new Error(`unknown column ${fields[field]}`);
      return `${literal(field)}, ${valueExpr(column)}`;
    });
  return parts.length === 0 ? `'{}'` : `json_object(${parts.join(', ')})::VARCHAR`;
}

/** Names under which staging exposes each model row's key text and payload text next to its columns. */
export const STAGED_KEY = '__syncline_k';
export const STAGED_PAYLOAD = '__syncline_payload';
export const STAGED_FINGERPRINT = '__syncline_f';

/**
 * The SQL of a staged model row as `Destination.validSql` sees it: the key and the payload texts (columns
 * computed once by staging), each mapped field's JSON value with its column type, and a bound of the
 * payload's length that needs no payload.
 */
export function rowSql(fields: Record<string, string>, columns: Column[]): RowSql {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const bound = payloadMaxLengthSql(fields, columns);
  return {
    key: ident(STAGED_KEY),
    payload: ident(STAGED_PAYLOAD),
    fields: Object.entries(fields).map(([name, col]) => {
      const column = byName.get(col);
      if (!column) throw new Error(`unknown column ${col}`);
      return { name, value: valueExpr(column), type: column.type };
    }),
    ...(bound ? { payloadMaxLength: bound } : {}),
  };
}

/**
 * `rowSql` of a staged change, from its key and payload text alone (columns `k` and `payload` of `staged`):
 * each mapped field's value is read back from the payload. Only where that is exactly `rowSql`'s value: a
 * text, date or timestamp column, whose payload value is the JSON string of that very text (see `valueExpr`),
 * under a plain field name; otherwise undefined. No `payloadMaxLength`: the payload is there.
 * Lets the diff evaluate `Destination.validSql` on the changed rows only, after the stage.
 */
export function stagedRowSql(fields: Record<string, string>, columns: Column[]): RowSql | undefined {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const out: RowSql['fields'] = [];
  for (const [name, col] of Object.entries(fields)) {
    const column = byName.get(col);
    if (!column) throw new Error(`unknown column ${col}`);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || !/^(VARCHAR|DATE|TIMESTAMP.*)$/i.test(column.type)) return undefined;
    out.push({ name, value: `json_extract_string(payload, ${literal(`$.${name}`)})`, type: column.type });
  }
  return { key: 'k', payload: 'payload', fields: out };
}

/**
 * Types whose JSON text in the payload (`json_object` of `valueExpr`) is at most {@link SHORT_VALUE_BYTES}
 * long: numbers (a HUGEINT has 40 digits, a DECIMAL at most 38 and a point and a sign), booleans, UUIDs, and
 * dates, times and timestamps (ISO text, a year of up to 6 digits, quoted).
 */
const SHORT_VALUE =
  /^(BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|REAL|DOUBLE|DECIMAL\(\d+,\s*\d+\)|UUID|DATE|TIME|TIMESTAMP|TIMESTAMP_S|TIMESTAMP_MS|TIMESTAMP_NS|TIMESTAMP WITH TIME ZONE|TIMESTAMPTZ)$/;
const SHORT_VALUE_BYTES = 64;

/**
 * SQL of an upper bound of `strlen` of the payload text (see `payloadProjection`), from the mapped columns'
 * raw values: `json_object` writes `{`, then per field its quoted name, `:`, its value and `,`, then `}`. A
 * text value is written quoted, each byte as itself or escaped in at most 6 bytes (`\u001f`); a null as
 * `null`. Undefined when a column's type is neither text nor a short value (see `SHORT_VALUE`): lists,
 * structs, maps, JSON and the like have no cheap bound. Checked against the payload itself in
 * test/payload-max-length.test.ts.
 */
export function payloadMaxLengthSql(fields: Record<string, string>, columns: Column[]): string | undefined {
  const byName = new Map(columns.map((c) => [c.name, c]));
  let fixed = 2;
  const texts: string[] = [];
  for (const [name, col] of Object.entries(fields)) {
    const column = byName.get(col);
    if (!column) throw new Error(`unknown column ${col}`);
    const t = column.type.toUpperCase();
    fixed += 6 * Buffer.byteLength(name) + 4;
    if (t === 'VARCHAR') {
      fixed += 4;
      texts.push(`strlen(coalesce(${ident(column.name)}, ''))`);
    } else if (SHORT_VALUE.test(t)) fixed += SHORT_VALUE_BYTES;
    else return undefined;
  }
  return texts.length === 0 ? String(fixed) : `(${fixed} + 6 * (${texts.join(' + ')}))`;
}

/** Levenshtein distance, for "did you mean" hints. */
export function closest(name: string, candidates: string[]): string | undefined {
  const d = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const cur = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = cur;
      }
    }
    return row[b.length]!;
  };
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = d(name.toLowerCase(), c.toLowerCase());
    if (dist < bestD) [best, bestD] = [c, dist];
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}
