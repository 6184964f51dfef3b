import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { SyncError } from './sync-error.js';
import { damagedLedgerError, inspectLedgerFile, isStorageFailure, ledgerOpenError } from './ledger-file.js';

/** What `verifyLedger` found. */
export interface LedgerVerifyReport {
  file: string;
  /** Rows per table, every block of which was read. */
  tables: Record<string, number>;
  /** Inconsistencies between the snapshot and in-doubt tables; empty when sound. */
  problems: string[];
}

/** Rows of `sql` as plain objects. */
async function rows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

/** Opens `file` read-only (no lock for writers is taken longer than needed; nothing is written). */
async function openReadOnly(file: string): Promise<{ instance: DuckDBInstance; conn: DuckDBConnection }> {
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  } catch (e) {
    throw ledgerOpenError(file, e);
  }
  return { instance, conn: await instance.connect() };
}

/** Consistency checks of the snapshot and in-doubt tables: [description, SQL counting offending rows]. */
const CHECKS: [string, string][] = [
  ['snapshot keys are unique', `SELECT count(*) - count(DISTINCT k) AS n FROM snapshot`],
  [
    'snapshot rows have a key, a hash and a JSON payload',
    `SELECT count(*) AS n FROM snapshot WHERE k IS NULL OR h IS NULL OR NOT json_valid(payload)`,
  ],
  ['in-doubt keys are unique', `SELECT count(*) - count(DISTINCT k) AS n FROM in_doubt`],
  [
    'in-doubt rows have a key and a JSON payload (or none)',
    `SELECT count(*) AS n FROM in_doubt WHERE k IS NULL OR (payload IS NOT NULL AND NOT json_valid(payload))`,
  ],
];

/**
 * `syncline ledger verify`: checks the file's headers, reads every block of every table (DuckDB verifies
 * each block's checksum as it reads it), and checks that the snapshot and in-doubt tables are consistent.
 * Opens read-only. A damaged file throws `ledger_damaged`; inconsistencies are returned as `problems`.
 */
export async function verifyLedger(path: string): Promise<LedgerVerifyReport> {
  const file = resolve(path);
  if (!existsSync(file)) throw new SyncError('ledger_failed', `no ledger at ${file}`, { details: { file } });
  const damage = inspectLedgerFile(file);
  if (damage) throw damagedLedgerError(file, damage);
  const { instance, conn } = await openReadOnly(file);
  try {
    const report: LedgerVerifyReport = { file, tables: {}, problems: [] };
    try {
      const tables = await rows(
        conn,
        `SELECT table_name AS t FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' ORDER BY 1`,
      );
      for (const { t } of tables) {
        const name = String(t).replaceAll('"', '""');
        // hash() of whole rows touches every column of every row group: every block is read and checked.
        const r = await rows(conn, `SELECT count(*) AS n, bit_xor(hash(x)) AS h FROM "${name}" AS x`);
        report.tables[String(t)] = Number(r[0]!.n);
      }
      const missing = ['snapshot', 'in_doubt', 'runs'].filter((t) => !(t in report.tables));
      if (missing.length) report.problems.push(`not a Syncline ledger: no ${missing.join(', ')} table`);
      else
        for (const [what, sql] of CHECKS) {
          const n = Number((await rows(conn, sql))[0]!.n);
          if (n > 0) report.problems.push(`${what}: ${n} rows do not`);
        }
    } catch (e) {
      // Failing to read stored blocks back is damage; any other error (a binder error, say) is reported as is.
      const message = String((e as Error).message).split('\n')[0]!;
      if (isStorageFailure(message)) throw damagedLedgerError(file, `reading it failed: ${message}`, e);
      throw new SyncError('ledger_failed', `cannot verify ledger ${file}: ${message}`, { details: { file }, cause: e });
    }
    return report;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/**
 * `syncline ledger backup`: a consistent copy of the ledger. Opens it for writing (so no run can write
 * meanwhile: DuckDB's file lock), checkpoints the write-ahead log into the file, copies the file while
 * still holding the lock, then verifies the copy. Returns the backup's path.
 */
export async function backupLedger(path: string, to?: string): Promise<string> {
  const file = resolve(path);
  if (!existsSync(file)) throw new SyncError('ledger_failed', `no ledger at ${file}`, { details: { file } });
  const target = resolve(to ?? `${file}.backup-${new Date().toISOString().replace(/[:.]/g, '-')}.duckdb`);
  if (existsSync(target))
    throw new SyncError('ledger_failed', `${target} exists; choose another backup file`, { details: { file: target } });
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(file);
  } catch (e) {
    throw ledgerOpenError(file, e);
  }
  const tmp = `${target}.partial`;
  try {
    const conn = await instance.connect();
    await conn.run('CHECKPOINT');
    copyFileSync(file, tmp);
    conn.closeSync();
  } finally {
    instance.closeSync();
  }
  try {
    await verifyLedger(tmp);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  renameSync(tmp, target);
  return target;
}

/**
 * `syncline ledger restore`: puts a verified backup in place of the ledger. The current file (damaged or
 * not) and its write-ahead log are kept beside it as `<ledger>.replaced-<time>` (a stale WAL must never be
 * replayed onto the restored file). Refuses while another process holds the ledger.
 */
export async function restoreLedger(path: string, from: string): Promise<{ restored: string; keptAs: string | null }> {
  const file = resolve(path);
  const source = resolve(from);
  if (!existsSync(source)) throw new SyncError('ledger_failed', `no backup at ${source}`, { details: { file: source } });
  await verifyLedger(source);
  let keptAs: string | null = null;
  if (existsSync(file)) {
    // A sound ledger that another process holds is refused; a damaged one cannot be held in use.
    if (!inspectLedgerFile(file)) {
      try {
        (await DuckDBInstance.create(file)).closeSync();
      } catch (e) {
        const err = ledgerOpenError(file, e);
        if (err.code === 'locked') throw err;
      }
    }
    keptAs = `${file}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(file, keptAs);
    if (existsSync(`${file}.wal`)) renameSync(`${file}.wal`, `${keptAs}.wal`);
  }
  const tmp = `${file}.restoring`;
  copyFileSync(source, tmp);
  renameSync(tmp, file);
  return { restored: file, keptAs };
}

/** How long per-row results and HTTP exchanges are kept in the ledger. */
export interface LedgerRetention {
  /** Keep the history of runs that started within this many days. Default 90. */
  days?: number | undefined;
  /** Also keep at most this many most recent runs' history (whichever keeps less). */
  runs?: number | undefined;
}

/**
 * Prunes `row_results` and `exchanges` of runs outside the retention (the run records themselves stay,
 * so `syncline runs` keeps its history; the snapshot is never touched). Returns the rows deleted.
 */
export async function pruneLedgerHistory(conn: DuckDBConnection, retention: LedgerRetention = {}): Promise<number> {
  const days = retention.days ?? 90;
  const keep = retention.runs;
  const old = `SELECT run_id FROM runs WHERE started_at < now()::TIMESTAMP - INTERVAL (${Number(days)}) DAY${
    keep === undefined ? '' : ` UNION SELECT run_id FROM (SELECT run_id FROM runs ORDER BY started_at DESC OFFSET ${Number(keep)})`
  }`;
  let deleted = 0;
  for (const table of ['row_results', 'exchanges']) {
    const r = await conn.run(`DELETE FROM ${table} WHERE run_id IN (${old})`);
    deleted += Number(r.rowsChanged);
  }
  return deleted;
}
