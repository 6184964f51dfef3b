import type { DuckDBConnection } from '@duckdb/node-api';
import { ident, literal } from './projection.js';
import { interruptible } from './duckdb-diff.js';

/**
 * The 1-based row numbers, in the model's own order, of a few keys (the invalid rows a plan shows). The
 * model is read a second time, so this is asked only when there are invalid rows; numbering in the staging
 * query instead would cost every run a window over every row. `row_number() OVER ()` follows the model's
 * output order (a file's line order, or its ORDER BY).
 */
export async function modelRowNumbers(
  conn: DuckDBConnection,
  o: { modelSql: string; key: string; keys: string[]; signal?: AbortSignal | undefined },
): Promise<Map<string, number>> {
  if (o.keys.length === 0) return new Map();
  const list = [...new Set(o.keys)].map(literal).join(', ');
  const r = await interruptible(conn, o.signal, () =>
    conn.runAndReadAll(`SELECT k, rn FROM (SELECT CAST(${ident(o.key)} AS VARCHAR) AS k, row_number() OVER () AS rn FROM (${o.modelSql}) AS model)
      WHERE k IN (${list})`),
  );
  return new Map((r.getRowObjectsJson() as { k: string; rn: string }[]).map((x) => [String(x.k), Number(x.rn)]));
}
