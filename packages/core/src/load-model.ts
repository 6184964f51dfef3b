import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import type { Column, Source } from './contract.js';
import { ident } from './projection.js';
import { SyncError, isSyncError } from './sync-error.js';

/** The temporary table of the ledger's connection that holds a streamed model (local-ledger mode). */
export const LOCAL_MODEL_TABLE = 'syncline_model';
/** What the ledger stages instead of the model's own SQL when the model ran in the source (see `loadModel`). */
export const LOCAL_MODEL_SQL = `SELECT * FROM temp.main.${LOCAL_MODEL_TABLE}`;

/** The DuckDB column types a source without `attach` may describe its columns as. */
export const LOCAL_COLUMN_TYPES = ['BOOLEAN', 'SMALLINT', 'INTEGER', 'BIGINT', 'DOUBLE', 'VARCHAR', 'JSON'] as const;
type LocalType = (typeof LOCAL_COLUMN_TYPES)[number];

/** Rows per `source.read` batch when the source sets none. */
const DEFAULT_BATCH = 10_000;

/**
 * Local-ledger mode, for a source that cannot run inside the ledger's DuckDB (no `attach`, e.g. Postgres):
 * the model runs in the source and its rows stream from `source.read()` through DuckDB's appender into the
 * temporary table `LOCAL_MODEL_TABLE`, one batch at a time (JavaScript holds one batch; DuckDB keeps the table
 * within its `memory_limit`, spilling to disk beyond it). The ledger then stages `LOCAL_MODEL_SQL` with the
 * same SQL stage and diff as any other model. Returns the number of rows loaded.
 * @example await loadModel(ledger.connection, source, spec.model, columns, { signal })
 */
export async function loadModel(
  conn: DuckDBConnection,
  source: Source,
  modelSql: string,
  columns: Column[],
  opts: { signal?: AbortSignal | undefined; batchSize?: number | undefined } = {},
): Promise<number> {
  const types = columns.map((c) => {
    const type = c.type.toUpperCase();
    if (!(LOCAL_COLUMN_TYPES as readonly string[]).includes(type))
      throw new SyncError(
        'source_failed',
        `[${source.name}] column "${c.name}": type ${c.type} cannot be streamed into the ledger (one of ${LOCAL_COLUMN_TYPES.join(', ')})`,
        { adapter: source.name, details: { column: c.name, type: c.type } },
      );
    return type as LocalType;
  });
  await conn.run(`DROP TABLE IF EXISTS temp.main.${LOCAL_MODEL_TABLE}`);
  await conn.run(`CREATE TEMP TABLE ${LOCAL_MODEL_TABLE} (${columns.map((c, i) => `${ident(c.name)} ${types[i]}`).join(', ')})`);
  const appender = await conn.createAppender(LOCAL_MODEL_TABLE, 'main', 'temp');
  let rows = 0;
  try {
    const batches = source.read(modelSql, { ...(opts.signal ? { signal: opts.signal } : {}), batchSize: opts.batchSize ?? DEFAULT_BATCH });
    for await (const batch of batches) {
      opts.signal?.throwIfAborted();
      for (const row of batch) {
        rows += 1;
        for (let i = 0; i < columns.length; i++)
          append(appender, types[i]!, row[columns[i]!.name], () => `${columns[i]!.name}", row ${rows}`, source.name);
        appender.endRow();
      }
      // The batch is in DuckDB now; the JavaScript objects can go.
      appender.flushSync();
    }
  } catch (e) {
    // After a failure mid-row, closing may refuse the incomplete row: the first error is the one to report.
    try {
      appender.closeSync();
    } catch {
      // ignored: `e` is reported
    }
    if (isSyncError(e)) throw e;
    if (opts.signal?.aborted) throw new SyncError('aborted', 'the model was interrupted while it streamed into the ledger', { cause: e });
    throw new SyncError(
      'source_failed',
      `[${source.name}] reading the model failed: ${String((e as Error)?.message ?? e).split('\n')[0]}`,
      {
        adapter: source.name,
        cause: e,
      },
    );
  }
  appender.closeSync();
  return rows;
}

/** Appends one value as `type`, or throws naming the column and row (never the value: it may be a secret). */
function append(a: DuckDBAppender, type: LocalType, v: unknown, where: () => string, adapter: string): void {
  if (v === null || v === undefined) return a.appendNull();
  const wrong = (expected: string): never => {
    throw new SyncError('source_failed', `[${adapter}] column "${where()}: expected ${expected}, got ${typeof v}`, { adapter });
  };
  switch (type) {
    case 'BOOLEAN':
      return typeof v === 'boolean' ? a.appendBoolean(v) : wrong('a boolean');
    case 'SMALLINT':
    case 'INTEGER':
      return typeof v === 'number' && Number.isInteger(v)
        ? type === 'SMALLINT'
          ? a.appendSmallInt(v)
          : a.appendInteger(v)
        : wrong('an integer');
    case 'BIGINT':
      return typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v)) ? a.appendBigInt(BigInt(v)) : wrong('an integer');
    case 'DOUBLE':
      return typeof v === 'number' ? a.appendDouble(v) : wrong('a number');
    case 'VARCHAR':
      return typeof v === 'string' ? a.appendVarchar(v) : wrong('a string');
    case 'JSON':
      // JSON text as is (it keeps exact numbers); any other value is serialised.
      return a.appendVarchar(typeof v === 'string' ? v : JSON.stringify(v));
  }
}
