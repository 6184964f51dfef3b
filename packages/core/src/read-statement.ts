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

/**
 * Checks that `sql` is exactly one read statement: one `SELECT` (also `WITH … SELECT`, `VALUES`, `FROM …`),
 * parsed by DuckDB itself (the client's statement extraction, then `json_serialize_sql` for the tables it
 * names). Anything else — a second statement, `COPY`, `ATTACH`, `INSTALL`, `SET`, `DELETE`, a call of
 * `query()` — and any reference to a table in `forbidden` (the ledger's own) is a `config_invalid` error
 * naming what was found. Nothing is executed. Reusable by any caller that runs user SQL.
 * @example await checkReadStatement(conn, 'select * from users', { what: 'model', forbidden: ['snapshot'] })
 */
export async function checkReadStatement(
  conn: DuckDBConnection,
  sql: string,
  opts: { what?: string; forbidden?: readonly string[] } = {},
): Promise<void> {
  const what = opts.what ?? 'model';
  const fail = (message: string, details: Record<string, unknown> = {}): never => {
    throw new SyncError('config_invalid', `${what}: ${message}`, { details });
  };
  const rule = 'must be exactly one read query: SELECT (or WITH … SELECT, VALUES, FROM …)';
  let count: number;
  const types: string[] = [];
  try {
    const extracted = await conn.extractStatements(sql);
    count = extracted.count;
    for (let i = 0; i < count; i++) {
      try {
        types.push(StatementType[(await extracted.prepare(i)).statementType] ?? 'UNKNOWN');
      } catch {
        // Binding failed (an unknown table, say): the type is then read from the parse below.
        types.push('UNKNOWN');
      }
    }
  } catch (e) {
    return fail(`${rule}; DuckDB cannot parse it: ${String((e as Error).message).split('\n')[0]}`);
  }
  if (count !== 1) return fail(`${rule}; found ${count} statements (${types.join(', ')})`, { statements: types });
  const parsed = await conn.runAndReadAll(`SELECT json_serialize_sql($1::VARCHAR) AS j`, [sql]);
  const tree = JSON.parse(String(parsed.getRowObjectsJson()[0]!.j)) as { error: boolean; error_message?: string; statements?: unknown[] };
  if (tree.error || (types[0] !== 'SELECT' && types[0] !== 'UNKNOWN')) {
    // DuckDB parsed one statement that is not a SELECT; when binding failed, its leading keyword names it.
    const type = types[0] === 'UNKNOWN' ? (/^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? 'UNKNOWN') : types[0]!;
    return fail(`${rule}; found one ${type} statement`, { statement: type });
  }
  const tables: string[] = [];
  const functions: string[] = [];
  references(tree.statements, tables, functions);
  const bad = functions.find((f) => SQL_RUNNING_FUNCTIONS.has(f));
  if (bad) return fail(`${bad}() runs SQL of its own and is not allowed in a ${what}`, { function: bad });
  const forbidden = new Set((opts.forbidden ?? []).map((t) => t.toLowerCase()));
  const ledger = tables.find((t) => forbidden.has(t));
  if (ledger)
    return fail(`"${ledger}" is a table of Syncline's ledger, which a ${what} cannot read; name your source tables otherwise`, {
      table: ledger,
    });
}
