import type { DuckDBConnection } from '@duckdb/node-api';
import { checkReadStatement, toSqlError } from './check-statement.js';

/** One column of a statement's result, profiled over every row (not a sample). */
export interface ColumnProfile {
  name: string;
  type: string;
  nulls: number;
  /** Distinct non-null values (exact: `count(DISTINCT …)`). */
  distinct: number;
  /** Smallest and largest value as text; null for an empty column or a nested type (no order). */
  min: string | null;
  max: string | null;
  /** The most frequent non-null values, most frequent first (ties by value), as text cut at 200 characters. */
  top: { value: string; count: number }[];
}

/** The profile of a statement's whole result. */
export interface ResultProfile {
  rows: number;
  columns: ColumnProfile[];
  elapsedMs: number;
}

/** How many top values each column lists. */
export const TOP_VALUES = 5;
/** Nested types have no order worth showing: their min/max are left out, their values counted as text. */
const NESTED = /^(STRUCT|MAP|UNION)\(|\]$/;

/**
 * Profiles the result of `sql` (one read statement, checked as the sandbox checks every statement) in DuckDB:
 * per column the nulls, distinct values, min/max and the top values, in two passes over the result (the
 * aggregates, then the values counted through `UNPIVOT`). Runs in the SQL sandbox process.
 * @example await profileColumns(conn, 'select * from users')
 */
export async function profileColumns(conn: DuckDBConnection, sql: string): Promise<ResultProfile> {
  const t0 = performance.now();
  await checkReadStatement(conn, sql);
  // On lines of its own: a trailing `-- comment` cannot swallow the closing parenthesis.
  const body = `(\n${sql.trim().replace(/;\s*$/, '')}\n)`;
  try {
    const head = await conn.runAndReadAll(`SELECT * FROM ${body} LIMIT 0`);
    const names = head.columnNames();
    const types = head.columnTypes().map(String);
    // Columns by position (c0, c1, …): a result may repeat a name or use one that needs quoting.
    const cols = names.map((_, i) => `c${i}`);
    const from = `FROM ${body} AS model(${cols.join(', ')})`;
    const text = (i: number) => (NESTED.test(types[i]!) ? `${cols[i]}::VARCHAR` : cols[i]!);
    const aggregates = cols.map((c, i) =>
      [
        `count(${c})::BIGINT AS n${i}`,
        `count(DISTINCT ${text(i)})::BIGINT AS d${i}`,
        NESTED.test(types[i]!)
          ? `NULL::VARCHAR AS lo${i}, NULL::VARCHAR AS hi${i}`
          : `min(${c})::VARCHAR AS lo${i}, max(${c})::VARCHAR AS hi${i}`,
      ].join(', '),
    );
    const stats = (await conn.runAndReadAll(`SELECT count(*)::BIGINT AS total, ${aggregates.join(', ')} ${from}`)).getRowObjectsJson()[0]!;
    const values = await conn.runAndReadAll(
      `SELECT col, v, n FROM (
         SELECT col, v, count(*)::BIGINT AS n, row_number() OVER (PARTITION BY col ORDER BY count(*) DESC, v) AS r
         FROM (UNPIVOT (SELECT ${cols.map((c) => `${c}::VARCHAR AS ${c}`).join(', ')} ${from}) ON COLUMNS(*) INTO NAME col VALUE v)
         GROUP BY col, v
       ) WHERE r <= ${TOP_VALUES} ORDER BY col, r`,
    );
    const top = new Map<string, { value: string; count: number }[]>();
    for (const r of values.getRowObjectsJson()) {
      const list = top.get(String(r.col)) ?? [];
      list.push({ value: String(r.v).slice(0, 200), count: Number(r.n) });
      top.set(String(r.col), list);
    }
    const rows = Number(stats.total);
    const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
    return {
      rows,
      columns: names.map((name, i) => ({
        name,
        type: types[i]!,
        nulls: rows - Number(stats[`n${i}`]),
        distinct: Number(stats[`d${i}`]),
        min: str(stats[`lo${i}`]),
        max: str(stats[`hi${i}`]),
        top: top.get(`c${i}`) ?? [],
      })),
      elapsedMs: Math.round(performance.now() - t0),
    };
  } catch (e) {
    throw toSqlError(e, sql);
  }
}
