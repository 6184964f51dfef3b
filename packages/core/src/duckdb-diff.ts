import type { DuckDBConnection } from '@duckdb/node-api';
import type { Column } from './contract.js';
import { SyncError } from './sync-error.js';
import { STAGED_KEY, STAGED_PAYLOAD, ident, literal } from './projection.js';

/** What `stageModel` needs: the model SQL, its key column, the payload projection and the hash builder. */
export interface StageOptions {
  modelSql: string;
  key: string;
  projection: string;
  /**
   * The field mapping and the model's columns the projection was compiled from: a warehouse ledger compiles
   * its own projection in its dialect from them (the DuckDB ledger uses `projection`).
   */
  fields?: Record<string, string> | undefined;
  columns?: Column[] | undefined;
  /** Salts every row hash (the config hash), so a mapping change resends every row. */
  salt: string;
  /** Keep every model row's payload (a full resync), not only the changed ones. */
  forceAll?: boolean | undefined;
  /** Interrupts the model query; nothing is staged and a SyncError `aborted` is thrown. */
  signal?: AbortSignal | undefined;
  /**
   * SQL over the model's columns and the staged key and payload (`rowSql`) that is TRUE for rows the
   * destination certainly accepts (`Destination.validSql`); staged as column `ok` on a first sync.
   */
  validSql?: string | undefined;
}

/** Counts from staging: model rows, previous keys (snapshot and in doubt), matches, and blank keys. */
export interface StageStats {
  rows: number;
  previous: number;
  knownRows: number;
  gone: number;
  nullKeys: number;
}

/** A staged row's action. */
const ACTION = `CASE WHEN NOT present THEN 'remove' WHEN known THEN 'change' ELSE 'add' END`;

const BLANK_KEY = `(k IS NULL OR k = '' OR (starts_with(k, ' ') AND trim(k) = ''))`;

export interface KeyHealth {
  nullKeys: number;
  duplicateKeys: number;
  duplicateSamples: { key: string; count: number }[];
}

const all = async (conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> =>
  (await conn.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];

/**
 * Runs the model once and joins it with the snapshot's (key, hash) in the same statement, into the temp
 * table `staged(k, present, known, h, payload)`: one row per model row (`present`) and one per snapshot key
 * the model no longer has. The payload JSON is kept only where the hash differs, so the unchanged
 * majority never materialises its JSON, and the join's build side is the compact (key, 16-byte hash)
 * snapshot rather than payloads. One statement means all or nothing: a failed or interrupted query
 * leaves no `staged`, so it can never reach the diff.
 */
export async function stageModel(conn: DuckDBConnection, hash: (text: string) => string, o: StageOptions): Promise<StageStats> {
  await conn.run(`DROP TABLE IF EXISTS temp.staged`);
  await conn.run(`DROP TABLE IF EXISTS temp.changes`);
  const keep = o.forceAll ? 'TRUE' : 'p.k IS NULL OR p.h IS DISTINCT FROM s.h';
  // Keys in doubt join with a NULL hash, so they count as changed (or removed) whatever the model says.
  const doubts = Number((await all(conn, `SELECT count(*) AS n FROM main.in_doubt`))[0]!.n);
  // A first sync (nothing confirmed, nothing in doubt) has nothing to join: every model row is an add. Only
  // then is `validSql` evaluated while staging (on every row, all of them changes); otherwise `ok` is null
  // and the changed rows are validated in JavaScript.
  const first = doubts === 0 && (await all(conn, `SELECT 1 AS x FROM main.snapshot LIMIT 1`)).length === 0;
  const previous =
    doubts === 0
      ? `SELECT k, h FROM main.snapshot`
      : `SELECT coalesce(p.k, d.k) AS k, CASE WHEN d.k IS NULL THEN p.h END AS h FROM main.snapshot AS p FULL OUTER JOIN main.in_doubt AS d ON d.k = p.k`;
  const model = `SELECT ${ident(STAGED_KEY)} AS k, ${ident(STAGED_PAYLOAD)} AS payload, ${hash(`(${literal(o.salt)} || ${ident(STAGED_PAYLOAD)})`)} AS h,
                        TRUE AS present, ${first && o.validSql ? `(${o.validSql})` : 'NULL::BOOLEAN'} AS ok
                   FROM (SELECT *, CAST(${ident(o.key)} AS VARCHAR) AS ${ident(STAGED_KEY)}, ${o.projection} AS ${ident(STAGED_PAYLOAD)} FROM (${o.modelSql}) AS model)`;
  const sql = first
    ? `CREATE TEMP TABLE staged AS SELECT k, TRUE AS present, FALSE AS known, h, payload, ok FROM (${model})`
    : `CREATE TEMP TABLE staged AS
    SELECT coalesce(s.k, p.k) AS k, coalesce(s.present, FALSE) AS present, p.k IS NOT NULL AS known, s.h,
           CASE WHEN s.present AND (${keep}) THEN s.payload END AS payload, CASE WHEN s.present AND (${keep}) THEN s.ok END AS ok
      FROM (${model}) AS s
      FULL OUTER JOIN (${previous}) AS p ON s.k = p.k`;
  await interruptible(conn, o.signal, () => conn.run(sql));
  // One scan for every count the key checks need. A null or blank key never matches the snapshot (which
  // never holds one: this check runs before anything is committed), so only unmatched rows are tested.
  const c = (
    await interruptible(conn, o.signal, () =>
      all(
        conn,
        `SELECT count(*) FILTER (WHERE present) AS rows, count(*) FILTER (WHERE present AND known) AS known_rows,
                        count(*) FILTER (WHERE NOT present) AS gone, count(*) FILTER (WHERE present AND NOT known AND ${BLANK_KEY}) AS nulls FROM staged`,
      ),
    )
  )[0]!;
  const prev = first ? 0 : Number((await all(conn, `SELECT count(*) AS n FROM (${previous})`))[0]!.n);
  return { rows: Number(c.rows), previous: prev, knownRows: Number(c.known_rows), gone: Number(c.gone), nullKeys: Number(c.nulls) };
}

/**
 * Null/blank and duplicate keys of the staged model, without grouping all its keys. Every previous key
 * (snapshot or in doubt) is unique and matched by m ≥ 0 model rows, so (model rows that matched) −
 * (previous keys − previous keys left unmatched) is exactly the number of surplus rows among known keys.
 * When that is 0 — the normal case — only the new keys (a few percent) are grouped to find duplicates;
 * one filtered scan replaces a 10M-group aggregation.
 */
export async function checkKeys(conn: DuckDBConnection, stats: StageStats, signal?: AbortSignal): Promise<KeyHealth> {
  const surplusAmongKnown = stats.knownRows - (stats.previous - stats.gone);
  await interruptible(conn, signal, () =>
    conn.run(`CREATE OR REPLACE TEMP TABLE dup_keys AS
      SELECT k, count(*) AS c FROM staged WHERE ${surplusAmongKnown > 0 ? '' : 'known = false AND '}present = true AND NOT ${BLANK_KEY}
       GROUP BY k HAVING count(*) > 1`),
  );
  const duplicateKeys = Number((await all(conn, `SELECT count(*) AS n FROM dup_keys`))[0]!.n);
  const duplicateSamples = (await all(conn, `SELECT k, c FROM dup_keys ORDER BY c DESC, k LIMIT 5`)).map((r) => ({
    key: String(r.k),
    count: Number(r.c),
  }));
  await conn.run(`DROP TABLE dup_keys`);
  return { nullKeys: stats.nullKeys, duplicateKeys, duplicateSamples };
}

/**
 * Turns `staged` into `changes(seq, k, action, payload, h, before)`, numbered add → change → remove, then
 * by key, and physically in `seq` order so each chunk read touches one row group (zone maps), not the
 * table. With `withBefore`, `before` (the snapshot's payload, which some planners use, e.g. an audience
 * member's old tenant) is joined for the changed and removed keys (for a key in doubt that was never
 * confirmed: the payload that was attempted). That join scans every payload of the snapshot (~0.5–1 s at
 * 10M rows), so without it `before` is null and `befores()` fetches the few a preview shows. `staged` is
 * dropped afterwards: it holds one row per model row and is not needed while sending.
 */
export async function buildChanges(
  conn: DuckDBConnection,
  withBefore: boolean,
  only: 'all' | 'unsure' = 'all',
): Promise<{ add: number; change: number; remove: number }> {
  // `unsure`: only the changed rows that `ok` does not clear (a large dry run validates just those in JS).
  const rows =
    only === 'unsure'
      ? `FROM staged WHERE payload IS NOT NULL AND ok IS NOT TRUE`
      : `FROM staged WHERE payload IS NOT NULL UNION ALL FROM staged WHERE present = false`;
  const before = withBefore ? `coalesce(p.payload, d.payload)` : `NULL::VARCHAR`;
  const joins = withBefore ? `LEFT JOIN main.snapshot AS p ON p.k = c.k LEFT JOIN main.in_doubt AS d ON d.k = c.k` : '';
  await conn.run(`CREATE OR REPLACE TEMP TABLE changes AS
    SELECT row_number() OVER (ORDER BY c.rank, c.k) AS seq, c.k, c.action, c.payload, c.h, ${before} AS before FROM (
      SELECT k, payload, h,
             ${ACTION} AS action,
             CASE WHEN NOT present THEN 2 WHEN known THEN 1 ELSE 0 END AS rank
        FROM (${rows})) AS c
    ${joins}
    ORDER BY seq`);
  await conn.run(`DROP TABLE IF EXISTS temp.staged`);
  const out = { add: 0, change: 0, remove: 0 };
  for (const row of await all(conn, `SELECT action, count(*) AS n FROM changes GROUP BY action`))
    out[row.action as keyof typeof out] = Number(row.n);
  return out;
}

/** Changes by action counted over `staged`, and how many changed rows `ok` does not clear. */
export async function summarizeStaged(conn: DuckDBConnection): Promise<{ add: number; change: number; remove: number; unsure: number }> {
  const r = (
    await all(
      conn,
      `SELECT count(*) FILTER (WHERE payload IS NOT NULL AND NOT known) AS a, count(*) FILTER (WHERE payload IS NOT NULL AND known) AS c,
              count(*) FILTER (WHERE NOT present) AS r, count(*) FILTER (WHERE payload IS NOT NULL AND ok IS NOT TRUE) AS u FROM staged`,
    )
  )[0]!;
  return { add: Number(r.a), change: Number(r.c), remove: Number(r.r), unsure: Number(r.u) };
}

/**
 * The first `limit` changes of each action by key (a preview), as `readChanges` returns them; `seq` only
 * orders them (add → change → remove, then key). One top-N per action, no sort of the whole model.
 */
export function previewSql(limit: number): string {
  const n = Math.max(0, Math.floor(limit));
  const top = (rank: number, where: string): string =>
    `(SELECT ${rank} * 1000000000000 + row_number() OVER (ORDER BY k) AS seq, k, ${ACTION} AS action, payload, h, NULL::VARCHAR AS before
        FROM (SELECT * FROM staged WHERE ${where} ORDER BY k LIMIT ${n}))`;
  return `${top(0, 'payload IS NOT NULL AND NOT known')} UNION ALL ${top(1, 'payload IS NOT NULL AND known')} UNION ALL ${top(2, 'NOT present')}`;
}

/**
 * Digests of what a plan is computed from (a saved plan records them; `run --plan` refuses when they
 * moved): the staged model's rows (each key with its row hash, which covers the payload and the mapping)
 * and the ledger's snapshot and keys in doubt. Order-free: a count and the XOR of one MD5 per row.
 */
export async function stateDigests(conn: DuckDBConnection): Promise<{ model: string; ledger: string }> {
  const digest = (from: string, row: string): string =>
    `(SELECT count(*) || ':' || coalesce(lower(to_hex(bit_xor(md5_number(${row})))), '0') FROM ${from})`;
  const r = (
    await all(
      conn,
      `SELECT ${digest('staged WHERE present', `k || chr(0) || h::VARCHAR`)} AS model,
              ${digest('main.snapshot', `k || chr(0) || h::VARCHAR`)} || '/' || ${digest('main.in_doubt', `k || chr(1) || coalesce(payload, '')`)} AS ledger`,
    )
  )[0]!;
  return { model: String(r.model), ledger: String(r.ledger) };
}

/**
 * Writes every staged change as NDJSON to `path` (`{"action","key","payload"}` per line; the payload as
 * JSON, null for a removal), ordered add → change → remove, then by key. DuckDB sorts (spilling to disk
 * beyond its memory limit) and writes; nothing passes through JavaScript.
 */
export async function exportStaged(conn: DuckDBConnection, path: string): Promise<void> {
  await conn.run(`COPY (SELECT ${ACTION} AS action, k AS key, payload::JSON AS payload FROM staged WHERE payload IS NOT NULL OR NOT present
      ORDER BY CASE WHEN NOT present THEN 2 WHEN known THEN 1 ELSE 0 END, k) TO ${literal(path)} (FORMAT json)`);
}

/**
 * Runs a statement that `signal` can interrupt. DuckDB discards an interrupt that arrives before the
 * query starts executing, so it is re-sent every 20 ms until the statement settles (reliability.md §0.7).
 */
export async function interruptible<T>(conn: DuckDBConnection, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  if (!signal) return fn();
  if (signal.aborted) throw abortedError(signal);
  let timer: ReturnType<typeof setInterval> | undefined;
  const onAbort = (): void => {
    conn.interrupt();
    timer = setInterval(() => conn.interrupt(), 20);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await fn();
  } catch (e) {
    if (signal.aborted) throw abortedError(signal, e);
    throw e;
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (timer) clearInterval(timer);
  }
}

const abortedError = (signal: AbortSignal, cause?: unknown): SyncError =>
  new SyncError('aborted', 'the run was aborted while the model query ran; nothing was diffed or sent', { cause: cause ?? signal.reason });
