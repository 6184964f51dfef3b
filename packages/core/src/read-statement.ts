import { StatementType, type DuckDBConnection } from '@duckdb/node-api';
import { SyncError } from './sync-error.js';

/** Table functions that run SQL text of their own: they would escape the one-statement check. */
const SQL_RUNNING_FUNCTIONS = new Set(['query', 'query_table']);

/** Every `BASE_TABLE` name and `TABLE_FUNCTION` name in DuckDB's serialized parse tree. */
function references(node: unknown, tables: string[], functions: string[]): void {
  if (Array.isArray(node)) for (const x of node) references(x, tables, functions);
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (o.type === 'BASE_TABLE' && typeof o.table_name === 'string') tables.push(o.table_name.toLowerCase());
    if (o.type === 'TABLE_FUNCTION' && o.function && typeof o.function === 'object') {
      const f = (o.function as Record<string, unknown>).function_name;
      if (typeof f === 'string') functions.push(f.toLowerCase());
    }
    for (const v of Object.values(o)) references(v, tables, functions);
  }
}

/** The statement's first keyword, after comments and opening parentheses: `COPY`, `ATTACH`, `SELECT`. */
function leadingKeyword(sql: string): string {
  const text = sql.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' ').replace(/^[\s(]+/, '');
  return (/^[A-Za-z]+/.exec(text)?.[0] ?? '').toUpperCase();
}

/**
 * Why a SQL text is not exactly one read statement, as found by {@link readStatementProblem}. Each caller words
 * it its own way (a model's config error, the server's SQL sandbox refusal).
 * - `unparsable`: DuckDB cannot split it into statements (`error` is DuckDB's, with its `LINE n:` position).
 * - `count`: not exactly one statement; `types` are their DuckDB statement types.
 * - `not_read`: one statement that is not a `SELECT`: its type (DuckDB's, or its leading keyword when it does
 *   not bind) and its leading keyword (`PRAGMA` is typed `SET`).
 * - `sql_function`: a call of `query()` / `query_table()`, which run SQL text of their own.
 * - `forbidden_table`: a reference to a table the caller forbids (the ledger's own).
 */
export type ReadStatementProblem =
  | { kind: 'unparsable'; error: unknown }
  | { kind: 'count'; count: number; types: string[] }
  | { kind: 'not_read'; type: string; keyword: string }
  | { kind: 'sql_function'; name: string }
  | { kind: 'forbidden_table'; table: string };

/**
 * The one check of user SQL (models in `runSync`, the server's `/api/query`): `sql` must be exactly one read
 * statement, one `SELECT` (also `WITH … SELECT`, `VALUES`, `FROM …`, `DESCRIBE`, `SHOW`, `SUMMARIZE`, which DuckDB
 * types as SELECT), parsed by DuckDB itself (the client's statement extraction and statement types, then
 * `json_serialize_sql` for the tables and table functions it names). Nothing is executed. Undefined when it is
 * one read statement. A statement that does not bind (an unknown table, a file the sandbox refuses) is not a
 * problem here: running it reports that error with its position.
 * @example await readStatementProblem(conn, 'copy users to "x.csv"') // { kind: 'not_read', type: 'COPY', keyword: 'COPY' }
 */
export async function readStatementProblem(
  conn: DuckDBConnection,
  sql: string,
  opts: { forbidden?: readonly string[] } = {},
): Promise<ReadStatementProblem | undefined> {
  let count: number;
  const types: string[] = [];
  try {
    const extracted = await conn.extractStatements(sql);
    count = extracted.count;
    for (let i = 0; i < count; i++) {
      try {
        const prepared = await extracted.prepare(i);
        types.push(StatementType[prepared.statementType] ?? 'UNKNOWN');
        prepared.destroySync();
      } catch {
        // Binding failed (an unknown table, say): the type is then read from the parse below.
        types.push('UNKNOWN');
      }
    }
  } catch (error) {
    return { kind: 'unparsable', error };
  }
  if (count !== 1) return { kind: 'count', count, types };
  const parsed = await conn.runAndReadAll(`SELECT json_serialize_sql($1::VARCHAR) AS j`, [sql]);
  const tree = JSON.parse(String(parsed.getRowObjectsJson()[0]!.j)) as { error: boolean; error_message?: string; statements?: unknown[] };
  const keyword = leadingKeyword(sql);
  if (tree.error || (types[0] !== 'SELECT' && types[0] !== 'UNKNOWN'))
    // DuckDB parsed one statement that is not a SELECT; when binding failed, its leading keyword names it.
    return { kind: 'not_read', type: types[0] === 'UNKNOWN' ? keyword || 'UNKNOWN' : types[0]!, keyword };
  const tables: string[] = [];
  const functions: string[] = [];
  references(tree.statements, tables, functions);
  const name = functions.find((f) => SQL_RUNNING_FUNCTIONS.has(f));
  if (name) return { kind: 'sql_function', name };
  const forbidden = new Set((opts.forbidden ?? []).map((t) => t.toLowerCase()));
  const table = tables.find((t) => forbidden.has(t));
  if (table) return { kind: 'forbidden_table', table };
  return undefined;
}

/**
 * {@link readStatementProblem} as a `config_invalid` error naming what was found: a second statement, `COPY`,
 * `ATTACH`, `INSTALL`, `SET`, `DELETE`, a call of `query()`, or a table in `forbidden` (the ledger's own).
 * @example await checkReadStatement(conn, 'select * from users', { what: 'model', forbidden: ['snapshot'] })
 */
export async function checkReadStatement(
  conn: DuckDBConnection,
  sql: string,
  opts: { what?: string; forbidden?: readonly string[] } = {},
): Promise<void> {
  const problem = await readStatementProblem(conn, sql, opts);
  if (!problem) return;
  const what = opts.what ?? 'model';
  const rule = 'must be exactly one read query: SELECT (or WITH … SELECT, VALUES, FROM …)';
  const fail = (message: string, details: Record<string, unknown>): never => {
    throw new SyncError('config_invalid', `${what}: ${message}`, { details });
  };
  switch (problem.kind) {
    case 'unparsable':
      return fail(`${rule}; DuckDB cannot parse it: ${String((problem.error as Error)?.message ?? problem.error).split('\n')[0]}`, {});
    case 'count':
      return fail(`${rule}; found ${problem.count} statements (${problem.types.join(', ')})`, { statements: problem.types });
    case 'not_read':
      return fail(`${rule}; found one ${problem.type} statement`, { statement: problem.type });
    case 'sql_function':
      return fail(`${problem.name}() runs SQL of its own and is not allowed in a ${what}`, { function: problem.name });
    case 'forbidden_table':
      return fail(`"${problem.table}" is a table of Syncline's ledger, which a ${what} cannot read; name your source tables otherwise`, {
        table: problem.table,
      });
  }
}
