import type { DuckDBConnection } from '@duckdb/node-api';
import type { Column } from './contract.js';
import { SyncError } from './sync-error.js';
import { STAGED_FINGERPRINT, STAGED_KEY, STAGED_PAYLOAD, ident, literal } from './projection.js';

/**
 * The in-memory database attached beside the ledger's own file (`ATTACH ':memory:'`) that holds a run's
 * numbered changes: unlike a temp table, which only its own connection sees, every connection of the
 * DuckDB instance reads it, so the run loop reads the next changes on a second connection while the first
 * writes a window (see `openDuckdbLedger`); like a temp table it is never written to the ledger's file.
 */
export const WORK_DB = 'syncline_work';
/** The numbered changes of the last `buildChanges` (see `WORK_DB`). */
export const CHANGES = `${WORK_DB}.changes`;

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
   * destination certainly accepts (`Destination.validSql`); staged as column `ok` of every row on a first
   * sync, else of the changed rows.
   */
  validSql?: string | undefined;
  /**
   * SQL over the model's columns of each row's fingerprint (see `fingerprintSql`): a row whose key and
   * fingerprint match the snapshot's is unchanged without building its payload. Without it every row's
   * payload is built and hashed.
   */
  fingerprint?: string | undefined;
  /**
   * Write the staged fingerprints of rows found unchanged by their payload hash (a fingerprint missing or
   * stale, e.g. a ledger written before fingerprints) into the snapshot, so the next stage skips them.
   * Not for a dry run: it changes no row's meaning, but a dry run writes nothing.
   */
  refreshFingerprints?: boolean | undefined;
  /**
   * A first dry run that needs no digests: rows are not hashed (every row is an add, nothing compares or
   * records a hash), and no fingerprint is computed (nothing is written).
   */
  countOnly?: boolean | undefined;
  /**
   * A first dry run that is summarised (see `summarizeDryRun`) when it has at least this many changes: keep the
   * payload of every row among the model's first `unsurePayloadsAfter` rows, and after them only of rows
   * `validSql` does not clear, so the staged table of a large model holds keys, not every payload (at 1M rows
   * writing them cost more than a third of the plan). A model that small (every change is planned row by row)
   * keeps every payload and is read once; a larger one is summarised and its preview rebuilds its few payloads
   * from the model (`slimPreviewSql`). With `countOnly` and `validSql` only.
   */
  unsurePayloadsAfter?: number | undefined;
  /**
   * `false`: an incremental stage writes every model row into `staged`, also the unchanged ones it writes
   * as one row by default (`StageStats.lean`); tests compare both.
   */
  lean?: boolean | undefined;
}

/** Counts from staging: model rows, previous keys (snapshot and in doubt), matches, and blank keys. */
export interface StageStats {
  rows: number;
  previous: number;
  knownRows: number;
  gone: number;
  nullKeys: number;
  /**
   * Set by a first stage: no key of the model is blank and every key is distinct (counted in the same scan as the
   * rest), so `checkKeys` need not group the keys.
   */
  distinctKeys?: boolean;
  /**
   * The model had more rows than `StageOptions.unsurePayloadsAfter`: the stage did not keep the payloads of later rows
   * that `validSql` cleared.
   */
  slim?: boolean;
  /**
   * An incremental stage that kept no row for the model rows whose fingerprint matched the snapshot's
   * (unchanged): they are one row of `staged` with a null key, `present` and `known`, and their number in `n`
   * (every other row has its own, `n` = 1, unless the model repeats it exactly: the run stops at its repeated
   * key before reading changes). `previous` is the SQL of the keys they
   * were matched against (the snapshot, with the keys in doubt), for `stateDigests`.
   */
  lean?: { previous: string };
}

/**
 * A staged row is a change (an add or a change, not a removal): it has a payload, or the first stage's
 * `validSql` cleared it and its payload was not kept (`ok` is NULL for a row that is no change).
 */
export const IS_CHANGE = `(payload IS NOT NULL OR ok)`;

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
 * Runs the model once and joins it with the snapshot in the same statement, into the temp table
 * `staged(k, present, known, h, payload, ok, f, refresh[, n])`: one row per model row (`present`) and one per
 * snapshot key the model no longer has (a lean stage: `n` below). With a `fingerprint`, the join is on (key → fingerprint, hash):
 * a row whose fingerprint equals the snapshot's is unchanged and never builds its payload JSON or its MD5;
 * only new keys and rows whose fingerprint differs (or is missing) build the payload and compare its hash,
 * so a false "maybe changed" costs one payload, never a resend. The payload is kept only where the hash
 * differs. An incremental stage with fingerprints is lean (`StageStats.lean`): the unchanged rows are one
 * row of `staged` with their number in `n`, so only changed, new and removed keys are written. One statement
 * means all or nothing: a failed or interrupted query leaves no `staged`, so it can never reach the diff.
 */
export async function stageModel(conn: DuckDBConnection, hash: (text: string) => string, o: StageOptions): Promise<StageStats> {
  await conn.run(`DROP TABLE IF EXISTS temp.staged`);
  await conn.run(`DROP TABLE IF EXISTS ${CHANGES}`);
  // Keys in doubt join with a NULL hash and fingerprint, so they count as changed (or removed) whatever the model says.
  const doubts = Number((await all(conn, `SELECT count(*) AS n FROM main.in_doubt`))[0]!.n);
  // A first sync (nothing confirmed, nothing in doubt) has nothing to join: every model row is an add, and
  // `validSql` is evaluated on every row. Otherwise it is evaluated on the changed rows only (`ok` is null
  // for the others); the changed rows it does not clear are validated in JavaScript.
  const first = doubts === 0 && (await all(conn, `SELECT 1 AS x FROM main.snapshot LIMIT 1`)).length === 0;
  const previous =
    doubts === 0
      ? `SELECT k, h, f FROM main.snapshot`
      : `SELECT coalesce(p.k, d.k) AS k, CASE WHEN d.k IS NULL THEN p.h END AS h, CASE WHEN d.k IS NULL THEN p.f END AS f
           FROM main.snapshot AS p FULL OUTER JOIN main.in_doubt AS d ON d.k = p.k`;
  const K = ident(STAGED_KEY);
  const P = ident(STAGED_PAYLOAD);
  const F = ident(STAGED_FINGERPRINT);
  const fingerprint = (first && o.countOnly) || !o.fingerprint ? 'NULL::UBIGINT' : o.fingerprint;
  const rowHash = (payload: string): string => hash(`(${literal(o.salt)} || ${payload})`);
  // `__syncline_row`: a model row, also when its key is null.
  const keyed = keyedModelSql(o, `, ${fingerprint} AS ${F}, TRUE AS __syncline_row`);
  let sql: string;
  let lean = false;
  let prev = 0;
  const after = o.unsurePayloadsAfter;
  const slim = first && o.countOnly === true && after !== undefined && Number.isFinite(after) && o.validSql !== undefined;
  if (slim) {
    // Only rows `validSql` does not clear keep their payload, and every row among the first `after` (so a model
    // that small is never read twice). The projection sits inside the CASE, so DuckDB builds it only for them,
    // unless `validSql` itself reads the payload (then every row builds it once).
    const readsPayload = o.validSql!.includes(P);
    const model = readsPayload ? `SELECT *, ${o.projection} AS ${P} FROM (${keyed})` : keyed;
    sql = `CREATE TEMP TABLE staged AS SELECT ${K} AS k, TRUE AS present, FALSE AS known, NULL::UHUGEINT AS h,
             CASE WHEN ok AND __syncline_n > ${Math.max(0, Math.floor(after))} THEN NULL ELSE ${readsPayload ? P : o.projection} END AS payload,
             ok, ${F} AS f, FALSE AS refresh
        FROM (SELECT *, (${o.validSql}) AS ok, row_number() OVER () AS __syncline_n FROM (${model}))`;
  } else if (first) {
    const model = `SELECT *, ${o.projection} AS ${P} FROM (${keyed})`;
    sql = `CREATE TEMP TABLE staged AS SELECT ${K} AS k, TRUE AS present, FALSE AS known, ${o.countOnly ? 'NULL::UHUGEINT' : rowHash(P)} AS h, ${P} AS payload,
             ${o.validSql ? `(${o.validSql})` : 'NULL::BOOLEAN'} AS ok, ${F} AS f, FALSE AS refresh FROM (${model})`;
  } else {
    // At least 3 in 4 previous keys have a fingerprint, so most unchanged rows will match theirs (a ledger
    // written before fingerprints builds every payload, and every row would be a group of its own).
    const r = (await all(conn, `SELECT count(*) AS n, count(f) AS f FROM (${previous})`))[0]!;
    prev = Number(r.n);
    lean = o.lean !== false && fingerprint !== 'NULL::UBIGINT' && !o.forceAll && Number(r.f) * 4 >= prev * 3;
    // A lean stage leaves the previous hash out of the join: its hash table then holds (k, f), ~30 % smaller,
    // and at 10M keys that decided whether it fit in the ledger's 1 GB or spilled the join's both sides to
    // disk (668 MB written; the stage's CPU 25.7-28.1 s → 16.1-17.9 s, bench/RESULTS.md). The few rows that
    // built a payload take their previous hash from a second join, built on them.
    // `suspect`: the row may have changed (new key, fingerprint differs or unknown, or a full resync): only
    // then is the payload built (CASE evaluates its branch for the rows that take it) and hashed. The model's
    // columns travel through the join for that, so every name added beside them is prefixed.
    const joined = `SELECT s.*, coalesce(s.${K}, p.k) AS __syncline_key, s.__syncline_row IS NOT NULL AS __syncline_present,
             p.k IS NOT NULL AS __syncline_known, ${lean ? 'NULL::UHUGEINT' : 'p.h'} AS __syncline_ph,
             ${o.forceAll ? 'TRUE' : `p.k IS NULL OR p.f IS NULL OR s.${F} IS DISTINCT FROM p.f`} AS __syncline_suspect
        FROM (${keyed}) AS s FULL OUTER JOIN (SELECT k, f${lean ? '' : ', h'} FROM (${previous})) AS p ON s.${K} = p.k`;
    const built = `SELECT *, CASE WHEN __syncline_present AND __syncline_suspect THEN ${o.projection} END AS ${P} FROM (${joined})`;
    const hashed = `SELECT *, CASE WHEN ${P} IS NOT NULL THEN ${rowHash(P)} END AS __syncline_h FROM (${built})`;
    const valid = (when: string): string => (o.validSql ? `CASE WHEN ${when} THEN (${o.validSql}) END` : 'NULL::BOOLEAN');
    if (lean) {
      // The unchanged rows (present, known, payload not built: the fingerprint matched) lose their key and
      // fingerprint, so they fall into one group; every other row is its own group (`n` = 1), identical
      // duplicates split again below. Writing the ~98 %
      // of a big model that did not change into the table cost more CPU than this aggregate.
      await conn.run(`DROP TABLE IF EXISTS temp.stage_rows`);
      sql = `CREATE TEMP TABLE stage_rows AS
          SELECT CASE WHEN unchanged THEN NULL ELSE k END AS k, present, known, h, payload, ok, CASE WHEN unchanged THEN NULL ELSE f END AS f,
                 count(*) AS n
            FROM (SELECT __syncline_key AS k, __syncline_present AS present, __syncline_known AS known, __syncline_h AS h,
                         ${P} AS payload, ${valid(`${P} IS NOT NULL`)} AS ok, ${F} AS f,
                         __syncline_present AND __syncline_known AND ${P} IS NULL AS unchanged FROM (${hashed}))
           GROUP BY ALL;
        CREATE TEMP TABLE staged AS
          SELECT k, present, known, h, CASE WHEN changed THEN payload END AS payload, CASE WHEN changed THEN ok END AS ok, f,
                 known AND payload IS NOT NULL AND NOT changed AS refresh, CASE WHEN unchanged THEN n ELSE 1 END AS n
            FROM (SELECT a.*, a.payload IS NOT NULL AND (p.h IS NULL OR a.h IS DISTINCT FROM p.h) AS changed,
                         a.k IS NULL AND a.present AND a.known AND a.payload IS NULL AS unchanged,
                         -- Identical model rows (a key repeated with the same values) fell into one group too:
                         -- they are rows of their own again, as the stage that writes every row has them.
                         unnest(range(CASE WHEN a.k IS NULL AND a.present AND a.known AND a.payload IS NULL THEN 1 ELSE a.n END)) AS __syncline_copy
                    FROM stage_rows AS a LEFT JOIN (SELECT k, h FROM (${previous})) AS p ON p.k = a.k);
        DROP TABLE temp.stage_rows`;
    } else {
      const changed = o.forceAll
        ? `${P} IS NOT NULL`
        : `${P} IS NOT NULL AND (__syncline_ph IS NULL OR __syncline_h IS DISTINCT FROM __syncline_ph)`;
      const rows = `SELECT __syncline_key AS k, __syncline_present AS present, __syncline_known AS known, __syncline_h AS h,
             CASE WHEN ${changed} THEN ${P} END AS payload, ${valid(changed)} AS ok, ${F} AS f,
             __syncline_known AND ${P} IS NOT NULL AND NOT (${changed}) AS refresh
        FROM (${hashed})`;
      // Without fingerprints (or for a full resync) every row builds its payload: written as is.
      sql = `CREATE TEMP TABLE staged AS SELECT * FROM (${rows})`;
    }
  }
  await interruptible(conn, o.signal, () => conn.run(sql));
  // One scan for every count the key checks need. A null or blank key never matches the snapshot (which
  // never holds one: this check runs before anything is committed), so only unmatched rows are tested. A
  // first stage (every row new, every row present) also counts its distinct keys: when no key is blank and
  // every key is distinct, `checkKeys` has nothing to group (a distinct count costs about half of grouping every key
  // and keeping the groups with a count above 1).
  const count = (where: string): string => `coalesce(${rowsOf(lean)} FILTER (WHERE ${where}), 0)`;
  const c = (
    await interruptible(conn, o.signal, () =>
      all(
        conn,
        first
          ? `SELECT count(*) AS rows, 0 AS known_rows, 0 AS gone, count(*) FILTER (WHERE ${BLANK_KEY}) AS nulls, 0 AS refresh,
                    count(DISTINCT k) AS distinct_keys FROM staged`
          : `SELECT ${count('present')} AS rows, ${count('present AND known')} AS known_rows,
                        ${count('NOT present')} AS gone, ${count(`present AND NOT known AND ${BLANK_KEY}`)} AS nulls,
                        ${count('refresh')} AS refresh FROM staged`,
      ),
    )
  )[0]!;
  // Rows whose payload hash matched but whose fingerprint did not: the snapshot learns their fingerprint.
  // A key in doubt is never among them (its previous hash is null). Keys the model holds twice are left out
  // (the run fails on them before anything is sent).
  if (o.refreshFingerprints && o.fingerprint && Number(c.refresh) > 0)
    await conn.run(`UPDATE main.snapshot AS p SET f = s.f FROM (SELECT k, any_value(f) AS f FROM staged WHERE refresh GROUP BY k HAVING ${rowsOf(lean)} = 1) AS s
      WHERE p.k = s.k`);
  return {
    rows: Number(c.rows),
    previous: prev,
    knownRows: Number(c.known_rows),
    gone: Number(c.gone),
    nullKeys: Number(c.nulls),
    // With a blank key the run fails on it before duplicates matter; `checkKeys` then groups as before.
    ...(first ? { distinctKeys: Number(c.nulls) === 0 && Number(c.distinct_keys) === Number(c.rows) } : {}),
    ...(slim && Number(c.rows) > after! ? { slim } : {}),
    ...(lean ? { lean: { previous } } : {}),
  };
}

/** How many model rows the rows of `staged` stand for: each row one, or its `n` after a lean stage. */
const rowsOf = (lean: unknown): string => (lean ? 'sum(n)' : 'count(*)');

/**
 * Null/blank and duplicate keys of the staged model, without grouping all its keys. Every previous key
 * (snapshot or in doubt) is unique and matched by m ≥ 0 model rows, so (model rows that matched) −
 * (previous keys − previous keys left unmatched) is exactly the number of surplus rows among known keys.
 * When that is 0 — the normal case — only the new keys (a few percent) are grouped to find duplicates;
 * one filtered scan replaces a 10M-group aggregation. Otherwise every key is grouped: after a lean stage,
 * which kept no key of unchanged rows, by reading the model's keys again (`model`, the stage's options).
 */
export async function checkKeys(
  conn: DuckDBConnection,
  stats: StageStats,
  signal?: AbortSignal,
  model?: Pick<StageOptions, 'modelSql' | 'key'>,
): Promise<KeyHealth> {
  if (stats.distinctKeys) return { nullKeys: stats.nullKeys, duplicateKeys: 0, duplicateSamples: [] };
  const surplusAmongKnown = stats.knownRows - (stats.previous - stats.gone);
  const reread = surplusAmongKnown > 0 && stats.lean !== undefined;
  if (reread && !model) throw new SyncError('ledger_failed', 'checkKeys() after a lean stage needs the model to group its keys');
  const keys = reread ? `(SELECT ${ident(STAGED_KEY)} AS k, TRUE AS present, 1 AS n FROM (${keyedModelSql(model!)}))` : 'staged';
  await interruptible(conn, signal, () =>
    conn.run(`CREATE OR REPLACE TEMP TABLE dup_keys AS
      SELECT k, ${rowsOf(stats.lean)} AS c FROM ${keys} WHERE ${surplusAmongKnown > 0 ? '' : 'known = false AND '}present = true AND NOT ${BLANK_KEY}
       GROUP BY k HAVING ${rowsOf(stats.lean)} > 1`),
  );
  const duplicateKeys = Number((await all(conn, `SELECT count(*) AS n FROM dup_keys`))[0]!.n);
  if (reread && duplicateKeys === 0)
    throw new SyncError(
      'model_failed',
      `the model returned other rows when read a second time (its ${surplusAmongKnown} repeated keys were gone): it changed during the run, or its rows are not deterministic (e.g. LIMIT without ORDER BY); run again`,
      { details: { surplus: surplusAmongKnown } },
    );
  const duplicateSamples = (await all(conn, `SELECT k, c FROM dup_keys ORDER BY c DESC, k LIMIT 5`)).map((r) => ({
    key: String(r.k),
    count: Number(r.c),
  }));
  await conn.run(`DROP TABLE dup_keys`);
  return { nullKeys: stats.nullKeys, duplicateKeys, duplicateSamples };
}

/**
 * Turns `staged` into `changes(seq, k, action, payload, h, before, f, ok)`, numbered add → change → remove, then
 * by key, and physically in `seq` order so each chunk read touches one row group (zone maps), not the
 * table. With `withBefore`, `before` (the snapshot's payload, which some planners use, e.g. an audience
 * member's old tenant) is joined for the changed and removed keys (for a key in doubt that was never
 * confirmed: the payload that was attempted). That join scans every payload of the snapshot (~0.5–1 s at
 * 10M rows), so without it `before` is null and `befores()` fetches the few a preview shows. `staged` is
 * dropped afterwards: it is not needed while sending. `ok` is the destination's `validSql` verdict (TRUE:
 * the row is certainly valid, so the run loop neither parses nor validates its payload; NULL or FALSE:
 * JavaScript validates it; always NULL for a removal): the stage's, else `validSql` here (SQL over a staged
 * row's `k` and `payload`, see `stagedRowSql`), evaluated on the changes only. After an incremental stage
 * that is ~2 % of the model, where the stage would evaluate it beside every model row (at 10M rows it made
 * the stage ~2.5 s slower).
 */
export async function buildChanges(
  conn: DuckDBConnection,
  withBefore: boolean,
  only: 'all' | 'unsure' = 'all',
  validSql?: string,
): Promise<{ add: number; change: number; remove: number }> {
  // `unsure`: only the changed rows that `ok` does not clear (a large dry run validates just those in JS).
  const rows =
    only === 'unsure'
      ? `FROM staged WHERE payload IS NOT NULL AND ok IS NOT TRUE`
      : `FROM staged WHERE ${IS_CHANGE} UNION ALL FROM staged WHERE present = false`;
  const before = withBefore ? `coalesce(p.payload, d.payload)` : `NULL::VARCHAR`;
  const joins = withBefore ? `LEFT JOIN main.snapshot AS p ON p.k = c.k LEFT JOIN main.in_doubt AS d ON d.k = c.k` : '';
  await conn.run(`CREATE OR REPLACE TABLE ${CHANGES} AS
    SELECT row_number() OVER (ORDER BY c.rank, c.k) AS seq, c.k, c.action, c.payload, c.h, ${before} AS before, c.f, c.ok FROM (
      SELECT k, payload, h, f, ${validSql ? `coalesce(ok, CASE WHEN payload IS NOT NULL THEN (${validSql}) END)` : 'ok'} AS ok,
             ${ACTION} AS action,
             CASE WHEN NOT present THEN 2 WHEN known THEN 1 ELSE 0 END AS rank
        FROM (${rows})) AS c
    ${joins}
    ORDER BY seq`);
  await conn.run(`DROP TABLE IF EXISTS temp.staged`);
  const out = { add: 0, change: 0, remove: 0 };
  for (const row of await all(conn, `SELECT action, count(*) AS n FROM ${CHANGES} GROUP BY action`))
    out[row.action as keyof typeof out] = Number(row.n);
  return out;
}

/** Changes by action counted over `staged`, and how many changed rows `ok` does not clear. */
export async function summarizeStaged(conn: DuckDBConnection): Promise<{ add: number; change: number; remove: number; unsure: number }> {
  const r = (
    await all(
      conn,
      `SELECT count(*) FILTER (WHERE ${IS_CHANGE} AND NOT known) AS a, count(*) FILTER (WHERE ${IS_CHANGE} AND known) AS c,
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
    `(SELECT ${rank} * 1000000000000 + row_number() OVER (ORDER BY k) AS seq, k, ${ACTION} AS action, payload, h, NULL::VARCHAR AS before, f, ok
        FROM (SELECT * FROM staged WHERE ${where} ORDER BY k LIMIT ${n}))`;
  return `${top(0, `${IS_CHANGE} AND NOT known`)} UNION ALL ${top(1, `${IS_CHANGE} AND known`)} UNION ALL ${top(2, 'NOT present')}`;
}

/**
 * Each model row's key and payload for the keys that `keys` (a query of one column `k`) selects, read from
 * the model again: what a slim first stage (`StageOptions.unsurePayloadsAfter`) did not keep. A key the model
 * holds twice (it moved since the stage) takes either row.
 */
function modelPayloadsSql(o: Pick<StageOptions, 'modelSql' | 'key' | 'projection'>, keys: string): string {
  const K = ident(STAGED_KEY);
  const P = ident(STAGED_PAYLOAD);
  return `SELECT ${K}, any_value(${P}) AS ${P}
    FROM (SELECT *, ${o.projection} AS ${P} FROM (${keyedModelSql(o)}) WHERE ${K} IN (${keys}))
    GROUP BY ${K}`;
}

/** The model's rows with their key as text (`STAGED_KEY`) and `extra` columns beside them: what a stage joins on. */
function keyedModelSql(o: Pick<StageOptions, 'modelSql' | 'key'>, extra = ''): string {
  return `SELECT *, CAST(${ident(o.key)} AS VARCHAR) AS ${ident(STAGED_KEY)}${extra} FROM (${o.modelSql}) AS model`;
}

/**
 * `previewSql` after a slim first stage: the shown rows' payloads come from one more read of the model,
 * filtered by their keys (a few hundred rows, not every payload). A row the model no longer has (it moved
 * since the stage) is left out of the preview.
 */
export function slimPreviewSql(limit: number, o: Pick<StageOptions, 'modelSql' | 'key' | 'projection'>): string {
  const K = ident(STAGED_KEY);
  const P = ident(STAGED_PAYLOAD);
  return `WITH p AS (${previewSql(limit)}),
      m AS (${modelPayloadsSql(o, `SELECT k FROM p WHERE payload IS NULL AND action <> 'remove'`)})
    SELECT p.seq, p.k, p.action, coalesce(p.payload, m.${P}) AS payload, p.h, p.before, p.f, p.ok
      FROM p LEFT JOIN m ON m.${K} = p.k
     WHERE p.payload IS NOT NULL OR p.action = 'remove' OR m.${P} IS NOT NULL`;
}

/**
 * After a slim first stage, rebuilds the payloads it did not keep (from one more read of the model), so every
 * change can be read; a small dry run (below `summarizeFrom`) plans row by row. Throws when the model no longer
 * returns a staged key: the plan would not describe one model.
 */
export async function fillPayloads(
  conn: DuckDBConnection,
  o: Pick<StageOptions, 'modelSql' | 'key' | 'projection' | 'signal'>,
): Promise<void> {
  const K = ident(STAGED_KEY);
  await interruptible(conn, o.signal, () =>
    conn.run(`UPDATE staged SET payload = m.${ident(STAGED_PAYLOAD)}
      FROM (${modelPayloadsSql(o, `SELECT k FROM staged WHERE payload IS NULL AND ok`)}) AS m
     WHERE staged.k = m.${K} AND staged.payload IS NULL AND staged.ok`),
  );
  const missing = Number((await all(conn, `SELECT count(*) AS n FROM staged WHERE payload IS NULL AND ok`))[0]!.n);
  if (missing > 0)
    throw new SyncError(
      'model_failed',
      `the model returned other rows when read a second time (${missing} keys were gone): it changed during the plan, or its rows are not deterministic (e.g. LIMIT without ORDER BY); plan again`,
      { details: { missing } },
    );
}

/**
 * Digests of what a plan is computed from (a saved plan records them; `run --plan` refuses when they
 * moved): the staged model's rows (each key with its fingerprint or row hash, which cover the payload and the mapping)
 * and the ledger's snapshot and keys in doubt. A model row counts by its hash where the stage built its
 * payload, else by its fingerprint (which then matched the snapshot's): a changed value changes one or the
 * other, and the same model over the same ledger stages alike in a plan and in its run. Order-free: a count and the XOR of one MD5 per row.
 */
export async function stateDigests(conn: DuckDBConnection, stats?: StageStats): Promise<{ model: string; ledger: string }> {
  const digest = (from: string, row: string): string =>
    `(SELECT count(*) || ':' || coalesce(lower(to_hex(bit_xor(md5_number(${row})))), '0') FROM ${from})`;
  const modelRow = `k || chr(0) || coalesce(h::VARCHAR, 'f' || f::VARCHAR, '')`;
  // After a lean stage the unchanged rows have no row of their own: each is the previous key it matched,
  // with the same fingerprint, so they count from there (the previous keys with a fingerprint that `staged`
  // does not name), with the same text per row as the other rows. Their number must be the lean group's.
  const lean = stats?.lean;
  const model = lean
    ? `(SELECT CASE WHEN s.c + u.c = 0 THEN '0:0' ELSE (s.c + u.c) || ':' || lower(to_hex(xor(coalesce(s.x, 0::UHUGEINT), coalesce(u.x, 0::UHUGEINT)))) END
         FROM (SELECT coalesce(sum(n), 0) AS c, bit_xor(md5_number(${modelRow})) AS x FROM staged WHERE present AND NOT (known AND k IS NULL)) AS s,
              (SELECT count(*) AS c, bit_xor(md5_number(k || chr(0) || 'f' || f::VARCHAR)) AS x FROM (${lean.previous}) AS p
                WHERE h IS NOT NULL AND f IS NOT NULL AND NOT EXISTS (SELECT 1 FROM staged WHERE staged.k = p.k)) AS u)`
    : digest('staged WHERE present', modelRow);
  const r = (
    await all(
      conn,
      `SELECT ${model} AS model,
              ${digest('main.snapshot', `k || chr(0) || h::VARCHAR`)} || '/' || ${digest('main.in_doubt', `k || chr(1) || coalesce(payload, '')`)} AS ledger`,
    )
  )[0]!;
  if (lean && Number(String(r.model).split(':')[0]) !== stats.rows)
    throw new SyncError('ledger_failed', 'the ledger changed since the model was staged: stage the model again before its digests');
  return { model: String(r.model), ledger: String(r.ledger) };
}

/**
 * Writes every staged change as NDJSON to `path` (`{"action","key","payload"}` per line; the payload as
 * JSON, null for a removal), ordered add → change → remove, then by key. DuckDB sorts (spilling to disk
 * beyond its memory limit) and writes; nothing passes through JavaScript.
 */
export async function exportStaged(conn: DuckDBConnection, path: string): Promise<void> {
  await conn.run(`COPY (SELECT ${ACTION} AS action, k AS key, payload::JSON AS payload FROM staged WHERE ${IS_CHANGE} OR NOT present
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
