import type { DuckDBConnection } from '@duckdb/node-api';
import { readStatementProblem, sqlErrorPosition } from '@syncline/core';
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

/**
 * DuckDB's refusal of a file outside the sandbox (`Permission Error: Cannot access file "/etc/passwd" …`) in
 * the sandbox's words, or undefined for any other message.
 */
export function sandboxRefusal(message: string): string | undefined {
  if (!/Permission Error/.test(message)) return undefined;
  const path = /Cannot access (?:file|directory) "([^"]*)"/.exec(message)?.[1];
  const what = path ? `"${path}" is outside the workspace` : 'that is outside the workspace';
  return `refused: ${what}; the SQL sandbox reads only files inside the workspace`;
}

/** A DuckDB error as an ApiError: the message's first line plus the line/column of `sql` DuckDB points at. */
export function toSqlError(e: unknown, sql: string): ApiError {
  const message = String((e as Error)?.message ?? e);
  const first = message.split('\n')[0]!.replace(/^Failed to extract statements: /, '');
  const at = sqlErrorPosition(message, sql);
  const refusal = /^Permission Error/.test(first) ? sandboxRefusal(first) : undefined;
  if (refusal) return new ApiError('sql_refused', refusal, 400, at);
  return new ApiError('query_failed', first, 400, at);
}

/**
 * The SQL sandbox's check of a statement before it runs: no URL, then core's `readStatementProblem` (exactly one
 * read statement, parsed by DuckDB), each refusal in the sandbox's words naming what was refused. The
 * sandbox's locked settings refuse file access outside the workspace anyway; this gives the clear message first.
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
  const problem = await readStatementProblem(connection, sql);
  if (!problem) return;
  const oneRead = 'the SQL sandbox runs one read statement (SELECT)';
  switch (problem.kind) {
    case 'unparsable':
      throw toSqlError(problem.error, sql);
    case 'count':
      if (problem.count === 0) throw new ApiError('invalid_request', 'no SQL statement given', 400);
      throw new ApiError('sql_refused', `refused: one statement per request, found ${problem.count}`, 400);
    case 'not_read': {
      const why = REFUSED[problem.keyword];
      throw new ApiError(
        'sql_refused',
        why ? `refused: ${why}; ${oneRead}` : `refused: ${problem.type} statements do not run here; ${oneRead}`,
        400,
      );
    }
    case 'sql_function':
      throw new ApiError('sql_refused', `refused: ${problem.name}() runs SQL of its own; ${oneRead}`, 400);
    case 'forbidden_table':
      throw new ApiError('sql_refused', `refused: the table "${problem.table}" is not readable here; ${oneRead}`, 400);
  }
}
