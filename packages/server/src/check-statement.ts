import { StatementType, type DuckDBConnection } from '@duckdb/node-api';
import { ApiError } from './api-error.js';

/** Schemes DuckDB could read remotely (httpfs and friends); refused before DuckDB sees them. */
const URL_PATTERN = /\b(https?|s3a?|s3n|gcs|gs|r2|az|azure|abfss?|hf|ftp|sftp):\/\//i;

/** Leading keywords of statements that write, change settings or reach outside; each gets its own message. */
const REFUSED: Record<string, string> = {
  COPY: 'COPY … TO writes files',
  EXPORT: 'EXPORT DATABASE writes files',
  IMPORT: 'IMPORT DATABASE reads outside the sandbox',
  ATTACH: 'ATTACH opens another database',
  DETACH: 'DETACH changes the attached databases',
  INSTALL: 'INSTALL downloads an extension',
  LOAD: 'LOAD loads an extension',
  FORCE: 'FORCE INSTALL downloads an extension',
  SET: 'SET changes a setting',
  RESET: 'RESET changes a setting',
  PRAGMA: 'PRAGMA changes a setting',
  CREATE: 'CREATE (tables, views, secrets) changes the database',
  INSERT: 'INSERT writes data',
  UPDATE: 'UPDATE writes data',
  DELETE: 'DELETE writes data',
  DROP: 'DROP changes the database',
  ALTER: 'ALTER changes the database',
  CALL: 'CALL runs a procedure',
  CHECKPOINT: 'CHECKPOINT writes the database',
  VACUUM: 'VACUUM writes the database',
  USE: 'USE changes the session',
  BEGIN: 'transactions are not needed for reads',
};

/** Position of a DuckDB error from its `LINE n:` line and caret (the error has no structured position). */
export function sqlErrorPosition(message: string): { line: number; column: number } | undefined {
  const m = /\nLINE (\d+): (.*)\n( *)\^/.exec(message);
  if (!m) return undefined;
  const prefix = `LINE ${m[1]}: `.length;
  return { line: Number(m[1]), column: Math.max(1, m[3]!.length - prefix + 1) };
}

/** A DuckDB error as an ApiError: the message's first line plus the line/column DuckDB points at. */
export function toSqlError(e: unknown): ApiError {
  const message = String((e as Error)?.message ?? e);
  const first = message.split('\n')[0]!.replace(/^Failed to extract statements: /, '');
  const at = sqlErrorPosition(message);
  if (/^Permission Error/.test(first)) {
    const path = /Cannot access (?:file|directory) "([^"]*)"/.exec(first)?.[1];
    const what = path ? `"${path}" is outside the workspace` : 'that is outside the workspace';
    return new ApiError('sql_refused', `refused: ${what}; the SQL sandbox reads only files inside the workspace`, 400, at);
  }
  return new ApiError('query_failed', first, 400, at);
}

function leadingKeyword(sql: string): string {
  const text = sql.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' ').replace(/^[\s(]+/, '');
  return (/^[A-Za-z]+/.exec(text)?.[0] ?? '').toUpperCase();
}

/**
 * Accepts exactly one read statement (SELECT, including DESCRIBE/SHOW/SUMMARIZE, which DuckDB types as
 * SELECT), using DuckDB's own statement extraction and statement type, and refuses the rest with a message
 * naming what was refused. The sandbox's locked settings refuse file access outside the workspace anyway;
 * this gives the clear message first.
 * @example await checkReadStatement(connection, 'select * from users')
 */
export async function checkReadStatement(connection: DuckDBConnection, sql: string): Promise<void> {
  const url = URL_PATTERN.exec(sql);
  if (url)
    throw new ApiError(
      'sql_refused',
      `refused: URLs (${url[1]!.toLowerCase()}://) are not read; the sandbox reads only workspace files`,
      400,
    );
  let extracted;
  try {
    extracted = await connection.extractStatements(sql);
  } catch (e) {
    throw toSqlError(e);
  }
  if (extracted.count === 0) throw new ApiError('invalid_request', 'no SQL statement given', 400);
  if (extracted.count > 1) throw new ApiError('sql_refused', `refused: one statement per request, found ${extracted.count}`, 400);
  const keyword = leadingKeyword(sql);
  const why = REFUSED[keyword];
  if (why) throw new ApiError('sql_refused', `refused: ${why}; the SQL sandbox runs one read statement (SELECT)`, 400);
  let prepared;
  try {
    prepared = await extracted.prepare(0);
  } catch (e) {
    throw toSqlError(e);
  }
  const type = prepared.statementType;
  prepared.destroySync();
  if (type !== StatementType.SELECT)
    throw new ApiError(
      'sql_refused',
      `refused: ${StatementType[type] ?? 'this'} statements do not run here; the SQL sandbox runs one read statement (SELECT)`,
      400,
    );
}
