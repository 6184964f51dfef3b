import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type pg from 'pg';
import { parse as parseConnectionString } from 'pg-connection-string';
import { z } from 'zod';
import { SyncError, isSyncError, type Column, type Source } from '@syncline/core';
import { loadPg } from './load-pg.js';
import { SESSION_SETTINGS, columnMapping, unknownTypeOids, type ColumnMapping, type PgTypeInfo } from './postgres-types.js';

const tlsFileSchema = z.string().min(1);

export const postgresSourceOptionsSchema = z.strictObject({
  /** `postgres://user:password@host:port/db?sslmode=…`. Default: the `DATABASE_URL` environment variable. */
  url: z.string().min(1).optional(),
  /**
   * TLS: `true` (verify against the system's CAs), `false` (no TLS), or the details. `ca`, `cert` and `key`
   * are PEM files (relative to `baseDir`) or PEM text. When given, it replaces the URL's `sslmode`.
   */
  ssl: z
    .union([
      z.boolean(),
      z.strictObject({
        rejectUnauthorized: z.boolean().optional(),
        ca: tlsFileSchema.optional(),
        cert: tlsFileSchema.optional(),
        key: tlsFileSchema.optional(),
        servername: z.string().min(1).optional(),
      }),
    ])
    .optional(),
  /** Rows fetched from the server-side cursor at a time (bounds memory). Default 10,000. */
  batchSize: z.number().int().min(1).max(1_000_000).default(10_000),
  /** Relative TLS file paths resolve against this folder (the config's folder). */
  baseDir: z.string().optional(),
});

export type PostgresSourceOptions = z.input<typeof postgresSourceOptionsSchema> & {
  /** An application's own pool (e.g. with its secrets manager's credentials); `url` and `ssl` are then ignored. Not closed by `close()`. */
  pool?: pg.Pool;
};

/** Every value arrives as Postgres' text output: the mapping in postgres-types.ts converts it exactly. */
export const RAW_TYPES = { getTypeParser: () => (text: string) => text };

/**
 * A PostgreSQL database (or any server speaking its protocol: Supabase, Neon, AlloyDB, Timescale…) as a
 * Syncline source. The model runs in Postgres, in a read-only transaction, and its rows stream through a
 * server-side cursor `batchSize` rows at a time into the local DuckDB ledger (the source has no `attach`).
 * @example postgresSource({ url: process.env.DATABASE_URL })
 */
export function postgresSource(options: PostgresSourceOptions = {}): Source {
  const { pool: injected, ...rest } = options;
  const { o, url, where } = parseOptions(postgresSourceOptionsSchema, rest, injected);
  let own: pg.Pool | undefined;
  /** The pool, once `connect` made it (the driver loads on the first connection, see `loadPg`). */
  const pool = (): pg.Pool => injected ?? own!;

  const connect = async (): Promise<pg.PoolClient> => {
    try {
      if (!injected && !own) {
        const { pg } = await loadPg();
        if (!own) {
          own = new pg.Pool({ ...connectionConfig(url!, o.ssl, o.baseDir), max: 2, application_name: 'syncline' });
          // An idle client's error (the server restarted) must not crash the process; the next query reports it.
          own.on('error', () => undefined);
        }
      }
      return await pool().connect();
    } catch (e) {
      if (isSyncError(e)) throw e;
      throw new SyncError('source_failed', `[postgres] cannot connect to ${where}: ${firstLine(e)}`, { adapter: 'postgres', cause: e });
    }
  };

  /** Runs `fn` in a read-only transaction with the session settings the type mapping relies on. */
  const readOnly = async <T>(client: pg.PoolClient, fn: () => Promise<T>): Promise<T> => {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(SESSION_SETTINGS);
    const value = await fn();
    await client.query('COMMIT');
    return value;
  };

  return {
    name: 'postgres',
    async describe(sql, opts = {}): Promise<Column[]> {
      const client = await connect();
      let broken: Error | undefined;
      const stop = cancelOn(opts.signal, client, pool());
      try {
        return await readOnly(client, async () => {
          const wrapped = `SELECT * FROM (\n${body(sql)}\n) AS model LIMIT 0`;
          const r = await client.query({ text: wrapped, rowMode: 'array', types: RAW_TYPES }).catch((e: unknown) => {
            throw modelError(e, sql, 'SELECT * FROM (\n'.length);
          });
          return (await columnMappings(client, r.fields)).map((m) => ({ name: m.name, type: m.duckdbType }));
        });
      } catch (e) {
        broken = e as Error;
        throw e;
      } finally {
        stop();
        client.release(broken);
      }
    },
    async *read(sql, opts = {}) {
      const size = opts.batchSize ?? o.batchSize;
      const client = await connect();
      let done = false;
      const stop = cancelOn(opts.signal, client, pool());
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        await client.query(SESSION_SETTINGS);
        const { Cursor } = await loadPg();
        const cursor = client.query(new Cursor(body(sql), [], { rowMode: 'array', types: RAW_TYPES }));
        const next = (): Promise<{ rows: (string | null)[][]; fields: pg.FieldDef[] }> =>
          new Promise((done, failed) =>
            cursor.read(size, (err, rows, result) =>
              err ? failed(modelError(err, sql, 0)) : done({ rows, fields: result?.fields ?? [] }),
            ),
          );
        let columns: ColumnMapping[] | undefined;
        let rowNumber = 0;
        for (;;) {
          const { rows, fields } = await next();
          opts.signal?.throwIfAborted();
          if (rows.length === 0) break;
          columns ??= await columnMappings(client, fields);
          const batch = rows.map((values) => {
            rowNumber += 1;
            return toObject(values, columns!, rowNumber);
          });
          yield batch;
        }
        await new Promise<void>((done) => cursor.close(() => done()));
        await client.query('COMMIT');
        done = true;
      } finally {
        stop();
        // A client whose read failed or was abandoned mid-cursor is discarded, not returned to the pool.
        client.release(!done);
      }
    },
    async close() {
      await own?.end();
      own = undefined;
    },
  };
}

/**
 * The mapping of each result column (see `columnMapping`), looking up `pg_type` for types outside the
 * built-in table; refuses a column name that appears twice.
 */
export async function columnMappings(client: pg.ClientBase, fields: pg.FieldDef[]): Promise<ColumnMapping[]> {
  const seen = new Set<string>();
  for (const f of fields) {
    if (seen.has(f.name))
      throw new SyncError('model_failed', `model query failed: column "${f.name}" appears twice; give each column its own name`, {
        details: { column: f.name },
      });
    seen.add(f.name);
  }
  const unknown = unknownTypeOids(fields);
  const info = new Map<number, PgTypeInfo>();
  if (unknown.length) {
    const r = await client.query<{ oid: number; name: string; category: string; elem: number }>(
      `SELECT oid::int AS oid, typname AS name, typcategory AS category, typelem::int AS elem FROM pg_type
        WHERE oid = ANY($1::oid[]) OR oid IN (SELECT typelem FROM pg_type WHERE oid = ANY($1::oid[]))`,
      [unknown],
    );
    for (const t of r.rows) info.set(Number(t.oid), { oid: Number(t.oid), name: t.name, category: t.category, elem: Number(t.elem) });
  }
  return fields.map((f) => columnMapping(f, info));
}

/**
 * Validates options against `schema` (`invalid_option` naming the option) and resolves the URL (default
 * `DATABASE_URL`; required unless a pool is injected). `where` names the server for messages, never the user
 * or the password.
 */
export function parseOptions<S extends z.ZodType<{ url?: string | undefined }>>(
  schema: S,
  options: unknown,
  injected: pg.Pool | undefined,
): { o: z.output<S>; url: string | undefined; where: string } {
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SyncError('invalid_option', `[postgres] option "${issue.path.join('.')}": ${issue.message}`, { adapter: 'postgres' });
  }
  const o = parsed.data;
  const url = o.url ?? process.env.DATABASE_URL;
  if (!injected && !url)
    throw new SyncError('invalid_option', '[postgres] option "url": required (or set DATABASE_URL)', { adapter: 'postgres' });
  return { o, url, where: url ? serverOf(url) : 'the database' };
}

/** One row (values in column order, as text) as an object of converted values. */
function toObject(values: (string | null)[], columns: ColumnMapping[], rowNumber: number): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i]!;
    const v = values[i];
    try {
      row[c.name] = v === null || v === undefined ? null : c.convert(v);
    } catch (e) {
      throw new SyncError(
        'source_failed',
        `[postgres] column "${c.name}" (${c.pgType}), row ${rowNumber} of the model: ${(e as Error).message}`,
        {
          adapter: 'postgres',
          details: { column: c.name, type: c.pgType, row: rowNumber },
        },
      );
    }
  }
  return row;
}

/** The model without trailing semicolons (it is wrapped in a subquery, and a cursor takes one statement). */
export const body = (sql: string): string => sql.replace(/[;\s]+$/, '');

/** A Postgres error of the model as a `model_failed` SyncError with the model's line and column. */
export function modelError(e: unknown, sql: string, prefix: number): SyncError {
  if (isSyncError(e)) return e;
  const err = e as Error & { position?: string; code?: string };
  const offset = err.position ? Number(err.position) - 1 - prefix : -1;
  let details: Record<string, unknown> | undefined;
  if (offset >= 0 && offset <= sql.length) {
    const before = sql.slice(0, offset).split('\n');
    details = { line: before.length, column: before.at(-1)!.length + 1 };
  }
  if (err.code === '57014') return new SyncError('aborted', 'the model query was cancelled', { cause: e });
  return new SyncError('model_failed', `model query failed: ${firstLine(e)}`, { cause: e, ...(details ? { details } : {}) });
}

/** On abort, asks the server to cancel the client's running query (from another connection). */
function cancelOn(signal: AbortSignal | undefined, client: pg.PoolClient, pool: pg.Pool): () => void {
  if (!signal) return () => undefined;
  const pid = (client as unknown as { processID?: number }).processID;
  const cancel = (): void => {
    if (pid !== undefined) pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
  };
  if (signal.aborted) cancel();
  signal.addEventListener('abort', cancel, { once: true });
  return () => signal.removeEventListener('abort', cancel);
}

/** `pg`'s config from the URL, with the `ssl` option (when given) replacing the URL's `sslmode`. */
export function connectionConfig(
  url: string,
  ssl: z.infer<typeof postgresSourceOptionsSchema>['ssl'],
  baseDir: string | undefined,
): pg.PoolConfig {
  if (ssl === undefined) return { connectionString: url };
  const { ssl: _fromUrl, ...fromUrl } = parseConnectionString(url);
  const pem = (value: string | undefined, option: string): string | undefined => {
    if (value === undefined || value.startsWith('-----BEGIN')) return value;
    const path = isAbsolute(value) || !baseDir ? resolve(value) : resolve(baseDir, value);
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      throw new SyncError('invalid_option', `[postgres] option "ssl.${option}": cannot read ${value}: ${firstLine(e)}`, {
        adapter: 'postgres',
      });
    }
  };
  const tls =
    typeof ssl === 'boolean'
      ? ssl
      : {
          ...(ssl.rejectUnauthorized !== undefined ? { rejectUnauthorized: ssl.rejectUnauthorized } : {}),
          ...(ssl.ca ? { ca: pem(ssl.ca, 'ca') } : {}),
          ...(ssl.cert ? { cert: pem(ssl.cert, 'cert') } : {}),
          ...(ssl.key ? { key: pem(ssl.key, 'key') } : {}),
          ...(ssl.servername ? { servername: ssl.servername } : {}),
        };
  return { ...(fromUrl as pg.PoolConfig), ssl: tls };
}

/** `host:port/db` of a URL, never its user or password (for messages). */
export function serverOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname.length > 1 ? u.pathname : ''}`;
  } catch {
    return 'the database (its URL does not parse)';
  }
}

export const firstLine = (e: unknown): string => String((e as Error)?.message ?? e).split('\n')[0]!;
