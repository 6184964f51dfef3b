import { DuckDBConnection } from '@duckdb/node-api';
import type { Ledger } from '@syncline/core';
import type { DebugExchange } from './run-manager.js';

/** A page of a run's exchanges, as `GET /api/runs/:runId/exchanges` answers it. */
export interface ExchangePage {
  /**
   * Each exchange of the page as JSON text, `seq` included. A ledger's exchanges go from its text to the answer
   * as they are: parsing a page of bulk calls (MBs of bodies) and serialising it again held the server's event
   * loop for 100–200 ms a page while the Runs screen scrolled; joining the texts takes a few ms.
   */
  json: string[];
  /** Exchanges that match the filters. */
  total: number;
  /** The run's exchanges (the highest seq). */
  through: number;
}

/**
 * What a page asks for: a status class (`2xx`…, `error`), a row key, a request (the `idempotency-key` every
 * attempt of one request carries: its retry chain), and where the page starts.
 */
export interface ExchangeQuery {
  status?: string | undefined;
  key?: string | undefined;
  request?: string | undefined;
  offset: number;
  limit: number;
}

const statusClass = (x: { status: number | null }): string => (x.status === null ? 'error' : `${Math.floor(x.status / 100)}xx`);

/**
 * One page of exchanges held in memory (a live run's, or those a ledger read whole), filtered as the ledger's
 * page is: by status class and by a key among those the call carried.
 * @example exchangePageOf(run.exchanges, { status: '4xx', offset: 0, limit: 100 })
 */
export function exchangePageOf(all: readonly DebugExchange[], q: ExchangeQuery): ExchangePage {
  const hits = all.filter(
    (x) =>
      (!q.status || statusClass(x) === q.status) &&
      (!q.key || (x.keys ?? []).includes(q.key)) &&
      (!q.request || x.requestHeaders?.['idempotency-key'] === q.request),
  );
  return { json: hits.slice(q.offset, q.offset + q.limit).map((x) => JSON.stringify(x)), total: hits.length, through: all.length };
}

/**
 * One page of a finished run's exchanges from its ledger: cut in DuckDB for a DuckDB ledger (see
 * {@link ledgerExchangePage}); read through core's `Ledger` interface and cut here for any other (the
 * warehouse ledger in Postgres), in the order the ledger gives them.
 * @example await exchangePage(ledger, runId, { key: 'u_1', offset: 0, limit: 100 })
 */
export async function exchangePage(ledger: Ledger, runId: string, q: ExchangeQuery): Promise<ExchangePage> {
  const connection = (ledger as { connection?: unknown }).connection;
  if (connection instanceof DuckDBConnection) return ledgerExchangePage(connection, runId, q);
  const all = (await ledger.exchanges(runId, Number.MAX_SAFE_INTEGER)).map((x, i): DebugExchange => ({ ...x, seq: i + 1 }));
  return exchangePageOf(all, q);
}

/**
 * One page of a run's exchanges read from its ledger in DuckDB: filtered by status class and by row key, counted,
 * and only the page's rows parsed. A 200,000-call run is never read whole for one page of 100 (that took 8 s and
 * held every call in memory). `seq` is the position in the run (the ledger keeps them in the order they came).
 * @example await ledgerExchangePage(ledger.connection, runId, { status: '4xx', offset: 0, limit: 100 })
 */
export async function ledgerExchangePage(conn: DuckDBConnection, runId: string, q: ExchangeQuery): Promise<ExchangePage> {
  const params: string[] = [runId];
  const read = async (sql: string): Promise<Record<string, unknown>[]> =>
    (await conn.runAndReadAll(sql, params as never)).getRowObjectsJson() as Record<string, unknown>[];
  const limit = Math.trunc(q.limit);
  const offset = Math.trunc(q.offset);
  const [span] = await read(`SELECT count(*) AS n, min(rowid) AS lo, max(rowid) AS hi FROM exchanges WHERE run_id = $1`);
  const through = Number(span!.n);
  // Unfiltered, with the run's rows in one block (one run writes a ledger at a time): the page is a rowid range,
  // which DuckDB reads from its zone maps in milliseconds; the filtered path numbers every row of the run first.
  if (!q.status && !q.key && !q.request && through > 0 && Number(span!.hi) - Number(span!.lo) + 1 === through) {
    const from = Number(span!.lo) + offset;
    const rows = await read(
      `SELECT detail, rowid - ${Number(span!.lo)} + 1 AS seq FROM exchanges WHERE run_id = $1 AND rowid >= ${from} AND rowid < ${from + limit} ORDER BY rowid`,
    );
    return { json: rows.map(withSeq), total: through, through };
  }
  const where: string[] = [];
  if (q.status === 'error') where.push('status IS NULL');
  else if (q.status) where.push(`status // 100 = ${Number(q.status[0])}`);
  if (q.key) where.push(`list_contains(json_extract_string(detail, '$.keys[*]'), $${params.push(q.key)})`);
  if (q.request) where.push(`json_extract_string(detail, '$.requestHeaders."idempotency-key"') = $${params.push(q.request)}`);
  const all = `SELECT detail, status, row_number() OVER (ORDER BY rowid) AS seq FROM exchanges WHERE run_id = $1`;
  const filtered = `SELECT * FROM (${all})${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
  const [counted] = await read(`SELECT count(*) AS total FROM (${filtered})`);
  const rows = await read(`${filtered} ORDER BY seq LIMIT ${limit} OFFSET ${offset}`);
  return { json: rows.map(withSeq), total: Number(counted!.total), through };
}

/** A stored exchange's JSON (an object, as core wrote it) with its `seq` added, without parsing it. */
const withSeq = (r: Record<string, unknown>): string => {
  const detail = String(r.detail).trim();
  const seq = `"seq":${Number(r.seq)}`;
  return detail === '{}' ? `{${seq}}` : `{${seq},${detail.slice(1)}`;
};
