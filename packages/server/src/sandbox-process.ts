/**
 * The SQL sandbox: a child process holding its own in-memory DuckDB with the workspace's files as views.
 * Configured per DuckDB's "Securing DuckDB" guide: extension autoload/autoinstall off at creation, then
 * (after opening, as instance options fail with "Failed to set config") `allowed_directories` = the
 * workspace, `enable_external_access = false`, memory/thread limits and `lock_configuration = true`.
 * A crash or hang here never takes the server down: the parent replaces the process.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ident, literal } from '@syncline/core';
import { lockDown } from './lock-down.js';
import { duckdbSource } from '@syncline/source-duckdb';
import { checkReadStatement, toSqlError } from './check-statement.js';
import { profileColumns } from './profile-columns.js';
import { isApiError } from './api-error.js';
import type {
  Completions,
  CsvDialect,
  QueryResult,
  SandboxInit,
  SandboxReply,
  SandboxRequest,
  SandboxStarted,
  SandboxTable,
  TableInfo,
} from './sandbox-protocol.js';

const send = (m: SandboxReply | SandboxStarted): void => void process.send!(m);

const pool: { conn: DuckDBConnection; job: number | undefined }[] = [];
const waiting: ((c: (typeof pool)[number]) => void)[] = [];
let tables: SandboxTable[] = [];

async function open(init: SandboxInit): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const setup = await instance.connect();
  const tempDirectory = join(init.dir, '.syncline', 'sandbox.tmp');
  mkdirSync(tempDirectory, { recursive: true });
  await lockDown(setup, { dir: init.dir, memoryLimit: init.memoryLimit, threads: init.threads, tempDirectory });
  setup.closeSync();
  for (let i = 0; i < init.connections; i++) pool.push({ conn: await instance.connect(), job: undefined });
  tables = init.tables;
  await attachAll();
}

/** Every connection sees every table (temporary views are per connection). Returns each table's problem. */
async function attachAll(): Promise<Map<string, string>> {
  const problems = new Map<string, string>();
  for (const p of pool) {
    const views = await p.conn.runAndReadAll(`SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal`);
    for (const v of views.getRowObjectsJson()) await p.conn.run(`DROP VIEW IF EXISTS ${ident(String(v.view_name))}`);
    for (const t of tables) {
      try {
        await duckdbSource({ tables: { [t.name]: t.path } }).attach!(p.conn);
      } catch (e) {
        problems.set(t.name, String((e as Error).message));
      }
    }
  }
  return problems;
}

async function take(id: number): Promise<(typeof pool)[number]> {
  const free = pool.find((p) => p.job === undefined);
  const slot = free ?? (await new Promise<(typeof pool)[number]>((r) => waiting.push(r)));
  slot.job = id;
  return slot;
}

function release(slot: (typeof pool)[number]): void {
  slot.job = undefined;
  const next = waiting.shift();
  if (next) next(slot);
}

async function query(conn: DuckDBConnection, sql: string, limit: number): Promise<QueryResult> {
  const t0 = performance.now();
  await checkReadStatement(conn, sql);
  try {
    const reader = await conn.streamAndReadUntil(sql, limit + 1);
    const rows = reader.getRowObjectsJson().slice(0, limit) as Record<string, unknown>[];
    const names = reader.columnNames();
    const types = reader.columnTypes().map(String);
    let total = reader.currentRowCount;
    // Counting the rest runs the statement again inside count(*): no row reaches JavaScript.
    if (!reader.done) {
      const r = await conn.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM (${sql.replace(/;\s*$/, '')})`).catch(() => undefined);
      if (r) total = Number(r.getRowObjectsJson()[0]!.n);
    }
    return { columns: names.map((name, i) => ({ name, type: types[i]! })), rows, total, elapsedMs: Math.round(performance.now() - t0) };
  } catch (e) {
    throw toSqlError(e, sql);
  }
}

async function describeTables(conn: DuckDBConnection, problems: Map<string, string>): Promise<TableInfo[]> {
  const out: TableInfo[] = [];
  for (const t of tables) {
    const error = problems.get(t.name);
    const csv = /\.csv$/i.test(t.path) ? await sniffCsv(conn, t.path, !!error) : undefined;
    if (error) {
      out.push({ name: t.name, columns: [], rowCount: 0, error, ...(csv ? { csv } : {}) });
      continue;
    }
    const cols = await conn.runAndReadAll(`DESCRIBE ${ident(t.name)}`);
    const n = await conn.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM ${ident(t.name)}`);
    const columns = cols.getRowObjectsJson().map((c) => ({ name: String(c.column_name), type: String(c.column_type) }));
    out.push({
      name: t.name,
      columns,
      rowCount: Number(n.getRowObjectsJson()[0]!.n),
      ...(csv ? { csv: { ...csv, unsure: csv.unsure || columns.length === 1 } } : {}),
    });
  }
  return out;
}

/** What DuckDB's CSV sniffer made of a file (its defaults, unsure, when it could not tell). */
async function sniffCsv(conn: DuckDBConnection, path: string, failed: boolean): Promise<CsvDialect> {
  try {
    const r = await conn.runAndReadAll(`SELECT Delimiter AS d, Quote AS q, HasHeader AS h FROM sniff_csv(${literal(path)})`);
    const row = r.getRowObjectsJson()[0]!;
    const header = row.h === true;
    // The sniffer says `(empty)` for a character it found no use of (no quoted field): DuckDB's default applies.
    const or = (v: unknown, fallback: string) => (v === null || v === undefined || v === '(empty)' ? fallback : String(v));
    return { delimiter: or(row.d, ','), quote: or(row.q, '"'), header, unsure: failed || !header };
  } catch {
    return { delimiter: ',', quote: '"', header: true, unsure: true };
  }
}

async function completions(conn: DuckDBConnection): Promise<Completions> {
  const info = await describeTables(conn, new Map());
  const fns = await conn.runAndReadAll(
    `SELECT DISTINCT function_name AS name, function_type AS type FROM duckdb_functions() WHERE NOT internal OR function_type IN ('scalar', 'aggregate', 'table') ORDER BY 1`,
  );
  const kws = await conn.runAndReadAll(`SELECT keyword_name FROM duckdb_keywords() ORDER BY 1`);
  return {
    tables: info.map((t) => ({ name: t.name, columns: t.columns })),
    functions: fns.getRowObjectsJson().map((f) => ({ name: String(f.name), type: String(f.type) })),
    keywords: kws.getRowObjectsJson().map((k) => String(k.keyword_name)),
  };
}

async function handle(m: SandboxRequest): Promise<void> {
  if (m.type === 'interrupt') {
    // DuckDB clears a connection's interrupt flag when a statement begins, so an interrupt that lands
    // between 'started' and the statement's first step would be lost: poke until the job lets go of its slot.
    const poke = (): void => {
      const slot = pool.find((p) => p.job === m.id);
      if (!slot) return;
      slot.conn.interrupt();
      setTimeout(poke, 100).unref();
    };
    poke();
    return;
  }
  if (m.type === 'crash') process.abort(); // for the "a crashed sandbox is replaced" test
  const slot = await take(m.id);
  send({ type: 'started', id: m.id });
  try {
    let value: unknown;
    if (m.type === 'query') value = await query(slot.conn, m.sql, m.limit);
    else if (m.type === 'profile') value = await profileColumns(slot.conn, m.sql);
    else if (m.type === 'completions') value = await completions(slot.conn);
    else {
      tables = m.tables;
      value = await describeTables(slot.conn, await attachAll());
    }
    send({ type: 'reply', id: m.id, ok: true, value });
  } catch (e) {
    const error = isApiError(e)
      ? { code: e.code, message: e.message, status: e.status, details: e.details }
      : { code: 'query_failed', message: String((e as Error)?.message ?? e).split('\n')[0]!, status: 400 };
    send({ type: 'reply', id: m.id, ok: false, error });
  } finally {
    release(slot);
  }
}

process.once('message', (init: SandboxInit) => {
  open(init).then(
    () => {
      process.on('message', (m: SandboxRequest) => void handle(m));
      send({ type: 'reply', id: 0, ok: true });
    },
    (e: unknown) =>
      send({ type: 'reply', id: 0, ok: false, error: { code: 'internal', message: String((e as Error).message), status: 500 } }),
  );
});
process.on('disconnect', () => process.exit(0));
