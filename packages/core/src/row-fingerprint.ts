import type { Column } from './contract.js';
import { ident, literal, valueExpr } from './projection.js';

/**
 * Column types whose DuckDB `hash()` tells apart every two values that `json_object` would write differently
 * (within one type): integers, text, booleans, dates, times and timestamps, UUIDs and decimals are hashed as
 * they are. `hash()` of a FLOAT or DOUBLE treats -0.0 and 0.0 alike (it hashes for equality), so floats are
 * hashed as their shortest round-trip text; every other type (lists, structs, maps, intervals, JSON…) as the
 * JSON text the payload would hold.
 */
const HASHED_AS_IS =
  /^(BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|VARCHAR|DATE|TIME|TIMESTAMP|TIMESTAMP_S|TIMESTAMP_MS|TIMESTAMP_NS|TIMESTAMP WITH TIME ZONE|UUID|DECIMAL\(\d+,\s*\d+\))$/;

/** The SQL of one mapped column's part of the fingerprint. */
function partSql(column: Column): string {
  const t = column.type.toUpperCase();
  if (HASHED_AS_IS.test(t)) return ident(column.name);
  if (t === 'FLOAT' || t === 'DOUBLE' || t === 'REAL') return `CAST(${ident(column.name)} AS VARCHAR)`;
  return `json_object('v', ${valueExpr(column)})::VARCHAR`;
}

/**
 * A cheap per-row fingerprint of the mapped columns' raw values (DuckDB's 64-bit `hash()`), so a stage can
 * tell an unchanged row without building its payload JSON and its MD5. Two rows of the same key with equal
 * fingerprints have equal payloads: the values are hashed in the mapping's (sorted) field order, and the
 * salt holds the config hash (mapping and target), each field's column and type (1 vs 1.0 vs '1') and the
 * engine's version (a new DuckDB may hash or print values differently). A different fingerprint only means
 * "maybe changed": the stage then compares the payload's own hash, so a false "changed" costs time, never
 * a resend. The snapshot keeps each key's fingerprint beside its hash (`snapshot.f`; null = compare by hash).
 * @example fingerprintSql({ email: 'email' }, columns, configHash, 'v1.5.6') // hash('…', "email")
 */
export function fingerprintSql(fields: Record<string, string>, columns: Column[], salt: string, engine: string): string {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const mapped = Object.keys(fields)
    .sort()
    .map((field) => {
      const column = byName.get(fields[field]!);
      if (!column) throw new Error(`unknown column ${fields[field]}`);
      return { field, column };
    });
  const shape = JSON.stringify([salt, engine, mapped.map(({ field, column }) => [field, column.name, column.type])]);
  return `hash(${[literal(shape), ...mapped.map(({ column }) => partSql(column))].join(', ')})`;
}
