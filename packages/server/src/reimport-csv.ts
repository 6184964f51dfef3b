import { copyFile, rename, rm } from 'node:fs/promises';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';
import { literal } from '@syncline/core';
import { ApiError } from './api-error.js';
import { lockDown } from './lock-down.js';
import { listTableFiles, type Workspace } from './workspace.js';

/** The options of *Re-import with options*: DuckDB `read_csv`'s `delim`, `quote` and `header`. */
export interface CsvOptions {
  /** One character; `\t` (backslash-t, as typed) is a tab. */
  delimiter: string;
  /** One character, or empty for none. */
  quote: string;
  header: boolean;
}

/**
 * Reads a CSV table again with the given options and rewrites its file as plain CSV (comma, double quotes, a
 * header row), so the sandbox, the CLI and every run read it the same way with no options at all. The file as
 * uploaded is kept in `data/.originals/`, and every re-import reads that one, so options can be tried again.
 * DuckDB runs in a fresh instance locked to the workspace. A file the options cannot read is left as it was,
 * and the error names the file and the line (`data/users.csv line 3: Expected Number of Columns: 2 Found: 3`).
 * @example await reimportCsv(ws, 'users', { delimiter: ';', quote: '"', header: true })
 */
export async function reimportCsv(ws: Workspace, name: string, o: CsvOptions): Promise<void> {
  const t = listTableFiles(ws).find((x) => x.name === name);
  if (!t) throw new ApiError('not_found', `no table named "${name}"`, 404);
  if (t.format !== 'csv') throw new ApiError('invalid_request', `${t.file} is ${t.format}, not CSV: it has no CSV options`, 400);
  const delimiter = o.delimiter === '\\t' ? '\t' : o.delimiter;
  if ([...delimiter].length !== 1)
    throw new ApiError('invalid_request', 'delimiter: one character (\\t for a tab)', 400, { field: 'delimiter' });
  const originals = join(ws.dataDir, '.originals');
  mkdirSync(originals, { recursive: true });
  const original = join(originals, `${name}.csv`);
  if (!existsSync(original)) await copyFile(t.path, original);
  const part = join(ws.dataDir, `.reimport-${randomBytes(8).toString('hex')}.part`);
  const instance = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
  const conn = await instance.connect();
  try {
    await lockDown(conn, { dir: ws.dir, threads: 2, memoryLimit: '512MB' });
    // `skip = 0`: left to itself the sniffer may skip the lines before an inconsistent one, and rows would be lost.
    const read = `read_csv(${literal(original)}, delim = ${literal(delimiter)}, quote = ${literal(o.quote)}, header = ${o.header}, skip = 0)`;
    await conn.run(`COPY (SELECT * FROM ${read}) TO ${literal(part)} (FORMAT csv, HEADER true)`);
    await rename(part, t.path);
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw csvError(t.file, String((e as Error)?.message ?? e));
  } finally {
    conn.closeSync();
    instance.closeSync();
    await rm(part, { force: true });
  }
}

/**
 * DuckDB's CSV error in one line naming the file and the line: `data/users.csv line 1,204: Expected Number of
 * Columns: 7 Found: 8` (DuckDB's message is several lines: the line number, the original line, the cause, fixes).
 */
export function csvError(file: string, message: string): ApiError {
  const line = /CSV Error on Line: (\d+)/.exec(message)?.[1];
  const lines = message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const noise =
    /^([\w ]+Error: )?CSV Error on Line|^Original Line|^Possible fix|^\*|^(file|delimiter|quote|escape|new_line|header|skip_rows|comment|date_format|timestamp_format|null_padding|sample_size|ignore_errors|all_varchar|strict_mode)\s*=/i;
  const cause = (lines.find((l) => !noise.test(l)) ?? lines[0] ?? 'unreadable').replace(/^Invalid Input Error: /, '');
  return new ApiError(
    'invalid_request',
    `${file}${line ? ` line ${Number(line).toLocaleString('en-US')}` : ''}: ${cause}`,
    400,
    line ? { line: Number(line) } : {},
  );
}
