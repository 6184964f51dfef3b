import type { DuckDBConnection } from '@duckdb/node-api';
import { literal } from './projection.js';

/** The rolling window of the mass-delete guard. */
export const DELETE_WINDOW_HOURS = 24;

/** Deletions confirmed in the last 24 h, measured against the snapshot at the window's start. */
export interface DeleteWindow {
  /** Start of the window: the first run in the last 24 h that deleted rows (ISO 8601); null when none did. */
  since: string | null;
  /** Rows in the snapshot when the window started (before its first deleting run); the current size when none. */
  base: number;
  /** Rows deleted at the destination by runs in the window. */
  deleted: number;
}

const TABLE = `CREATE TABLE IF NOT EXISTS delete_log (run_id VARCHAR, deleted_at TIMESTAMP, deleted BIGINT, snapshot_before BIGINT)`;

/**
 * The guard's window: what runs of the last 24 h deleted, against the snapshot before the first of them.
 * A series of runs each under `maxDeleteShare` (19 % five times) adds up here, so it is refused as a whole.
 */
export async function readDeleteWindow(conn: DuckDBConnection, snapshotNow: number): Promise<DeleteWindow> {
  // Read-only when no run deleted yet: a plan never creates the table (plan changes nothing in the ledger).
  const exists = await conn.runAndReadAll(
    `SELECT 1 FROM duckdb_tables() WHERE table_name = 'delete_log' AND schema_name = 'main' AND database_name = current_database()`,
  );
  if (exists.currentRowCount === 0) return { since: null, base: snapshotNow, deleted: 0 };
  const r = await conn.runAndReadAll(
    `SELECT strftime(min(deleted_at), '%Y-%m-%dT%H:%M:%SZ') AS since, arg_min(snapshot_before, deleted_at) AS base, coalesce(sum(deleted), 0) AS deleted
       FROM delete_log WHERE deleted_at > now()::TIMESTAMP - INTERVAL ${DELETE_WINDOW_HOURS} HOUR`,
  );
  const row = r.getRowObjectsJson()[0] as { since: string | null; base: string | number | null; deleted: string | number };
  return { since: row.since, base: row.base === null ? snapshotNow : Number(row.base), deleted: Number(row.deleted) };
}

/** Records a run's confirmed deletions (counted from its row results) for the window; nothing when it deleted none. */
export async function recordDeletes(conn: DuckDBConnection, runId: string, snapshotBefore: number): Promise<void> {
  await conn.run(TABLE);
  await conn.run(
    `INSERT INTO delete_log SELECT ${literal(runId)}, now()::TIMESTAMP, n, ${Number(snapshotBefore)}
       FROM (SELECT count(*) AS n FROM row_results WHERE run_id = ${literal(runId)} AND action = 'remove' AND status = 'synced') WHERE n > 0`,
  );
}
