import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type pg from 'pg';
import { z } from 'zod';
import {
  CRASHED,
  runRecordFromRow,
  RUNNING,
  SyncError,
  ident,
  isSyncError,
  type Column,
  type DeleteWindow,
  type HttpExchange,
  type KeyHealth,
  type Ledger,
  type LedgerWrite,
  type RowResult,
  type RunRecord,
  type StageOptions,
  type StagedChange,
} from '@syncline/core';
import { SESSION_SETTINGS } from './postgres-types.js';
import { loadPg } from './load-pg.js';
import {
  RAW_TYPES,
  body,
  columnMappings,
  connectionConfig,
  firstLine,
  modelError,
  parseOptions,
  postgresSourceOptionsSchema,
} from './postgres-source.js';
import { modelRowSql, rowHashToUuid, uuidToRowHash } from './postgres-payload.js';

export const postgresLedgerOptionsSchema = postgresSourceOptionsSchema.extend({
  /** The sync's name: its rows in the ledger's tables carry it, and its advisory lock is derived from it. */
  sync: z.string().min(1),
  /** The schema holding the ledger's tables (created when missing; needs only CREATE on it). Default `syncline`. */
  schema: z.string().min(1).max(63).default('syncline'),
  /** Per-row results and HTTP exchanges kept: runs of the last `days` (default 90), at most the last `runs`. */
  retention: z.strictObject({ days: z.number().int().min(0).optional(), runs: z.number().int().min(1).optional() }).optional(),
  commitWindowMs: z.number().int().min(0).optional(),
  commitWindowRows: z.number().int().min(1).optional(),
  /**
   * Whether opening may create the schema and its tables (default true). False for a dry run (`syncline
   * plan`): nothing is created or written; a schema without the ledger's tables is planned against empty
   * temporary tables of the session (every row an add), gone when it closes.
   */
  create: z.boolean().default(true),
  /** `work_mem` of the diff statement (its hash join over the snapshot's keys). Default `256MB`. */
  workMem: z
    .string()
    .regex(/^\d+\s*(kB|MB|GB)$/)
    .default('256MB'),
});

export type PostgresLedgerOptions = z.input<typeof postgresLedgerOptionsSchema> & {
  /** An application's own pool: the ledger holds one of its clients while open (its session holds the lock). */
  pool?: pg.Pool;
};

/** What left Postgres for the run loop (changed rows read through the cursor), for benchmarks and tests. */
export interface LedgerTraffic {
  /** Rows streamed by `readChanges` (and previews/exports). */
  rows: number;
  /** Characters of their keys, payloads and befores. */
  chars: number;
}

/** Temporary tables of the ledger's session. */
const STAGED = 'pg_temp.syncline_staged';
const CHANGES = 'pg_temp.syncline_changes';
const GONE = 'pg_temp.syncline_gone';
/** A staged row's action, and its rank in the plan's order (add → change → remove). */
const ACTION = `CASE WHEN NOT present THEN 'remove' WHEN known THEN 'change' ELSE 'add' END`;
const RANK = `CASE WHEN NOT present THEN 2 WHEN known THEN 1 ELSE 0 END`;
const BLANK_KEY = `(k IS NULL OR btrim(k, ' ') = '')`;
/**
 * Staged rows that are changes (or removals); the others are unchanged rows whose snapshot fingerprint is
 * missing or stale (payload NULL), staged only so that the run's `fold` can store their fingerprint.
 */
const IS_CHANGE = `(payload IS NOT NULL OR NOT present)`;

/**
 * The warehouse ledger: the sync's snapshot, keys in doubt, run records, row results and HTTP exchanges live in
 * Postgres (schema `syncline` by default, tables shared by syncs and keyed by the sync's name), and the model,
 * its payloads, their md5 and the diff run inside Postgres in one statement. Only changed rows leave the
 * database, streamed through a cursor. Confirmed batches commit in Postgres transactions with the same crash
 * safety as core's DuckDB ledger (a key is in doubt before its request leaves, and enters the snapshot only
 * once confirmed). The ledger holds one session for its lifetime: its advisory lock refuses a second
 * concurrent run of the same sync (`locked`), and its temporary tables hold the diff.
 *
 * Grants: `CREATE` (and `USAGE`) on the ledger's schema (or `CREATE` on the database, to let it create the
 * schema), `SELECT` on the model's tables.
 * @example const ledger = await openPostgresLedger({ url: process.env.DATABASE_URL, sync: 'users' })
 */
export async function openPostgresLedger(
  options: PostgresLedgerOptions,
): Promise<Ledger & { traffic: LedgerTraffic; schema: string; readonly ephemeral: boolean }> {
  const { pool: injected, ...rest } = options;
  const { o, url, where } = parseOptions(postgresLedgerOptionsSchema, rest, injected);
  const config = url ? connectionConfig(url, o.ssl, o.baseDir) : undefined;
  const { pg, Cursor } = await loadPg();
  // The ledger's tables: in its schema, or (a dry run on a schema without them) the session's temporary ones.
  let S = ident(o.schema);
  const sync = o.sync;
  /**
   * Whether the snapshot has the fingerprint column `f` (added in place to a ledger made before it; a dry run
   * on such a ledger compares rows by their payload hash alone, as before).
   */
  let fingerprints = false;

  let client: pg.ClientBase;
  let release: (broken?: Error) => Promise<void>;
  try {
    if (injected) {
      const c = await injected.connect();
      client = c;
      release = async (broken) => c.release(broken ?? true);
    } else {
      const c = new pg.Client({ ...config!, application_name: 'syncline-ledger' });
      c.on('error', () => undefined);
      await c.connect();
      client = c;
      release = () => c.end();
    }
  } catch (e) {
    throw new SyncError('ledger_failed', `[postgres] cannot connect to ${where}: ${firstLine(e)}`, { adapter: 'postgres', cause: e });
  }
  const pid = (client as unknown as { processID?: number }).processID;
  /** Bytes of the ledger's tables with their indexes and TOAST (shared by the schema's syncs); 0 for temporary ones. */
  let sizeBytes = 0;
  const tablesSize = async (): Promise<number> =>
    S === 'pg_temp'
      ? 0
      : Number(
          (
            await client.query<{ n: string }>({
              text: `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                      WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname = ANY($2)`,
              values: [o.schema, LEDGER_TABLES],
              types: RAW_TYPES,
            })
          ).rows[0]!.n,
        );

  // Every statement of the ledger goes through its one session, one at a time (commits from concurrent
  // operations are serialised, as on the DuckDB ledger's connection).
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = queue.then(fn);
    queue = p.catch(() => undefined);
    return p;
  };
  const q = async <R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]> =>
    (await client.query<R>({ text, values: values ?? [], types: RAW_TYPES })).rows;
  const fail = (what: string, e: unknown): SyncError =>
    isSyncError(e)
      ? e
      : new SyncError('ledger_failed', `[postgres] ledger ${what} failed: ${firstLine(e)}`, { adapter: 'postgres', cause: e });
  const inTransaction = async <T>(what: string | undefined, fn: () => Promise<T>, begin = 'BEGIN'): Promise<T> => {
    await client.query(begin);
    try {
      const v = await fn();
      await client.query('COMMIT');
      return v;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw what === undefined ? e : fail(what, e);
    }
  };

  try {
    // Session settings the payload's text relies on (UTC timestamps, ISO dates and intervals, exact floats).
    await client.query(SESSION_SETTINGS.replaceAll('SET LOCAL', 'SET'));
    const lock = await q<{ ok: string }>(`SELECT pg_try_advisory_lock($1::bigint) AS ok`, [lockKey(o.schema, sync)]);
    if (lock[0]?.ok !== 't')
      throw new SyncError(
        'locked',
        `another run of sync "${sync}" is in progress (it holds the Postgres advisory lock of ${o.schema}.${sync} on ${where})`,
        { adapter: 'postgres', details: { sync, schema: o.schema } },
      );
    if (o.create) await createSchema(client, o.schema);
    else if (!(await hasLedgerTables(client, o.schema))) {
      S = 'pg_temp';
      for (const sql of tableStatements(S)) await client.query(sql);
    }
    fingerprints = S === 'pg_temp' || (await hasFingerprints(client, o.schema));
    sizeBytes = await tablesSize();
  } catch (e) {
    await release(e as Error).catch(() => undefined);
    if (isSyncError(e)) throw e;
    throw fail('setup', e);
  }

  const traffic: LedgerTraffic = { rows: 0, chars: 0 };
  let staged:
    | {
        rows: number;
        previous: number;
        knownRows: number;
        gone: number;
        nullKeys: number;
        modelSql: string;
        key: string;
        /** Staged unchanged rows whose snapshot fingerprint `fold` stores. */
        refresh: number;
        /** Whether the staged table is indexed by key (for the fingerprints of confirmed upserts). */
        indexed: boolean;
      }
    | undefined;
  let closed = false;
  /**
   * The snapshot's and the known keys' counts as the last stage read them (each a scan of the snapshot, which
   * the stage already made), until the next write.
   */
  let sizes: { snapshot: number; known: number } | undefined;

  /**
   * Runs `fn` in one snapshot of the database (`REPEATABLE READ`), read-only unless `writes` (the diff's
   * `CREATE TEMP TABLE … AS`, which PostgreSQL refuses in a read-only transaction); `signal` cancels the
   * statement on the server.
   */
  const readOnly = async <T>(signal: AbortSignal | undefined, fn: () => Promise<T>, extra = '', writes = false): Promise<T> => {
    const stop = cancelOn(signal, pid, config, injected);
    try {
      return await inTransaction(
        undefined,
        async () => {
          if (extra) await client.query(extra);
          return fn();
        },
        `BEGIN ISOLATION LEVEL REPEATABLE READ ${writes ? 'READ WRITE' : 'READ ONLY'}`,
      );
    } catch (e) {
      if (signal?.aborted) throw new SyncError('aborted', 'the model query was cancelled', { cause: e });
      throw e;
    } finally {
      stop();
    }
  };

  /** Reads rows of a query through a cursor, `batchSize` at a time, counting what left the database. */
  const stream = async <R extends Record<string, string | null>>(text: string, values: unknown[]): Promise<R[]> => {
    const cursor = client.query(new Cursor<R>(text, values, { types: RAW_TYPES }));
    const out: R[] = [];
    try {
      for (;;) {
        const rows = await new Promise<R[]>((done, failed) => cursor.read(o.batchSize, (err, r) => (err ? failed(err) : done(r))));
        if (rows.length === 0) break;
        for (const r of rows) {
          out.push(r);
          traffic.rows += 1;
          for (const v of Object.values(r)) if (typeof v === 'string') traffic.chars += v.length;
        }
      }
    } finally {
      await new Promise<void>((done) => cursor.close(() => done()));
    }
    return out;
  };
  const toStaged = (r: Record<string, string | null>): StagedChange => ({
    seq: Number(r.seq),
    key: r.k!,
    action: r.action as StagedChange['action'],
    payload: r.payload ?? null,
    hash: r.action === 'remove' || r.h === null || r.h === undefined ? null : uuidToRowHash(r.h),
    before: r.before ?? null,
  });
  const keyOf = (key: string): string => `CAST(${ident(key)} AS text)`;
  const count = async (sql: string, values: unknown[] = [sync]): Promise<number> => Number((await q<{ n: string }>(sql, values))[0]!.n);

  const ledger = {
    schema: o.schema,
    /** True when opened with `create: false` on a schema without the ledger's tables: it reads empty temporary ones. */
    ephemeral: S === 'pg_temp',
    traffic,
    runsModel: true as const,
    commitWindow: { ms: o.commitWindowMs, rows: o.commitWindowRows },
    async meta(key: string): Promise<string | null> {
      return serial(
        async () => (await q<{ v: string | null }>(`SELECT v FROM ${S}.meta WHERE sync = $1 AND k = $2`, [sync, key]))[0]?.v ?? null,
      );
    },
    async setMeta(key: string, value: string): Promise<void> {
      await serial(() =>
        q(`INSERT INTO ${S}.meta (sync, k, v) VALUES ($1, $2, $3) ON CONFLICT (sync, k) DO UPDATE SET v = excluded.v`, [sync, key, value]),
      );
    },
    /** The model's columns, typed by their Postgres names (`bigint`, `timestamp with time zone`, `text[]`…). */
    async describe(modelSql: string): Promise<Column[]> {
      return serial(() =>
        readOnly(undefined, async () => {
          const r = await client
            .query({ text: `SELECT * FROM (\n${body(modelSql)}\n) AS model LIMIT 0`, rowMode: 'array', types: RAW_TYPES })
            .catch((e: unknown) => {
              throw modelError(e, modelSql, 'SELECT * FROM (\n'.length);
            });
          return (await columnMappings(client, r.fields)).map((m) => ({ name: m.name, type: m.pgType }));
        }),
      );
    },
    /**
     * Runs the model inside Postgres, builds each row's payload text and md5 and joins it with the snapshot's
     * `(key, hash)`. Only rows that differ (and keys that left the model) are written, to the session's
     * temporary table; unchanged rows are only counted. Every statement is one PostgreSQL can run with
     * parallel workers (`CREATE TABLE … AS`, plain `SELECT`s; PostgreSQL 15 runs `INSERT … SELECT`, full
     * outer hash joins and subqueries fenced with `OFFSET 0` on one backend), all in one read-only snapshot.
     */
    async stage(opts: StageOptions): Promise<number> {
      if (!opts.fields || !opts.columns)
        throw new SyncError('ledger_failed', 'the warehouse ledger needs the mapping and the columns to stage');
      const row = modelRowSql(opts.key, opts.fields, opts.columns, opts.salt);
      const P = row.payload;
      // Not fenced (no OFFSET 0, which would keep the scan on one backend): the planner inlines the subquery,
      // so each expression is evaluated where it is used. Every row evaluates only its key and fingerprint;
      // the payload and its md5 are built only for rows kept (new keys, and keys whose fingerprint differs
      // from the snapshot's: changed rows, and unchanged rows whose stored fingerprint is missing or stale).
      const model = `SELECT ${row.select} FROM (\n${body(opts.modelSql)}\n) AS model`;
      const keys = `SELECT ${keyOf(opts.key)} AS k FROM (\n${body(opts.modelSql)}\n) AS model`;
      /** Rows and an order-free sum of 64-bit key hashes: equal multisets of keys give equal sums. */
      const keySum = (from: string): string =>
        `SELECT count(*) AS n, coalesce(sum(hashtextextended(k, 0)::numeric), 0) AS s FROM (${from}) AS x`;
      return serial(async () => {
        staged = undefined;
        await q(`DROP TABLE IF EXISTS ${STAGED}`);
        await q(`DROP TABLE IF EXISTS ${CHANGES}`);
        await q(`DROP TABLE IF EXISTS ${GONE}`);
        sizes = undefined;
        const doubts = await count(`SELECT count(*) AS n FROM ${S}.in_doubt WHERE sync = $1`);
        const first =
          doubts === 0 && (await count(`SELECT count(*) AS n FROM (SELECT 1 FROM ${S}.snapshot WHERE sync = $1 LIMIT 1) AS x`)) === 0;
        const f = fingerprints ? 'f' : 'NULL::bigint';
        // The keys the destination may hold, with the hash it confirmed and its fingerprint (NULL for a key in
        // doubt: always resent). A union, not a full join, so that it can be the parallel side of a hash join.
        const previous = (p: string): string =>
          doubts === 0
            ? `SELECT k, h, ${f} AS f FROM ${S}.snapshot WHERE sync = ${p}`
            : `SELECT k, h, ${f} AS f FROM ${S}.snapshot AS s WHERE sync = ${p} AND NOT EXISTS (SELECT 1 FROM ${S}.in_doubt AS d WHERE d.sync = ${p} AND d.k = s.k)
               UNION ALL SELECT k, NULL::uuid, NULL::bigint FROM ${S}.in_doubt WHERE sync = ${p}`;
        const hash = `md5($1 || ${P})::uuid`;
        // A row with its snapshot's fingerprint is unchanged (its payload could not differ); any other known
        // row is a change only when its payload's hash differs (else it is kept with a NULL payload, so that
        // the run stores its fingerprint: a ledger made before fingerprints, or a type change that kept the
        // payload, costs the payload once more, not on every run).
        // Unchanged rows with a missing or stale fingerprint are kept only when the run can store theirs (not
        // on a dry run, which opens with `create: false`, nor on a ledger without the column).
        const refreshes = fingerprints && o.create && !opts.forceAll;
        const differs = 'p.f IS DISTINCT FROM m.syncline_f';
        const keep = opts.forceAll
          ? 'TRUE'
          : refreshes
            ? `p.k IS NULL OR ${differs}`
            : `p.k IS NULL OR (${differs} AND p.h IS DISTINCT FROM ${hash})`;
        const changed = first
          ? `CREATE TEMP TABLE syncline_staged AS
             SELECT m.syncline_k AS k, TRUE AS present, FALSE AS known, ${hash} AS h, ${P} AS payload, 1::bigint AS n, m.syncline_f AS f FROM (${model}) AS m`
          : `CREATE TEMP TABLE syncline_staged AS
             SELECT m.syncline_k AS k, TRUE AS present, p.k IS NOT NULL AS known, ${hash} AS h,
                    ${refreshes ? `CASE WHEN p.k IS NULL OR p.h IS DISTINCT FROM ${hash} THEN ${P} END` : P} AS payload, 1::bigint AS n, m.syncline_f AS f
               FROM (${model}) AS m LEFT JOIN (${previous('$2')}) AS p ON m.syncline_k = p.k
              WHERE ${keep}`;
        let c: { rows: number; knownRows: number; nullKeys: number; previous: number; gone: number; refresh: number } | undefined;
        await readOnly(
          opts.signal,
          async () => {
            await q(changed, first ? [opts.salt] : [opts.salt, sync]);
            const fresh = (
              await q<{ n: string; s: string; nulls: string; refresh: string }>(
                `SELECT count(*) FILTER (WHERE NOT known) AS n, coalesce(sum(hashtextextended(k, 0)::numeric) FILTER (WHERE NOT known), 0) AS s,
                        count(*) FILTER (WHERE NOT known AND ${BLANK_KEY}) AS nulls, count(*) FILTER (WHERE NOT ${IS_CHANGE}) AS refresh
                   FROM ${STAGED}`,
              )
            )[0]!;
            const refresh = Number(fresh.refresh);
            if (first) {
              c = { rows: Number(fresh.n), knownRows: 0, nullKeys: Number(fresh.nulls), previous: 0, gone: 0, refresh };
              sizes = { snapshot: 0, known: 0 };
              return;
            }
            const all = (await q<{ n: string; s: string }>(keySum(keys)))[0]!;
            const prev = (await q<{ n: string; s: string }>(keySum(previous('$1')), [sync]))[0]!;
            const knownRows = Number(all.n) - Number(fresh.n);
            // The model's known rows are exactly the previous keys, once each (the usual case: nothing removed,
            // no duplicate keys) when their count and key-hash sum match; otherwise the removed keys are found
            // by an anti-join (one more scan of the model's keys), written by CREATE TABLE AS (parallel).
            let gone = 0;
            if (knownRows !== Number(prev.n) || BigInt(all.s) - BigInt(fresh.s) !== BigInt(prev.s)) {
              await q(
                `CREATE TEMP TABLE syncline_gone AS SELECT p.k FROM (${previous('$1')}) AS p WHERE NOT EXISTS (SELECT 1 FROM (${keys}) AS m WHERE m.k = p.k)`,
                [sync],
              );
              gone = (await client.query(`INSERT INTO ${STAGED} SELECT k, FALSE, TRUE, NULL, NULL, 1, NULL FROM ${GONE}`)).rowCount ?? 0;
              await q(`DROP TABLE ${GONE}`);
            }
            c = { rows: Number(all.n), knownRows, nullKeys: Number(fresh.nulls), previous: Number(prev.n), gone, refresh };
            // Without keys in doubt the previous keys are the snapshot's.
            if (doubts === 0) sizes = { snapshot: Number(prev.n), known: Number(prev.n) };
          },
          `SET LOCAL work_mem = '${o.workMem}'`,
          true,
        ).catch((e: unknown) => {
          if (isSyncError(e)) throw e;
          throw modelError(e, opts.modelSql, 0);
        });
        staged = { ...c!, modelSql: opts.modelSql, key: opts.key, indexed: false };
        return staged.rows;
      });
    },
    /**
     * Null/blank and duplicate keys. Duplicates among changed or new rows are in the staged table; unchanged
     * duplicates (a known key twice with its old payload) show in the arithmetic of core's `checkKeys`, and
     * only then is the model grouped by key (one more scan).
     */
    async keyHealth(opts: { signal?: AbortSignal } = {}): Promise<KeyHealth> {
      const s = staged;
      if (!s) throw new SyncError('ledger_failed', 'keyHealth() needs a staged model (call stage() first)');
      return serial(async () => {
        const surplusAmongKnown = s.knownRows - (s.previous - s.gone);
        const groups =
          surplusAmongKnown > 0
            ? await readOnly(opts.signal, () =>
                q<{ k: string; c: string }>(
                  `SELECT k, count(*) AS c FROM (SELECT ${keyOf(s.key)} AS k FROM (\n${body(s.modelSql)}\n) AS model) AS m
                    WHERE NOT ${BLANK_KEY} GROUP BY k HAVING count(*) > 1 ORDER BY c DESC, k COLLATE "C"`,
                ),
              )
            : await q<{ k: string; c: string }>(
                `SELECT k, sum(n) AS c FROM ${STAGED} WHERE present AND NOT known AND NOT ${BLANK_KEY} GROUP BY k HAVING sum(n) > 1 ORDER BY c DESC, k COLLATE "C"`,
              );
        return {
          nullKeys: s.nullKeys,
          duplicateKeys: groups.length,
          duplicateSamples: groups.slice(0, 5).map((g) => ({ key: g.k, count: Number(g.c) })),
        };
      });
    },
    async snapshotSize(): Promise<number> {
      return serial(async () => sizes?.snapshot ?? count(`SELECT count(*) AS n FROM ${S}.snapshot WHERE sync = $1`));
    },
    async knownSize(): Promise<number> {
      return serial(
        async () =>
          sizes?.known ??
          count(`SELECT (SELECT count(*) FROM ${S}.snapshot WHERE sync = $1)
                    + (SELECT count(*) FROM ${S}.in_doubt AS d WHERE sync = $1 AND NOT EXISTS (SELECT 1 FROM ${S}.snapshot AS p WHERE p.sync = $1 AND p.k = d.k)) AS n`),
      );
    },
    /** Numbers the staged changes (add → change → remove, then key in byte order) into the session's `changes`. */
    async diff(opts: { before?: boolean; only?: 'all' | 'unsure' } = {}): Promise<{ add: number; change: number; remove: number }> {
      return serial(async () => {
        const before = opts.before ?? true;
        await q(`DROP TABLE IF EXISTS ${CHANGES}`);
        await q(`CREATE TEMP TABLE syncline_changes AS
          SELECT row_number() OVER (ORDER BY c.rank, c.k COLLATE "C") AS seq, c.k, c.action, c.payload, c.h,
                 ${before ? 'coalesce(p.payload, d.payload)' : 'NULL::text'} AS before
            FROM (SELECT k, payload, h, ${ACTION} AS action, ${RANK} AS rank FROM ${STAGED} WHERE ${IS_CHANGE}) AS c
            ${before ? `LEFT JOIN ${S}.snapshot AS p ON p.sync = ${literalOf(sync)} AND p.k = c.k LEFT JOIN ${S}.in_doubt AS d ON d.sync = ${literalOf(sync)} AND d.k = c.k` : ''}`);
        await q(`CREATE UNIQUE INDEX ON ${CHANGES} (seq)`);
        const out = { add: 0, change: 0, remove: 0 };
        for (const r of await q<{ action: keyof typeof out; n: string }>(`SELECT action, count(*) AS n FROM ${CHANGES} GROUP BY action`))
          out[r.action] = Number(r.n);
        return out;
      });
    },
    async befores(keys: string[]): Promise<Map<string, string>> {
      if (keys.length === 0) return new Map();
      const rows = await serial(() =>
        q<{ k: string; payload: string }>(
          `SELECT k, payload, 1 AS o FROM ${S}.in_doubt WHERE sync = $1 AND k = ANY($2) AND payload IS NOT NULL
           UNION ALL SELECT k, payload, 0 AS o FROM ${S}.snapshot WHERE sync = $1 AND k = ANY($2) ORDER BY o DESC`,
          [sync, keys],
        ),
      );
      return new Map(rows.map((r) => [r.k, r.payload]));
    },
    async rowNumbers(r: { modelSql: string; key: string; keys: string[]; signal?: AbortSignal | undefined }): Promise<Map<string, number>> {
      if (r.keys.length === 0) return new Map();
      const rows = await serial(() =>
        readOnly(r.signal, () =>
          q<{ k: string; rn: string }>(
            `SELECT k, rn FROM (SELECT ${keyOf(r.key)} AS k, row_number() OVER () AS rn FROM (\n${body(r.modelSql)}\n) AS model) AS m WHERE k = ANY($1)`,
            [[...new Set(r.keys)]],
          ),
        ),
      );
      return new Map(rows.map((x) => [x.k, Number(x.rn)]));
    },
    async keepChanges(n: number): Promise<void> {
      await serial(() => q(`DELETE FROM ${CHANGES} WHERE seq > $1`, [Math.max(0, Math.floor(n))]));
    },
    /** Changes with `fromSeq <= seq < toSeq`, in order, streamed out of Postgres through a cursor. */
    async readChanges(fromSeq: number, toSeq: number): Promise<StagedChange[]> {
      return serial(async () =>
        (
          await stream(`SELECT seq, k, action, payload, h::text AS h, before FROM ${CHANGES} WHERE seq >= $1 AND seq < $2 ORDER BY seq`, [
            fromSeq,
            toSeq,
          ])
        ).map(toStaged),
      );
    },
    async summary(): Promise<{ add: number; change: number; remove: number; unsure: number }> {
      return serial(async () => {
        const r = (
          await q<Record<string, string>>(
            `SELECT coalesce(sum(n) FILTER (WHERE payload IS NOT NULL AND NOT known), 0) AS a, coalesce(sum(n) FILTER (WHERE payload IS NOT NULL AND known), 0) AS c,
                    count(*) FILTER (WHERE NOT present) AS r FROM ${STAGED}`,
          )
        )[0]!;
        // No SQL validation in the warehouse's dialect: every changed row is validated in JavaScript.
        return { add: Number(r.a), change: Number(r.c), remove: Number(r.r), unsure: Number(r.a) + Number(r.c) };
      });
    },
    /**
     * Order-free digests of the staged model and of the ledger
     * (snapshot and keys in doubt): a count and the sum of one 60-bit slice of an md5 per row.
     */
    async digests(): Promise<{ model: string; ledger: string }> {
      const s = staged;
      if (!s) throw new SyncError('ledger_failed', 'digests() needs a staged model (call stage() first)');
      return serial(async () => {
        const digest = (from: string, row: string): string =>
          `(SELECT count(*) || ':' || coalesce(sum(('x' || left(md5(${row}), 15))::bit(60)::bigint::numeric), 0) FROM ${from})`;
        const ledgerDigest = (
          await q<{ d: string }>(
            `SELECT ${digest(`${S}.snapshot WHERE sync = $1`, `k || chr(1) || h::text`)} || '/' || ${digest(`${S}.in_doubt WHERE sync = $1`, `k || chr(1) || coalesce(payload, '')`)} AS d`,
            [sync],
          )
        )[0]!.d;
        // The staged rows (changed, new and gone keys with their row hashes) and the model's row count determine
        // the diff, given the ledger's state (its own digest): no second run of the model.
        const changed = (
          await q<{ d: string }>(
            `SELECT ${digest(`${STAGED} WHERE ${IS_CHANGE}`, `coalesce(k, '') || chr(1) || coalesce(h::text, '') || chr(1) || n`)} AS d`,
          )
        )[0]!.d;
        return { model: `${s.rows}/${changed}`, ledger: ledgerDigest };
      });
    },
    /** Writes every staged change to `path` as NDJSON (`{"action","key","payload"}`), add → change → remove, by key. */
    async exportChanges(path: string): Promise<void> {
      await serial(async () => {
        const out = createWriteStream(path);
        const cursor = client.query(
          new Cursor<{ action: string; k: string; payload: string | null }>(
            `SELECT ${ACTION} AS action, k, payload FROM ${STAGED} WHERE ${IS_CHANGE} ORDER BY ${RANK}, k COLLATE "C"`,
            [],
            { types: RAW_TYPES },
          ),
        );
        try {
          for (;;) {
            const rows = await new Promise<{ action: string; k: string; payload: string | null }[]>((done, failed) =>
              cursor.read(o.batchSize, (err, r) => (err ? failed(err) : done(r))),
            );
            if (rows.length === 0) break;
            const text = rows
              .map((r) => `{"action":${JSON.stringify(r.action)},"key":${JSON.stringify(r.k)},"payload":${r.payload ?? 'null'}}\n`)
              .join('');
            if (!out.write(text)) await once(out, 'drain');
          }
        } finally {
          await new Promise<void>((done) => cursor.close(() => done()));
          out.end();
          await once(out, 'close');
        }
      });
    },
    async previewChanges(limit: number): Promise<StagedChange[]> {
      const n = Math.max(0, Math.floor(limit));
      const top = (rank: number, cond: string): string =>
        `(SELECT ${rank} * 1000000000000 + row_number() OVER (ORDER BY k COLLATE "C") AS seq, k, ${ACTION} AS action, payload, h::text AS h, NULL::text AS before
            FROM (SELECT * FROM ${STAGED} WHERE ${cond} ORDER BY k COLLATE "C" LIMIT ${n}) AS t)`;
      return serial(async () =>
        (
          await stream(
            `SELECT * FROM (${top(0, 'payload IS NOT NULL AND NOT known')} UNION ALL ${top(1, 'payload IS NOT NULL AND known')} UNION ALL ${top(2, 'NOT present')}) AS x ORDER BY seq`,
            [],
          )
        ).map(toStaged),
      );
    },
    async markInDoubt(runId: string, changes: { key: string; payload: string | null }[]): Promise<void> {
      if (changes.length === 0) return;
      await ledger.write(runId, { doubts: changes, upserts: [], removes: [], results: [], exchanges: [], settled: [] });
    },
    async inDoubtCount(): Promise<number> {
      return serial(() => count(`SELECT count(*) AS n FROM ${S}.in_doubt WHERE sync = $1`));
    },
    /**
     * One transaction: confirmed upserts replace the key's snapshot row, confirmed removals leave it, settled
     * keys leave `in_doubt` (a rejected key only when this attempt put it there), keys about to be sent enter
     * it, and every row's result and HTTP exchange is recorded.
     */
    async write(runId: string, batch: LedgerWrite): Promise<void> {
      sizes = undefined;
      await serial(async () => {
        // The staged rows' fingerprints are looked up by key: indexed once, when the run first commits.
        if (fingerprints && staged && !staged.indexed && batch.upserts.length) {
          await q(`CREATE INDEX IF NOT EXISTS syncline_staged_k ON ${STAGED} (k)`).catch((e: unknown) => {
            throw fail('commit', e);
          });
          staged.indexed = true;
        }
        return inTransaction('commit', async () => {
          const confirmed = new Set<string>(batch.removes);
          for (const u of batch.upserts) confirmed.add(u.key);
          const upserts = lastByKey(batch.upserts);
          if (upserts.length) {
            // A confirmed row's fingerprint is the staged one of the same key and hash (the model row its
            // payload came from); without one (no stage in this session) it is NULL: compared by hash next time.
            const fp = fingerprints && staged ? `(SELECT s.f FROM ${STAGED} AS s WHERE s.k = u.k AND s.h = u.h LIMIT 1)` : 'NULL::bigint';
            await q(
              `INSERT INTO ${S}.snapshot (sync, k, h, payload, run_id, synced_at${fingerprints ? ', f' : ''})
               SELECT $1, k, h, payload, $2, now()${fingerprints ? `, ${fp}` : ''} FROM unnest($3::text[], $4::uuid[], $5::text[]) AS u(k, h, payload)
               ON CONFLICT (sync, k) DO UPDATE SET h = excluded.h, payload = excluded.payload, run_id = excluded.run_id, synced_at = excluded.synced_at${
                 fingerprints ? ', f = excluded.f' : ''
               }`,
              [sync, runId, upserts.map((u) => u.key), upserts.map((u) => rowHashToUuid(u.hash)), upserts.map((u) => u.payload)],
            );
          }
          if (batch.removes.length) await q(`DELETE FROM ${S}.snapshot WHERE sync = $1 AND k = ANY($2)`, [sync, batch.removes]);
          if (batch.settled.length)
            await q(
              `DELETE FROM ${S}.in_doubt AS d USING unnest($2::text[], $3::boolean[]) AS s(k, confirmed)
                WHERE d.sync = $1 AND d.k = s.k AND (s.confirmed OR NOT d.sticky)`,
              [sync, batch.settled, batch.settled.map((k) => confirmed.has(k))],
            );
          const doubts = lastByKey(batch.doubts);
          if (doubts.length)
            await q(
              `INSERT INTO ${S}.in_doubt (sync, k, payload, run_id, since, sticky)
               SELECT $1, k, payload, $2, now(), FALSE FROM unnest($3::text[], $4::text[]) AS d(k, payload)
               ON CONFLICT (sync, k) DO UPDATE SET payload = coalesce(excluded.payload, in_doubt.payload), run_id = excluded.run_id,
                 since = excluded.since, sticky = TRUE`,
              [sync, runId, doubts.map((d) => d.key), doubts.map((d) => d.payload)],
            );
          if (batch.results.length) {
            const r = batch.results;
            await q(
              `INSERT INTO ${S}.row_results (sync, run_id, k, action, status, code, field, message, recorded_at)
               SELECT $1, $2, * , now() FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])`,
              [
                sync,
                runId,
                r.map((x) => x.key),
                r.map((x) => x.action),
                r.map((x) => x.status),
                r.map((x) => x.code ?? null),
                r.map((x) => x.field ?? null),
                r.map((x) => x.message ?? null),
              ],
            );
          }
          if (batch.exchanges.length) {
            const x = batch.exchanges;
            await q(
              `INSERT INTO ${S}.exchanges (sync, run_id, op_id, method, path, status, attempt, started_at, duration_ms, detail)
               SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::text[], $9::float8[], $10::text[])`,
              [
                sync,
                runId,
                x.map((e) => e.opId ?? null),
                x.map((e) => e.method),
                x.map((e) => e.path),
                x.map((e) => e.status),
                x.map((e) => e.attempt),
                x.map((e) => e.startedAt),
                x.map((e) => e.durationMs),
                x.map((e) => JSON.stringify(e)),
              ],
            );
          }
        });
      });
    },
    /**
     * Confirmed changes are written into the snapshot in place (its primary key finds them). What is left is
     * storing the fingerprints of unchanged rows the stage found missing or stale (a ledger made before
     * fingerprints): only where the snapshot still holds the hash the stage compared.
     */
    async fold(): Promise<number> {
      const s = staged;
      if (!s || s.refresh === 0 || !fingerprints) return 0;
      s.refresh = 0;
      await serial(() =>
        q(
          `UPDATE ${S}.snapshot AS p SET f = s.f FROM ${STAGED} AS s
            WHERE p.sync = $1 AND s.present AND s.known AND s.payload IS NULL AND p.k = s.k AND p.h = s.h`,
          [sync],
        ),
      );
      return 0;
    },
    async saveRun(run: RunRecord): Promise<void> {
      await serial(async () => {
        await q(
          `INSERT INTO ${S}.runs (sync, run_id, started_at, finished_at, status, counts, phases, requests, error)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (sync, run_id) DO UPDATE SET started_at = excluded.started_at, finished_at = excluded.finished_at, status = excluded.status,
             counts = excluded.counts, phases = excluded.phases, requests = excluded.requests, error = excluded.error`,
          [
            sync,
            run.runId,
            run.startedAt,
            run.finishedAt,
            run.status,
            JSON.stringify(run.counts),
            JSON.stringify(run.phases),
            run.requests,
            run.error ? JSON.stringify(run.error) : null,
          ],
        );
        sizeBytes = await tablesSize();
      });
    },
    async runs(limit = 20): Promise<RunRecord[]> {
      return serial(async () =>
        (await q(`SELECT ${RUN_COLUMNS} FROM ${S}.runs WHERE sync = $1 ORDER BY started_at DESC LIMIT ${Number(limit)}`, [sync])).map(
          runRecordFromRow,
        ),
      );
    },
    async run(runId: string): Promise<RunRecord | null> {
      return serial(async () => {
        const r = await q(`SELECT ${RUN_COLUMNS} FROM ${S}.runs WHERE sync = $1 AND run_id = $2`, [sync, runId]);
        return r[0] ? runRecordFromRow(r[0]) : null;
      });
    },
    async rowResults(filter: {
      key?: string;
      runId?: string;
      status?: string;
      limit?: number;
    }): Promise<(RowResult & { runId: string })[]> {
      const where = ['r.sync = $1'];
      const params: unknown[] = [sync];
      for (const [col, v] of [
        ['r.k', filter.key],
        ['r.run_id', filter.runId],
        ['r.status', filter.status],
      ] as const)
        if (v !== undefined) where.push(`${col} = $${params.push(v)}`);
      const rows = await serial(() =>
        q<Record<string, string | null>>(
          `SELECT r.* FROM ${S}.row_results AS r LEFT JOIN ${S}.runs AS u ON u.sync = r.sync AND u.run_id = r.run_id
            WHERE ${where.join(' AND ')} ORDER BY u.started_at DESC NULLS LAST LIMIT ${Number(filter.limit ?? 100)}`,
          params,
        ),
      );
      return rows.map((x) => ({
        runId: String(x.run_id),
        key: String(x.k),
        action: String(x.action),
        status: x.status as RowResult['status'],
        code: x.code ?? undefined,
        field: x.field ?? undefined,
        message: x.message ?? undefined,
      }));
    },
    async exchanges(runId: string, limit = 1000): Promise<HttpExchange[]> {
      const rows = await serial(() =>
        q<{ detail: string }>(`SELECT detail FROM ${S}.exchanges WHERE sync = $1 AND run_id = $2 LIMIT ${Number(limit)}`, [sync, runId]),
      );
      return rows.map((x) => JSON.parse(x.detail) as HttpExchange);
    },
    async snapshotRow(key: string): Promise<{ hash: string; payload: string } | null> {
      const r = await serial(() =>
        q<{ h: string; payload: string }>(`SELECT h::text AS h, payload FROM ${S}.snapshot WHERE sync = $1 AND k = $2`, [sync, key]),
      );
      return r[0] ? { hash: uuidToRowHash(r[0].h), payload: r[0].payload } : null;
    },
    /** Closes the records of runs that never finished (killed) as `crashed`, as core's `closeCrashedRuns` does. */
    async closeCrashedRuns(): Promise<string[]> {
      const rows = await serial(() =>
        q<{ run_id: string }>(
          `UPDATE ${S}.runs AS r SET
             status = '${CRASHED}',
             finished_at = coalesce(greatest(
               (SELECT max(synced_at) FROM ${S}.snapshot s WHERE s.sync = r.sync AND s.run_id = r.run_id),
               (SELECT max(since) FROM ${S}.in_doubt d WHERE d.sync = r.sync AND d.run_id = r.run_id)), started_at),
             counts = json_build_object('synced', (SELECT count(*) FROM ${S}.snapshot s WHERE s.sync = r.sync AND s.run_id = r.run_id),
                                        'inDoubt', (SELECT count(*) FROM ${S}.in_doubt d WHERE d.sync = r.sync AND d.run_id = r.run_id))::text,
             error = json_build_object('code', '${CRASHED}', 'message',
               'the process stopped without closing this run (killed or the machine stopped); rows it confirmed were kept, rows in doubt are sent again')::text
           WHERE r.sync = $1 AND r.status = '${RUNNING}'
           RETURNING r.run_id`,
          [sync],
        ),
      );
      return rows.map((r) => r.run_id);
    },
    async deleteWindow(snapshotNow: number): Promise<DeleteWindow> {
      const r = await serial(
        async () =>
          (
            await q<{ since: string | null; base: string | null; deleted: string }>(
              `SELECT to_char(min(deleted_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS since,
                      (array_agg(snapshot_before ORDER BY deleted_at))[1] AS base, coalesce(sum(deleted), 0) AS deleted
                 FROM ${S}.delete_log WHERE sync = $1 AND deleted_at > now() - interval '24 hours'`,
              [sync],
            )
          )[0]!,
      );
      return { since: r.since, base: r.base === null ? snapshotNow : Number(r.base), deleted: Number(r.deleted) };
    },
    async recordDeletes(runId: string, snapshotBefore: number): Promise<void> {
      await serial(() =>
        q(
          `INSERT INTO ${S}.delete_log (sync, run_id, deleted_at, deleted, snapshot_before)
           SELECT $1, $2, now(), n, $3 FROM (SELECT count(*) AS n FROM ${S}.row_results WHERE sync = $1 AND run_id = $2 AND action = 'remove' AND status = 'synced') AS x
            WHERE n > 0`,
          [sync, runId, snapshotBefore],
        ),
      );
    },
    /** Deletes row results and exchanges of this sync's runs outside the retention (as core's `pruneLedgerHistory`). */
    async pruneHistory(): Promise<number> {
      const days = o.retention?.days ?? 90;
      const keep = o.retention?.runs;
      const old = `SELECT run_id FROM ${S}.runs WHERE sync = $1 AND started_at < now() - make_interval(days => ${Number(days)})${
        keep === undefined
          ? ''
          : ` UNION SELECT run_id FROM (SELECT run_id FROM ${S}.runs WHERE sync = $1 ORDER BY started_at DESC OFFSET ${Number(keep)}) AS x`
      }`;
      return serial(async () => {
        let deleted = 0;
        for (const table of ['row_results', 'exchanges']) {
          const r = await client.query(`DELETE FROM ${S}.${table} WHERE sync = $1 AND run_id IN (${old})`, [sync]);
          deleted += r.rowCount ?? 0;
        }
        sizeBytes = await tablesSize();
        return deleted;
      });
    },
    /**
     * Bytes of the ledger's tables in Postgres (`pg_total_relation_size`: rows, indexes, TOAST), shared by the
     * syncs of the schema; measured when the ledger opens and after each run record and prune (the
     * interface is synchronous). 0 for a dry run on a schema without the tables.
     */
    sizeBytes(): number {
      return sizeBytes;
    },
    async reset(): Promise<void> {
      sizes = undefined;
      await serial(() =>
        inTransaction('reset', async () => {
          await q(`DELETE FROM ${S}.snapshot WHERE sync = $1`, [sync]);
          await q(`DELETE FROM ${S}.in_doubt WHERE sync = $1`, [sync]);
        }),
      );
    },
    /** Releases the advisory lock and the session (its temporary tables go with it). */
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await queue.catch(() => undefined);
      let broken: Error | undefined;
      try {
        await client.query(`SELECT pg_advisory_unlock($1::bigint)`, [lockKey(o.schema, sync)]);
        await client.query(`DROP TABLE IF EXISTS ${STAGED}, ${CHANGES}, ${GONE}`);
      } catch (e) {
        broken = e as Error;
      }
      await release(broken).catch(() => undefined);
    },
    async [Symbol.asyncDispose](): Promise<void> {
      await ledger.close();
    },
  };
  return ledger;
}

const RUN_COLUMNS = `run_id, sync, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS started_at,
  to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS finished_at, status, counts, phases, requests, error`;

/** The last entry of each key (a key is normally written once per transaction; ON CONFLICT needs it unique). */
function lastByKey<T extends { key: string }>(rows: T[]): T[] {
  const by = new Map<string, T>();
  for (const r of rows) by.set(r.key, r);
  return by.size === rows.length ? rows : [...by.values()];
}

/** The advisory lock's 64-bit key for a sync: the first 8 bytes of md5(`syncline:<schema>:<sync>`), signed. */
export function lockKey(schema: string, sync: string): string {
  const hex = createHash('md5').update(`syncline:${schema}:${sync}`).digest('hex').slice(0, 16);
  return BigInt.asIntN(64, BigInt(`0x${hex}`)).toString();
}

const literalOf = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/** The ledger's tables (all keyed by the sync's name). */
const LEDGER_TABLES = ['meta', 'snapshot', 'in_doubt', 'runs', 'row_results', 'exchanges', 'delete_log'];

/** The statements creating the ledger's tables in schema `S` (an identifier, or `pg_temp`) when missing. */
function tableStatements(S: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${S}.meta (sync text NOT NULL, k text NOT NULL, v text, PRIMARY KEY (sync, k))`,
    `CREATE TABLE IF NOT EXISTS ${S}.snapshot (sync text NOT NULL, k text NOT NULL, h uuid NOT NULL, payload text NOT NULL, run_id text, synced_at timestamptz, f bigint, PRIMARY KEY (sync, k))`,
    `CREATE TABLE IF NOT EXISTS ${S}.in_doubt (sync text NOT NULL, k text NOT NULL, payload text, run_id text, since timestamptz, sticky boolean NOT NULL DEFAULT false, PRIMARY KEY (sync, k))`,
    `CREATE TABLE IF NOT EXISTS ${S}.runs (sync text NOT NULL, run_id text NOT NULL, started_at timestamptz, finished_at timestamptz, status text, counts text, phases text, requests integer, error text, PRIMARY KEY (sync, run_id))`,
    `CREATE TABLE IF NOT EXISTS ${S}.row_results (sync text NOT NULL, run_id text, k text, action text, status text, code text, field text, message text, recorded_at timestamptz)`,
    `CREATE INDEX IF NOT EXISTS row_results_sync_run ON ${S}.row_results (sync, run_id)`,
    `CREATE INDEX IF NOT EXISTS row_results_sync_key ON ${S}.row_results (sync, k)`,
    `CREATE TABLE IF NOT EXISTS ${S}.exchanges (sync text NOT NULL, run_id text, op_id text, method text, path text, status integer, attempt integer, started_at text, duration_ms double precision, detail text)`,
    `CREATE INDEX IF NOT EXISTS exchanges_sync_run ON ${S}.exchanges (sync, run_id)`,
    `CREATE TABLE IF NOT EXISTS ${S}.delete_log (sync text NOT NULL, run_id text, deleted_at timestamptz, deleted bigint, snapshot_before bigint)`,
  ];
}

/**
 * Whether `schema` holds the ledger's tables (a dry run reads them as they are). A schema with only some
 * of them was left by a run that could not finish creating them: a dry run refuses it rather than plan
 * against a partial ledger.
 */
async function hasLedgerTables(client: pg.ClientBase, schema: string): Promise<boolean> {
  const found = new Set(
    (
      await client.query<{ relname: string }>(
        `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname = ANY($2)`,
        [schema, LEDGER_TABLES],
      )
    ).rows.map((r) => r.relname),
  );
  if (found.size === 0) return false;
  const missing = LEDGER_TABLES.filter((t) => !found.has(t));
  if (missing.length)
    throw new SyncError(
      'ledger_failed',
      `[postgres] the ledger's schema ${schema} lacks the tables ${missing.join(', ')}; a dry run creates nothing (a run creates them)`,
      { adapter: 'postgres', details: { schema, missing } },
    );
  return true;
}

/** Whether the ledger's snapshot in `schema` has the fingerprint column (ledgers made before it lack it). */
async function hasFingerprints(client: pg.ClientBase, schema: string): Promise<boolean> {
  const r = await client.query(
    `SELECT 1 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = 'snapshot' AND a.attname = 'f' AND NOT a.attisdropped`,
    [schema],
  );
  return (r.rowCount ?? 0) > 0;
}

/** The ledger's tables, created when missing; a snapshot made before fingerprints gets their column. */
async function createSchema(client: pg.ClientBase, schema: string): Promise<void> {
  const S = ident(schema);
  const exists = await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [schema]);
  // Serialises the set-up of syncs that open at the same time (CREATE … IF NOT EXISTS can race).
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock($1::bigint)`, [lockKey(schema, '')]);
    if (exists.rowCount === 0)
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${S}`).catch((e: unknown) => {
        throw new SyncError(
          'ledger_failed',
          `[postgres] cannot create the ledger's schema ${schema}: ${firstLine(e)} (create it once: CREATE SCHEMA ${schema}; GRANT USAGE, CREATE ON SCHEMA ${schema} TO <syncline user>)`,
          { adapter: 'postgres', cause: e },
        );
      });
    for (const sql of tableStatements(S))
      await client.query(sql).catch((e: unknown) => {
        if (isSyncError(e)) throw e;
        throw new SyncError(
          'ledger_failed',
          `[postgres] cannot create the ledger's tables in schema ${schema}: ${firstLine(e)} (grant it: GRANT USAGE, CREATE ON SCHEMA ${schema} TO <syncline user>)`,
          { adapter: 'postgres', cause: e },
        );
      });
    // Only when missing: ALTER TABLE needs the table's ownership even when it would change nothing.
    if (!(await hasFingerprints(client, schema)))
      await client.query(`ALTER TABLE ${S}.snapshot ADD COLUMN IF NOT EXISTS f bigint`).catch((e: unknown) => {
        throw new SyncError(
          'ledger_failed',
          `[postgres] cannot add the fingerprint column to ${schema}.snapshot: ${firstLine(e)} (run it as the table's owner: ALTER TABLE ${schema}.snapshot ADD COLUMN f bigint)`,
          { adapter: 'postgres', cause: e },
        );
      });
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/**
 * On abort, cancels the session's running statement from a second connection (`pg_cancel_backend`), the
 * only way to stop a query in flight over the wire protocol.
 */
function cancelOn(
  signal: AbortSignal | undefined,
  pid: number | undefined,
  config: pg.ClientConfig | undefined,
  pool: pg.Pool | undefined,
): () => void {
  if (!signal || pid === undefined) return () => undefined;
  const cancel = (): void => {
    const run = async (): Promise<void> => {
      if (pool) {
        await pool.query('SELECT pg_cancel_backend($1)', [pid]);
        return;
      }
      const { pg } = await loadPg();
      const c = new pg.Client(config!);
      c.on('error', () => undefined);
      await c.connect();
      try {
        await c.query('SELECT pg_cancel_backend($1)', [pid]);
      } finally {
        await c.end();
      }
    };
    run().catch(() => undefined);
  };
  if (signal.aborted) cancel();
  signal.addEventListener('abort', cancel, { once: true });
  return () => signal.removeEventListener('abort', cancel);
}
