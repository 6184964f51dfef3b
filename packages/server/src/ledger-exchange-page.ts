import type { DuckDBConnection } from '@duckdb/node-api';
import type { HttpExchange } from '@syncline/core';
import type { DebugExchange } from './run-manager.js';

/** A page of a finished run's exchanges, as `GET /api/runs/:runId/exchanges` answers it. */
export interface ExchangePage {
  exchanges: DebugExchange[];
  /** Exchanges that match the filters. */
  total: number;
  /** The run's exchanges (the highest seq). */
  through: number;
}

/**
 * One page of a run's exchanges read from its ledger in DuckDB: filtered by status class and by row key, counted,
 * and only the page's rows parsed. A 200,000-call run is never read whole for one page of 100 (that took 8 s and
 * held every call in memory). `seq` is the position in the run (the ledger keeps them in the order they came).
 * @example await ledgerExchangePage(ledger.connection, runId, { status: '4xx', offset: 0, limit: 100 })
 */
export async function ledgerExchangePage(
  conn: DuckDBConnection,
  runId: string,
  q: { status?: string | undefined; key?: string | undefined; offset: number; limit: number },
): Promise<ExchangePage> {
  const params: string[] = [runId];
  const where: string[] = [];
  if (q.status === 'error') where.push('status IS NULL');
  else if (q.status) where.push(`status // 100 = ${Number(q.status[0])}`);
  if (q.key) where.push(`list_contains(json_extract_string(detail, '$.keys[*]'), $${params.push(q.key)})`);
  const all = `SELECT detail, status, row_number() OVER (ORDER BY rowid) AS seq FROM exchanges WHERE run_id = $1`;
  const filtered = `SELECT * FROM (${all})${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
  const read = async (sql: string): Promise<Record<string, unknown>[]> =>
    (await conn.runAndReadAll(sql, params as never)).getRowObjectsJson() as Record<string, unknown>[];
  const [counts] = await read(
    `SELECT (SELECT count(*) FROM (${filtered})) AS total, (SELECT count(*) FROM exchanges WHERE run_id = $1) AS through`,
  );
  const rows = await read(`${filtered} ORDER BY seq LIMIT ${Math.trunc(q.limit)} OFFSET ${Math.trunc(q.offset)}`);
  return {
    exchanges: rows.map((r) => ({ ...(JSON.parse(String(r.detail)) as HttpExchange), seq: Number(r.seq) })),
    total: Number(counts!.total),
    through: Number(counts!.through),
  };
}
