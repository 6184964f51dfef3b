import { existsSync } from 'node:fs';
import { extname, isAbsolute, resolve, sep } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { z } from 'zod';
import { SyncError, ident, literal, type Column, type Source } from '@syncline/core';
import { csvProblem, type CsvOptions } from './csv-problem.js';

/** Options of `duckdbSource`; `tables` maps a table name to a CSV, TSV, Parquet or JSON/NDJSON file. */
const tableFileSchema = z.union([
  z.string().min(1),
  z.strictObject({
    file: z.string().min(1),
    /** CSV only: the delimiter (default "," for .csv, tab for .tsv). */
    delim: z.string().min(1).max(4).optional(),
    /** CSV only: the quote character (default `"`). */
    quote: z.string().length(1).optional(),
    /** CSV only: the first line holds the column names (default true). */
    header: z.boolean().optional(),
    /** CSV only: the text encoding (default utf-8). */
    encoding: z.enum(['utf-8', 'utf-16', 'latin-1']).optional(),
  }),
]);

export const duckdbSourceOptionsSchema = z.strictObject({
  tables: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a table name: letters, digits, "_"'), tableFileSchema).default({}),
  /** Relative file paths resolve against this folder (the config's folder). */
  baseDir: z.string().optional(),
  /**
   * Folders (relative to `baseDir`) a model may read besides `baseDir` and the configured tables. Everything
   * else is closed to it: DuckDB's `allowed_directories`, then `enable_external_access = false` and
   * `lock_configuration = true` (reliability.md §3: allowed paths must be set before access is disabled).
   */
  allowPaths: z.array(z.string().min(1)).default([]),
  /**
   * Close every other file to the connection `attach` prepares (the CLI sets it for every sync). Off by
   * default for embedders that lock their connection down themselves (the server's sandbox).
   */
  restrictFiles: z.boolean().default(false),
});

export type DuckdbSourceOptions = z.input<typeof duckdbSourceOptionsSchema>;

const READERS: Record<string, string> = {
  '.csv': 'read_csv',
  '.tsv': 'read_csv',
  '.txt': 'read_csv',
  '.parquet': 'read_parquet',
  '.json': 'read_json_auto',
  '.ndjson': 'read_json_auto',
  '.jsonl': 'read_json_auto',
};

/**
 * Files as tables in DuckDB. Inside a DuckDB ledger (`attach`) the model runs next to the snapshot, so no
 * row crosses into JavaScript; `read` streams rows for other engines.
 * @example duckdbSource({ tables: { users: './users.csv' }, baseDir: import.meta.dirname })
 */
export function duckdbSource(options: DuckdbSourceOptions): Source {
  const parsed = duckdbSourceOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    // A bad record key nests the key's own issue (zod 4 `invalid_key`).
    const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    throw new SyncError('invalid_option', `[duckdb] option "${issue.path.join('.')}": ${message}`, { adapter: 'duckdb' });
  }
  const { tables, baseDir, allowPaths, restrictFiles } = parsed.data;
  const files = Object.entries(tables).map(([name, spec]) => {
    const { file, ...csv } = typeof spec === 'string' ? { file: spec } : spec;
    const path = isAbsolute(file) || !baseDir ? resolve(file) : resolve(baseDir, file);
    const ext = extname(path).toLowerCase();
    const reader = READERS[ext];
    if (!reader)
      throw new SyncError('invalid_option', `[duckdb] option "tables.${name}": ${file} is not .csv, .tsv, .parquet, .json or .ndjson`, {
        adapter: 'duckdb',
      });
    // CSV dialect is fixed rather than sniffed: DuckDB's sniffer can silently fall back to one column on a
    // ragged file (a partial, wrong read). Types are still detected.
    const defaultDelim = ext === '.tsv' ? '\t' : ',';
    const args =
      reader === 'read_csv'
        ? `, delim=${literal(csv.delim ?? defaultDelim)}, quote=${literal(csv.quote ?? '"')}, escape=${literal(csv.quote ?? '"')}, header=${csv.header ?? true}${csv.encoding ? `, encoding=${literal(csv.encoding)}` : ''}, strict_mode=true`
        : '';
    return { name, file, path, reader, args, csv: { ...csv, defaultDelim } };
  });
  let own: { instance: DuckDBInstance; connection: DuckDBConnection } | undefined;
  const root = resolve(baseDir ?? '.');
  const dirs = [root, ...allowPaths.map((p) => resolve(root, p))].map((d) => (d.endsWith(sep) ? d : d + sep));

  const attach = async (connection: DuckDBConnection): Promise<void> => {
    await createViews(connection);
    if (!restrictFiles) return;
    // The model may read only the config's folder, `allowPaths` and the tables' files; then the settings are
    // locked, so no statement can open them again (issue 11 §1).
    await connection.run(`SET allowed_directories = [${dirs.map(literal).join(', ')}]`);
    await connection.run(`SET allowed_paths = [${files.map((t) => literal(t.path)).join(', ')}]`);
    await connection.run(`SET enable_external_access = false`);
    await connection.run(`SET lock_configuration = true`);
  };
  const createViews = async (connection: DuckDBConnection): Promise<void> => {
    for (const t of files) {
      if (!existsSync(t.path))
        throw new SyncError('source_failed', `[duckdb] table "${t.name}": file not found: ${t.file}`, {
          adapter: 'duckdb',
          details: { table: t.name, file: t.file },
        });
      const problem = t.reader === 'read_csv' ? await csvProblem(connection, t.path, t.csv) : undefined;
      if (problem) {
        const fix = problem.options
          ? `; read it with the table options { file: ${JSON.stringify(t.file)}, ${optionsText(problem.options)} }`
          : '';
        throw new SyncError('source_failed', `[duckdb] table "${t.name}" (${t.file}): ${problem.message}${fix}`, {
          adapter: 'duckdb',
          details: { table: t.name, file: t.file, reason: problem.reason, ...(problem.options ? { options: problem.options } : {}) },
        });
      }
      try {
        await connection.run(`CREATE OR REPLACE TEMP VIEW ${ident(t.name)} AS SELECT * FROM ${t.reader}(${literal(t.path)}${t.args})`);
      } catch (e) {
        const where = t.reader === 'read_csv' ? await firstCsvReject(connection, t.path, t.args) : undefined;
        throw new SyncError('source_failed', `[duckdb] table "${t.name}" (${t.file})${where ?? `: ${firstLine(e)}`}`, {
          adapter: 'duckdb',
          details: { table: t.name, file: t.file },
          cause: e,
        });
      }
    }
  };
  const ownConnection = async (): Promise<DuckDBConnection> => {
    if (!own) {
      const instance = await DuckDBInstance.create(':memory:');
      const connection = await instance.connect();
      await attach(connection);
      own = { instance, connection };
    }
    return own.connection;
  };

  return {
    name: 'duckdb',
    attach,
    async describe(sql): Promise<Column[]> {
      const c = await ownConnection();
      const r = await c.runAndReadAll(`DESCRIBE (${sql})`);
      return (r.getRowObjectsJson() as Record<string, unknown>[]).map((x) => ({
        name: String(x.column_name),
        type: String(x.column_type),
      }));
    },
    async *read(sql, opts = {}) {
      const c = await ownConnection();
      const result = await c.stream(sql);
      const size = opts.batchSize ?? 2048;
      let batch: Record<string, unknown>[] = [];
      for await (const rows of result.yieldRowObjectJson()) {
        opts.signal?.throwIfAborted();
        for (const r of rows) {
          batch.push(r as Record<string, unknown>);
          if (batch.length >= size) {
            yield batch;
            batch = [];
          }
        }
      }
      if (batch.length) yield batch;
    },
    async close() {
      own?.connection.closeSync();
      own?.instance.closeSync();
      own = undefined;
    },
  };
}

/** Names the first bad line of a CSV that DuckDB refused (` line 3: Expected Number of Columns: 2 Found: 3`). */
async function firstCsvReject(connection: DuckDBConnection, path: string, args: string): Promise<string | undefined> {
  try {
    const relaxed = args.replace(', strict_mode=true', '');
    await connection.run(`SELECT count(*) FROM read_csv(${literal(path)}${relaxed}, store_rejects=true, all_varchar=true)`);
    const r = await connection.runAndReadAll(`SELECT line, error_message FROM reject_errors ORDER BY line LIMIT 1`);
    const row = r.getRowObjectsJson()[0];
    return row ? ` line ${String(row.line)}: ${String(row.error_message)}` : undefined;
  } catch {
    return undefined;
  }
}

/** `delim: ";", header: false` */
const optionsText = (o: CsvOptions): string =>
  Object.entries(o)
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .join(', ');

const firstLine = (e: unknown): string => String((e as Error)?.message ?? e).split('\n')[0]!;
