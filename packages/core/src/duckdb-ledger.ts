import { mkdirSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DuckDBInstance, DuckDBTimestampValue, type DuckDBConnection } from '@duckdb/node-api';
import type { Column, HttpExchange } from './contract.js';
import { SyncError } from './sync-error.js';
import { literal } from './projection.js';
import {
  buildChanges,
  CHANGES,
  WORK_DB,
  exportStaged,
  fillPayloads,
  slimPreviewSql,
  stateDigests,
  checkKeys,
  previewSql,
  stageModel,
  summarizeStaged,
  type KeyHealth,
  type StageOptions,
  type StageStats,
} from './duckdb-diff.js';
import { HEX_TO_ROW_HASH, rowHashSql, rowHashToHexSql } from './row-hash.js';
import { fingerprintSql } from './row-fingerprint.js';
import { seqRangesSql, splitRuns } from './seq-ranges.js';
import { modelRowNumbers } from './model-row-numbers.js';
import { ledgerFileBytes, ledgerOpenError } from './ledger-file.js';
import { pruneLedgerHistory, type LedgerRetention } from './ledger-maintenance.js';
import { closeCrashedRuns } from './crashed-runs.js';
import { readDeleteWindow, recordDeletes, type DeleteWindow } from './delete-window.js';

/** A staged change as read back from the ledger (payload/before are canonical JSON text, hash is 32 hex digits). */
export interface StagedChange {
  seq: number;
  key: string;
  action: 'add' | 'change' | 'remove';
  payload: string | null;
  hash: string | null;
  /** The snapshot's payload for this key (null for `add`). */
  before: string | null;
  /** The model row's fingerprint (decimal text of a 64-bit number; see `fingerprintSql`), when staged with one. */
  fingerprint?: string | null;
  /**
   * The destination's `validSql` verdict (the stage's, or the diff's: see `buildChanges`): `true` when SQL
   * proved the row valid, so the run loop neither parses nor validates its payload; null, false or absent (a
   * ledger without one): JavaScript validates it.
   */
  ok?: boolean | null;
}

export interface RowResult {
  key: string;
  action: string;
  status: 'synced' | 'failed' | 'invalid' | 'skipped';
  code?: string | undefined;
  field?: string | undefined;
  message?: string | undefined;
}

export interface RunRecord {
  runId: string;
  sync: string;
  startedAt: string;
  finishedAt: string | null;
  status: string;
  counts: Record<string, number>;
  phases: { name: string; ms: number }[];
  requests: number;
  error: { code: string; message: string } | null;
}

export interface DuckdbLedgerOptions {
  /** Ledger file; `:memory:` for a throwaway ledger (dry runs before any run, tests). */
  path: string;
  /**
   * DuckDB `memory_limit`, e.g. `1GB` (default {@link DEFAULT_LEDGER_MEMORY_LIMIT}); beyond it DuckDB spills
   * to a temp directory: `<ledger file>.tmp`, or for `:memory:` a fresh directory under the OS temp dir.
   */
  memoryLimit?: string;
  threads?: number;
  /** DuckDB `checkpoint_threshold` (default {@link DEFAULT_LEDGER_CHECKPOINT_THRESHOLD}). */
  checkpointThreshold?: string;
  /** How long per-row results and HTTP exchanges are kept (default 90 days); pruned at the end of a run. */
  retention?: LedgerRetention;
  /** Hash rows with the portable `md5()`-based SQL even when `md5_number` matches (tests). */
  portableHash?: boolean;
  /** Default of `runSync`'s `commitWindowMs` for runs on this ledger (see there). */
  commitWindowMs?: number;
  /** Default of `runSync`'s `commitWindowRows` for runs on this ledger. */
  commitWindowRows?: number;
  /**
   * A write copies staged rows from the `changes` table by SQL for runs of at least this many consecutive
   * `seq` numbers (default {@link DEFAULT_COPY_RUNS_FROM}); the others are appended from the values passed.
   */
  copyRunsFrom?: number;
}

/**
 * A copy by SQL costs a statement and a scan of the row groups it names (~3 ms, even for one row); appending
 * a row from its values costs ~0.02 ms of native calls. Bulk jobs confirm runs of hundreds of consecutive
 * changes; single calls confirm scattered ones (a 1M first sync at Knock's tiers makes ~60 a second), which
 * copied one statement each — or one `OR` over the whole table — kept DuckDB's threads 1.2 cores busy.
 */
export const DEFAULT_COPY_RUNS_FROM = 64;

const openFiles = new Set<string>();

/**
 * DuckDB's own default `memory_limit` is 80 % of the machine's RAM, so a first plan of 10M rows (every row an
 * add, every payload staged) grew to 4 GB. With a limit DuckDB spills to disk instead; 1 GB keeps a 10M-row
 * plan under 2 GiB of RSS with the JavaScript heap.
 */
export const DEFAULT_LEDGER_MEMORY_LIMIT = '1GB';

/**
 * DuckDB checkpoints (writes the WAL into the file) whenever the WAL passes `checkpoint_threshold`. At
 * DuckDB's 16 MB a run of 200,000 changes against a 10M-row snapshot checkpointed every few commit windows,
 * and each checkpoint of the big file cost as much as several windows (writes of 10,000 rows: 335 → 228 ms,
 * the end-of-run fold 3.9 → 1.3 s, measured with bench/ledger.ts's writes). 256 MB keeps the WAL a kill
 * leaves short to replay (a second or two on open).
 */
export const DEFAULT_LEDGER_CHECKPOINT_THRESHOLD = '256MB';

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS meta (k VARCHAR PRIMARY KEY, v VARCHAR)`,
  // No PRIMARY KEY: its index made every commit cost grow with the snapshot (an ART insert per key and the
  // whole index rewritten at checkpoints) and held ~100 bytes per key in memory. Keys stay unique by
  // construction: a run appends only keys the diff found new, and `fold` replaces changed keys in one pass.
  `CREATE TABLE IF NOT EXISTS snapshot (k VARCHAR NOT NULL, h UHUGEINT NOT NULL, payload VARCHAR NOT NULL, run_id VARCHAR, synced_at TIMESTAMP)`,
  // Confirmed changes and removals (payload NULL) of keys already in the snapshot, appended per commit and
  // folded into `snapshot` at the end of a run and on open (after a kill): replacing a key in place would
  // scan the snapshot at every commit. Unindexed, so a commit costs the same at 0 or 10M synced rows.
  `CREATE TABLE IF NOT EXISTS acked (k VARCHAR NOT NULL, h UHUGEINT, payload VARCHAR, run_id VARCHAR, synced_at TIMESTAMP)`,
  // Each key's fingerprint (see `fingerprintSql`) beside its hash: the stage skips building the payload of
  // a row whose fingerprint matches. Null (ledgers written before it, rows confirmed without one) = compare
  // by hash; the next non-dry stage fills it in for the rows whose hash matched.
  `ALTER TABLE snapshot ADD COLUMN IF NOT EXISTS f UBIGINT`,
  `ALTER TABLE acked ADD COLUMN IF NOT EXISTS f UBIGINT`,
  // Keys sent (or about to be) whose outcome is not known yet: the destination may hold the attempted
  // payload. The diff treats them as changed until a definite outcome, so a crash or lost
  // acknowledgement is resent even if the model meanwhile went back to the snapshot's value.
  // `sticky`: the key was already in doubt when it was sent again, so a rejection of the new attempt says
  // nothing about what the destination holds from the earlier one; only a confirmation settles it.
  `CREATE TABLE IF NOT EXISTS in_doubt (k VARCHAR PRIMARY KEY, payload VARCHAR, run_id VARCHAR, since TIMESTAMP, sticky BOOLEAN DEFAULT false)`,
  `ALTER TABLE in_doubt ADD COLUMN IF NOT EXISTS sticky BOOLEAN DEFAULT false`,
  // What each write changes in `in_doubt`, appended in order (marks, confirmations, rejections) and folded
  // into `in_doubt` with `acked` (see `foldDoubts`): an upsert and a delete on `in_doubt`'s primary key at
  // every write cost ~30 ms per 1,000 keys, an append to this unindexed log a few.
  `CREATE TABLE IF NOT EXISTS doubt_log (k VARCHAR NOT NULL, ev TINYINT NOT NULL, payload VARCHAR, run_id VARCHAR, since TIMESTAMP)`,
  `CREATE TABLE IF NOT EXISTS runs (run_id VARCHAR PRIMARY KEY, sync VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, status VARCHAR, counts VARCHAR, phases VARCHAR, requests INTEGER, error VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS row_results (run_id VARCHAR, k VARCHAR, action VARCHAR, status VARCHAR, code VARCHAR, field VARCHAR, message VARCHAR, recorded_at TIMESTAMP)`,
  `CREATE TABLE IF NOT EXISTS exchanges (run_id VARCHAR, op_id VARCHAR, method VARCHAR, path VARCHAR, status INTEGER, attempt INTEGER, started_at VARCHAR, duration_ms DOUBLE, detail VARCHAR)`,
];

/**
 * The default ledger: one DuckDB file per sync holding the snapshot (each key's last confirmed payload and
 * its hash), run records, per-row results and the HTTP exchanges. DuckDB's file lock makes a second
 * concurrent run of the same sync fail fast, and its WAL makes every committed batch survive `kill -9`.
 * @example const ledger = await openDuckdbLedger({ path: '.syncline/users.duckdb' })
 */
export async function openDuckdbLedger(options: DuckdbLedgerOptions) {
  const file = options.path === ':memory:' ? ':memory:' : resolve(options.path);
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  // DuckDB's file lock stops a second process; this set stops a second run inside this process.
  if (file !== ':memory:' && openFiles.has(file))
    throw new SyncError('locked', `another run of this sync is in progress (ledger ${options.path} is open)`, {
      details: { file: options.path },
    });
  // A `:memory:` ledger (a dry run before the first run) spills to its own temp directory, removed on close.
  const spill = file === ':memory:' ? mkdtempSync(join(tmpdir(), 'syncline-ledger-')) : `${file}.tmp`;
  const settings: Record<string, string> = {
    threads: String(options.threads ?? 2),
    memory_limit: options.memoryLimit ?? DEFAULT_LEDGER_MEMORY_LIMIT,
    temp_directory: spill,
    checkpoint_threshold: options.checkpointThreshold ?? DEFAULT_LEDGER_CHECKPOINT_THRESHOLD,
  };
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(file, settings);
  } catch (e) {
    if (file === ':memory:') rmSync(spill, { recursive: true, force: true });
    // Classified by the file's own headers, never by words in DuckDB's message (see ledger-file.ts).
    throw file === ':memory:'
      ? new SyncError('ledger_failed', `cannot open ledger: ${String((e as Error).message)}`, { cause: e })
      : ledgerOpenError(file, e);
  }
  if (file !== ':memory:') openFiles.add(file);
  const conn = await instance.connect();
  for (const s of SCHEMA) await conn.run(s);
  const hash = await rowHashSql(conn, { portable: options.portableHash ?? false });
  // Part of every fingerprint's salt: another DuckDB may hash or print values differently (see row-fingerprint.ts).
  const engine = String((await conn.runAndReadAll(`SELECT version() AS v`)).getRowObjectsJson()[0]!.v);
  await migrateSnapshotHash(conn);
  await migrateSnapshotKey(conn);
  // A run killed before its end left its confirmed changes and its marks in the logs: fold them before
  // anything reads.
  await foldLogs(conn);
  // A run's numbered changes live in an in-memory database every connection sees (see `WORK_DB`), so
  // they are read on a second connection: a read of the next changes never waits behind a ledger write
  // (perf5 measured 0.2-0.4 s of each 10,000-row write queueing behind a read on the one connection).
  await conn.run(`ATTACH ':memory:' AS ${WORK_DB}`);
  const reader = await instance.connect();
  // Commits from concurrent operations are serialised on the one connection; reads of changes on the other.
  const serialOn = () => {
    let queue: Promise<unknown> = Promise.resolve();
    const run = <T>(fn: () => Promise<T>): Promise<T> => {
      const p = queue.then(fn);
      queue = p.catch(() => undefined);
      return p;
    };
    return Object.assign(run, { idle: () => queue });
  };
  const serial = serialOn();
  const serialRead = serialOn();
  const all = async (sql: string, params?: unknown[]) => {
    const r = params ? await conn.runAndReadAll(sql, params as never) : await conn.runAndReadAll(sql);
    return r.getRowObjectsJson() as Record<string, unknown>[];
  };
  // Written since the last fold: reads of the snapshot or of the keys in doubt fold the logs first, so
  // what is logged always counts as in the snapshot (or in doubt) for them.
  let dirty = false;
  const folded = async (): Promise<void> => {
    if (!dirty) return;
    await serial(async () => {
      await foldLogs(conn);
      dirty = false;
    });
    // The fold deleted rows by key: captured rowids are not to be used again.
    await dropReplaced();
  };
  /** Forgets the captured rowids (a new diff, or a fold deleted their rows). */
  const dropReplaced = async (): Promise<void> => {
    replacedPending = false;
    const r = replaced;
    replaced = undefined;
    if (!r) return;
    r.cancel();
    await r.release();
    await serial(() => conn.run(`DROP TABLE IF EXISTS ${REPLACED}`));
  };
  /**
   * Staged changes selected by `from` (a FROM clause with $1… parameters), sorted by seq; on the reader
   * connection when `from` reads only `CHANGES` (see `WORK_DB`).
   */
  const readStaged = async (from: string, params: unknown[], on: 'writer' | 'reader' = 'writer'): Promise<StagedChange[]> => {
    // One JSON text per chunk instead of eight values per row: @duckdb/node-api decodes every string value
    // with a native call (~0.7 µs each), while one JSON.parse of the chunk is a single fast pass.
    // string_agg of ready JSON texts, not to_json(list(...)), which re-parses every element; unordered
    // (sorted below when needed), as ordering the aggregate costs more than checking the order. (The payloads
    // as raw texts beside a JSON array of the small fields, split in JavaScript, parsed a 10,000-row block
    // no faster: 7.1-8.7 ms against 7.8 ms.)
    const sql = `SELECT '[' || string_agg(json_array(seq, k, action, payload, ${rowHashToHexSql('h')}, before, f::VARCHAR, ok)::VARCHAR, ',') || ']' AS j ${from}`;
    const r =
      on === 'reader'
        ? await serialRead(
            async () =>
              (params.length
                ? await reader.runAndReadAll(sql, params as never)
                : await reader.runAndReadAll(sql)
              ).getRowObjectsJson() as Record<string, unknown>[],
          )
        : await serial(() => all(sql, params));
    const rows = JSON.parse(String(r[0]?.j ?? '[]')) as
      [number, string, StagedChange['action'], string | null, string | null, string | null, string | null, boolean | null][] | null;
    const list = rows ?? [];
    for (let i = 1; i < list.length; i++)
      if (list[i]![0] < list[i - 1]![0]) {
        list.sort((a, b) => a[0] - b[0]);
        break;
      }
    return list.map(([seq, key, action, payload, hash, before, fingerprint, ok]) => ({
      seq,
      key,
      action,
      payload,
      hash: action === 'remove' ? null : hash,
      before,
      fingerprint: action === 'remove' ? null : fingerprint,
      ok,
    }));
  };
  let closed = false;
  // The snapshot rows the run's changes and removals replace, by rowid, captured beside the send so that
  // the fold deletes by rowid instead of scanning every key (see `captureReplaced`): started by the first
  // write after a diff that has changes or removals.
  let replacedPending = false;
  let replaced: Capture | undefined;
  // Counts of the last `stage`, for `keyHealth`'s duplicate arithmetic; its options, to read the model again
  // after a slim first stage (see `StageOptions.unsurePayloadsAfter`).
  let staged: StageStats | undefined;
  let stagedWith: StageOptions | undefined;

  const ledger = {
    file,
    connection: conn as DuckDBConnection,
    /** How long and how many rows confirmed outcomes may wait to be written together (runSync's defaults). */
    commitWindow: { ms: options.commitWindowMs, rows: options.commitWindowRows },
    /** A ledger that existed before this open (a dry run must not create one). */
    async meta(key: string): Promise<string | null> {
      const r = await all(`SELECT v FROM meta WHERE k = $1`, [key]);
      return (r[0]?.v as string | undefined) ?? null;
    },
    async setMeta(key: string, value: string): Promise<void> {
      await serial(() => conn.run(`INSERT OR REPLACE INTO meta VALUES ($1, $2)`, [key, value]));
    },
    async describe(modelSql: string): Promise<Column[]> {
      // On lines of their own: a model ending in a `-- comment` still parses, and DuckDB's `LINE n:` is the
      // model's line n - 1 (see sqlErrorPosition).
      const rows = await all(`DESCRIBE (\n${modelSql}\n)`);
      return rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
    },
    /** SQL of the row hash of a text expression (see row-hash.ts), e.g. for benchmarks' floor. */
    rowHash: hash,
    /** SQL of each model row's fingerprint for this mapping and config hash (see `fingerprintSql`). */
    fingerprintSql: (fields: Record<string, string>, columns: Column[], salt: string): string =>
      fingerprintSql(fields, columns, salt, engine),
    /**
     * Runs the model once and joins it with the snapshot (see `stageModel`); returns the model's row count.
     * All or nothing: a failed or interrupted query stages nothing and throws.
     */
    async stage(opts: StageOptions): Promise<number> {
      // The diff must see every confirmed change, also those a failed run on this connection left in the log.
      dirty = true;
      await folded();
      staged = await stageModel(conn, hash, opts);
      stagedWith = opts;
      return staged.rows;
    },
    /** Null/blank and duplicate keys of the staged model (count and up to 5 samples). */
    async keyHealth(opts: { signal?: AbortSignal } = {}): Promise<KeyHealth> {
      if (!staged) throw new SyncError('ledger_failed', 'keyHealth() needs a staged model (call stage() first)');
      return checkKeys(conn, staged, opts.signal, stagedWith);
    },
    async snapshotSize(): Promise<number> {
      await folded();
      return Number((await all(`SELECT count(*) AS n FROM snapshot`))[0]!.n);
    },
    /**
     * Keys the destination may hold: the snapshot's, plus keys in doubt that are not in it (sent by a run
     * that was killed, maybe applied). The diff removes both kinds, so the mass-delete guard weighs removals
     * against both.
     */
    async knownSize(): Promise<number> {
      await folded();
      const r = await all(
        `SELECT (SELECT count(*) FROM snapshot) + (SELECT count(*) FROM in_doubt AS d WHERE NOT EXISTS (SELECT 1 FROM snapshot AS p WHERE p.k = d.k)) AS n`,
      );
      return Number(r[0]!.n);
    },
    /**
     * Numbers the staged changes into `changes`, add → change → remove, then by key; returns the counts.
     * `before: false` leaves `StagedChange.before` null (saves a scan of the snapshot's payloads; `befores()`
     * fetches a few). `validSql` (over `stagedRowSql`): the verdict `StagedChange.ok` of changes the stage gave none.
     */
    async diff(
      opts: { before?: boolean; only?: 'all' | 'unsure'; validSql?: string | undefined } = {},
    ): Promise<{ add: number; change: number; remove: number }> {
      // Every change is read after this: a slim first stage gets the payloads it did not keep.
      if (staged?.slim && opts.only !== 'unsure') {
        await serial(() => fillPayloads(conn, stagedWith!));
        staged = { ...staged, slim: false };
      }
      const counts = await buildChanges(conn, opts.before ?? true, opts.only, opts.validSql);
      await dropReplaced();
      const all = counts.add + counts.change + counts.remove;
      replacedPending = opts.only !== 'unsure' && counts.change + counts.remove > 0 && all <= CAPTURE_MAX_CHANGES;
      return counts;
    },
    /**
     * `before` of a few keys, as `diff({ before: true })` joins it: the snapshot's payload, else (a key in
     * doubt that was never confirmed) the payload last attempted. One scan of the snapshot, filtered by key.
     */
    async befores(keys: string[]): Promise<Map<string, string>> {
      if (keys.length === 0) return new Map();
      await folded();
      const list = keys.map(literal).join(', ');
      const rows = await serial(() =>
        all(`SELECT k, payload, 1 AS o FROM in_doubt WHERE k IN (${list}) AND payload IS NOT NULL
             UNION ALL SELECT k, payload, 0 AS o FROM snapshot WHERE k IN (${list}) ORDER BY o DESC`),
      );
      return new Map(rows.map((r) => [String(r.k), String(r.payload)]));
    },
    /** The 1-based row numbers in the model of a few keys (see `modelRowNumbers`; reads the model again). */
    async rowNumbers(o: { modelSql: string; key: string; keys: string[]; signal?: AbortSignal | undefined }): Promise<Map<string, number>> {
      return serial(() => modelRowNumbers(conn, o));
    },
    /** Keeps only the first `count` numbered changes (a run limited by `maxRows`); the rest wait for the next run. */
    async keepChanges(count: number): Promise<void> {
      await serial(() => conn.run(`DELETE FROM ${CHANGES} WHERE seq > ${Math.max(0, Math.floor(count))}`));
    },
    /** Changes with `fromSeq <= seq < toSeq`, in order; read beside ledger writes, never queued behind them. */
    async readChanges(fromSeq: number, toSeq: number): Promise<StagedChange[]> {
      // The bounds as literals, not parameters: DuckDB then skips the row groups outside them (zone maps);
      // with $1/$2 a read of 10,000 of 200,000 changes took 1.3-1.8× as long.
      if (!Number.isSafeInteger(fromSeq) || !Number.isSafeInteger(toSeq))
        throw new Error(`readChanges(${fromSeq}, ${toSeq}): not integers`);
      return readStaged(`FROM ${CHANGES} WHERE seq >= ${fromSeq} AND seq < ${toSeq}`, [], 'reader');
    },
    /**
     * Counts of the staged changes by action, and `unsure`: changed rows that the stage's `validSql` did not
     * clear (all of them when none was given). Call after `stage`, instead of `diff` or before it.
     */
    async summary(): Promise<{ add: number; change: number; remove: number; unsure: number }> {
      return serial(() => summarizeStaged(conn));
    },
    /** Digests of the staged model and of the ledger's state (see `stateDigests`); after `stage`, before `diff`. */
    async digests(): Promise<{ model: string; ledger: string }> {
      return serial(() => stateDigests(conn, staged));
    },
    /** Writes every staged change to `path` as NDJSON (see `exportStaged`); after `stage`, before `diff`. */
    async exportChanges(path: string): Promise<void> {
      await serial(() => exportStaged(conn, path));
    },
    /** The first `limit` staged changes of each action by key (`seq` 0, `before` null): a dry run's preview. */
    async previewChanges(limit: number): Promise<StagedChange[]> {
      return readStaged(`FROM (${staged?.slim ? slimPreviewSql(limit, stagedWith!) : previewSql(limit)})`, []);
    },
    /**
     * Records, before an operation is sent, that its keys are in doubt (one transaction). A `kill -9` from
     * here until `commit` settles them leaves them in doubt, so the next run resends them.
     */
    async markInDoubt(runId: string, changes: { key: string; payload: string | null }[]): Promise<void> {
      if (changes.length === 0) return;
      await ledger.write(runId, { ...EMPTY_WRITE, doubts: changes });
    },
    /** Keys whose last send has no known outcome (see `markInDoubt`). */
    async inDoubtCount(): Promise<number> {
      await folded();
      return Number((await all(`SELECT count(*) AS n FROM in_doubt`))[0]!.n);
    },
    /**
     * Commits one batch in one transaction: confirmed upserts enter the snapshot with their payload and
     * hash, confirmed removals leave it, settled keys leave `in_doubt`, and every row's result and HTTP
     * exchange is recorded.
     */
    async commit(runId: string, batch: Omit<LedgerWrite, 'doubts' | 'settled'> & { settled?: string[] }): Promise<void> {
      await ledger.write(runId, { ...EMPTY_WRITE, ...batch, settled: batch.settled ?? [] });
    },
    /**
     * Writes what a window of operations produced in one transaction (one WAL sync): acknowledgements and
     * settled keys first, then the keys about to be sent are marked in doubt. New keys (`added`) are
     * appended to the snapshot; changed and removed ones go to the `acked` log until `fold`. Every part
     * costs time in proportion to its own rows, not to the snapshot's size.
     */
    async write(runId: string, batch: LedgerWrite): Promise<void> {
      if (replacedPending) {
        replacedPending = false;
        replaced = captureReplaced(instance);
      }
      await serial(async () => {
        // Only appends between BEGIN and COMMIT: every part costs time in proportion to its own rows, and
        // nothing scans or indexes what is already there (see `doubt_log` and `acked`).
        const confirmed = new Set<string>(batch.removes);
        for (const u of batch.upserts) confirmed.add(u.key);
        // Rows that are staged changes (`seq`) are copied from the staged `changes` table by SQL, named by
        // ranges of their numbers, so none of their values crosses from JavaScript (appending costs a native
        // call per value, ~25 per changed row across these tables). Statements are sent together: each call
        // into DuckDB waits for the event loop to take its result, which under load cost more than the
        // statement (10M rows, 2 % changed: ~0.1-0.3 s per write just for BEGIN). A write of staged rows
        // only is one call. The rest (rejections, withdrawn marks, removals) is appended as before.
        const micros = BigInt(Date.now()) * 1000n;
        const at = new DuckDBTimestampValue(micros);
        const run = literal(runId);
        const atSql = `make_timestamp(${micros})`;
        let sql: string[] = ['BEGIN TRANSACTION'];
        const flush = async (): Promise<void> => {
          if (sql.length) await conn.run(sql.join(';\n'));
          sql = [];
        };
        const minRun = options.copyRunsFrom ?? DEFAULT_COPY_RUNS_FROM;
        /** Copies the items in long runs of `seq` into `into`; returns the others, to append from their values. */
        const copy = <T>(into: string, columns: string, items: T[], seqOf: (item: T) => number | undefined): T[] => {
          const { runs, rest } = splitRuns(items, seqOf, minRun);
          if (runs.length) sql.push(`INSERT INTO ${into} SELECT ${columns} FROM ${CHANGES} WHERE ${seqRangesSql('seq', runs)}`);
          return rest;
        };
        /** An appender, after the statements so far (their rows come first). */
        const appender = async (table: string) => {
          await flush();
          return conn.createAppender(table);
        };
        const stagedSeq = new Map<string, number>();
        for (const u of batch.upserts) if (u.seq !== undefined) stagedSeq.set(u.key, u.seq);
        dirty = true;
        try {
          // New keys go straight into the snapshot, changed and removed ones (payload null) into the log.
          const SNAPSHOT_ROW = `k, h, payload, ${run}, ${atSql}, f`;
          const addedRest = copy(
            'snapshot',
            SNAPSHOT_ROW,
            batch.upserts.filter((u) => u.added === true),
            (u) => u.seq,
          );
          const changedRest = copy(
            'acked',
            SNAPSHOT_ROW,
            batch.upserts.filter((u) => u.added !== true),
            (u) => u.seq,
          );
          const append = async (
            table: 'snapshot' | 'acked',
            rows: { key: string; hash?: string; payload?: string; fingerprint?: string | null | undefined }[],
          ) => {
            if (rows.length === 0) return;
            const ap = await appender(table);
            for (const u of rows) {
              ap.appendVarchar(u.key);
              u.hash === undefined ? ap.appendNull() : ap.appendUHugeInt(BigInt(`0x${u.hash}`));
              u.payload === undefined ? ap.appendNull() : ap.appendVarchar(u.payload);
              ap.appendVarchar(runId);
              ap.appendTimestamp(at);
              u.fingerprint == null ? ap.appendNull() : ap.appendUBigInt(BigInt(u.fingerprint));
              ap.endRow();
            }
            ap.closeSync();
          };
          await append('snapshot', addedRest);
          await append('acked', [...changedRest, ...batch.removes.map((key) => ({ key }))]);
          // Settled keys first, then the new marks: the fold replays each key's events in this order.
          const logRows = async (rows: { key: string; ev: number; payload: string | null }[]): Promise<void> => {
            if (rows.length === 0) return;
            const ap = await appender('doubt_log');
            for (const r of rows) {
              ap.appendVarchar(r.key);
              ap.appendTinyInt(r.ev);
              r.payload === null ? ap.appendNull() : ap.appendVarchar(r.payload);
              ap.appendVarchar(runId);
              ap.appendTimestamp(at);
              ap.endRow();
            }
            ap.closeSync();
          };
          // A settled key with a staged number is a confirmed upsert.
          await logRows(
            copy('doubt_log', `k, ${DOUBT_CONFIRMED}::TINYINT, NULL, ${run}, ${atSql}`, batch.settled, (k) => stagedSeq.get(k)).map(
              (key) => ({
                key,
                ev: confirmed.has(key) ? DOUBT_CONFIRMED : DOUBT_REJECTED,
                payload: null,
              }),
            ),
          );
          // A staged mark logs the staged payload of an add (null otherwise), as the run loop passes it.
          await logRows(
            copy(
              'doubt_log',
              `k, ${DOUBT_MARKED}::TINYINT, CASE WHEN action = 'add' THEN payload END, ${run}, ${atSql}`,
              batch.doubts,
              (c) => c.seq,
            ).map((c) => ({ key: c.key, ev: DOUBT_MARKED, payload: c.payload })),
          );
          // A synced row of a staged change records the staged action.
          const results = copy(`row_results`, `${run}, k, action, 'synced', NULL, NULL, NULL, NULL`, batch.results, (r) =>
            r.status === 'synced' ? r.seq : undefined,
          );
          if (results.length) {
            const ap = await appender('row_results');
            for (const r of results) {
              ap.appendVarchar(runId);
              ap.appendVarchar(r.key);
              ap.appendVarchar(r.action);
              ap.appendVarchar(r.status);
              r.code === undefined ? ap.appendNull() : ap.appendVarchar(r.code);
              r.field === undefined ? ap.appendNull() : ap.appendVarchar(r.field);
              r.message === undefined ? ap.appendNull() : ap.appendVarchar(r.message);
              ap.appendNull();
              ap.endRow();
            }
            ap.closeSync();
          }
          // A few per write (one per call): written as values with the statements.
          if (batch.exchanges.length) {
            const text = (v: string | undefined): string => (v === undefined ? 'NULL' : literal(v));
            const num = (v: number | null | undefined): string =>
              v === null || v === undefined || !Number.isFinite(v) ? 'NULL' : String(v);
            sql.push(
              `INSERT INTO exchanges VALUES ${batch.exchanges
                .map(
                  (x) =>
                    `(${run}, ${text(x.opId)}, ${text(x.method)}, ${text(x.path)}, ${num(x.status)}::INTEGER, ${num(x.attempt)}::INTEGER, ${text(x.startedAt)}, ${num(x.durationMs)}::DOUBLE, ${literal(JSON.stringify(x))})`,
                )
                .join(', ')}`,
            );
          }
          sql.push('COMMIT');
          await flush();
        } catch (e) {
          await conn.run('ROLLBACK').catch(() => undefined);
          throw new SyncError('ledger_failed', `ledger commit failed: ${(e as Error).message}`, { cause: e });
        }
      });
    },
    /**
     * Folds the `acked` log into the snapshot in one transaction: the replaced rows are deleted by the
     * rowids captured while the run sent (`captureReplaced`), else by one pass over the snapshot's keys for
     * all the changed and removed keys of a run. Runs at the end of every run and on open (a killed run's
     * log). Returns the log rows folded.
     */
    async fold(): Promise<number> {
      const byRowid = replaced !== undefined && (await replaced.done);
      const n = await serial(async () => {
        const n = await foldLogs(conn, byRowid ? REPLACED : undefined);
        dirty = false;
        return n;
      });
      // Deleted rows' rowids are not to be used again.
      await dropReplaced();
      return n;
    },
    async saveRun(run: RunRecord): Promise<void> {
      await serial(() =>
        conn.run(`INSERT OR REPLACE INTO runs VALUES ($1, $2, $3::TIMESTAMP, $4::TIMESTAMP, $5, $6, $7, $8, $9)`, [
          run.runId,
          run.sync,
          run.startedAt,
          run.finishedAt,
          run.status,
          JSON.stringify(run.counts),
          JSON.stringify(run.phases),
          run.requests,
          run.error ? JSON.stringify(run.error) : null,
        ] as never),
      );
    },
    async runs(limit = 20): Promise<RunRecord[]> {
      const r = await all(`SELECT * FROM runs ORDER BY started_at DESC LIMIT ${Number(limit)}`);
      return r.map(runRecordFromRow);
    },
    async run(runId: string): Promise<RunRecord | null> {
      const r = await all(`SELECT * FROM runs WHERE run_id = $1`, [runId]);
      return r[0] ? runRecordFromRow(r[0]) : null;
    },
    async rowResults(filter: {
      key?: string;
      runId?: string;
      status?: string;
      limit?: number;
    }): Promise<(RowResult & { runId: string })[]> {
      const where: string[] = [];
      const params: string[] = [];
      for (const [col, v] of [
        ['k', filter.key],
        ['row_results.run_id', filter.runId],
        ['row_results.status', filter.status],
      ] as const)
        if (v !== undefined) where.push(`${col} = $${params.push(v)}`);
      const r = await all(
        `SELECT row_results.* FROM row_results LEFT JOIN runs USING (run_id) ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY runs.started_at DESC NULLS LAST LIMIT ${Number(filter.limit ?? 100)}`,
        params,
      );
      return r.map((x) => ({
        runId: String(x.run_id),
        key: String(x.k),
        action: String(x.action),
        status: x.status as RowResult['status'],
        code: (x.code as string | null) ?? undefined,
        field: (x.field as string | null) ?? undefined,
        message: (x.message as string | null) ?? undefined,
      }));
    },
    async exchanges(runId: string, limit = 1000): Promise<HttpExchange[]> {
      const r = await all(`SELECT detail FROM exchanges WHERE run_id = $1 LIMIT ${Number(limit)}`, [runId]);
      return r.map((x) => JSON.parse(String(x.detail)) as HttpExchange);
    },
    async snapshotRow(key: string): Promise<{ hash: string; payload: string } | null> {
      await folded();
      const r = await all(`SELECT ${rowHashToHexSql('h')} AS h, payload FROM snapshot WHERE k = $1`, [key]);
      return r[0] ? { hash: String(r[0].h), payload: String(r[0].payload) } : null;
    },
    /** Closes the records of killed runs as `crashed` (see `closeCrashedRuns`). */
    async closeCrashedRuns(): Promise<string[]> {
      await folded();
      return serial(() => closeCrashedRuns(conn));
    },
    /** The mass-delete guard's rolling window (see `readDeleteWindow`). */
    async deleteWindow(snapshotNow: number): Promise<DeleteWindow> {
      return serial(() => readDeleteWindow(conn, snapshotNow));
    },
    /** Records a run's confirmed deletions for the rolling window (see `recordDeletes`). */
    async recordDeletes(runId: string, snapshotBefore: number): Promise<void> {
      await serial(() => recordDeletes(conn, runId, snapshotBefore));
    },
    /** Deletes row results and exchanges of runs outside `retention` (see `pruneLedgerHistory`). */
    async pruneHistory(): Promise<number> {
      return serial(() => pruneLedgerHistory(conn, options.retention));
    },
    /**
     * Close without a checkpoint, and leave the logs unfolded: the write-ahead log stays beside the file and
     * is replayed (and the logs folded) by the next open, as after a kill. After millions of appended rows
     * the fold and the checkpoint take tens of seconds. False for `:memory:` (nothing opens it again).
     */
    async deferMaintenance(): Promise<boolean> {
      if (file === ':memory:') return false;
      await serial(() => conn.run('PRAGMA disable_checkpoint_on_shutdown'));
      return true;
    },
    /** Bytes on disk (file and write-ahead log); 0 for `:memory:`. */
    sizeBytes(): number {
      return file === ':memory:' ? 0 : ledgerFileBytes(file);
    },
    /** Forgets the snapshot (the next run sends every row as new). */
    async reset(): Promise<void> {
      await dropReplaced();
      await serial(async () => {
        await conn.run(`DELETE FROM snapshot`);
        await conn.run(`DELETE FROM acked`);
        await conn.run(`DELETE FROM in_doubt`);
        await conn.run(`DELETE FROM doubt_log`);
        dirty = false;
      });
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      // A capture still running (a stopped run) is not needed any more.
      replaced?.cancel();
      await replaced?.release();
      await serial.idle();
      await serialRead.idle();
      reader.closeSync();
      conn.closeSync();
      instance.closeSync();
      openFiles.delete(file);
      if (file === ':memory:') rmSync(spill, { recursive: true, force: true });
    },
    async [Symbol.asyncDispose]() {
      await ledger.close();
    },
  };
  return ledger;
}

export type DuckdbLedger = Awaited<ReturnType<typeof openDuckdbLedger>>;

/** One transaction of ledger writes (see `DuckdbLedger.write`). */
export interface LedgerWrite {
  /**
   * Keys about to be sent, with the payload attempted (null for a removal): they enter `in_doubt`. `seq`:
   * the key is staged change number `seq` of this run and `payload` is its staged payload for an add, else
   * null; a ledger may then copy it from the staged changes instead of receiving it.
   */
  doubts: { key: string; payload: string | null; seq?: number | undefined }[];
  /**
   * Confirmed payloads; `added`: the key is new to the snapshot (the diff's `add`), so it is appended.
   * `seq`: hash, payload and fingerprint are those of staged change number `seq` of this run (a ledger may
   * copy them from there).
   */
  upserts: {
    key: string;
    hash: string;
    payload: string;
    added?: boolean;
    fingerprint?: string | null | undefined;
    seq?: number | undefined;
  }[];
  /** Confirmed removals. */
  removes: string[];
  /** Per-row outcomes; `seq` on a synced row: its action is staged change number `seq`'s. */
  results: (RowResult & { seq?: number | undefined })[];
  exchanges: HttpExchange[];
  /** Keys with a definite outcome (confirmed or rejected): they leave `in_doubt`. */
  settled: string[];
}

const EMPTY_WRITE: LedgerWrite = { doubts: [], upserts: [], removes: [], results: [], exchanges: [], settled: [] };

/** `doubt_log.ev`: the key was marked in doubt (about to be sent), confirmed, or definitely rejected. */
const DOUBT_MARKED = 0;
const DOUBT_CONFIRMED = 1;
const DOUBT_REJECTED = 2;

/**
 * Folds both logs in one transaction (all or nothing, and idempotent: a kill in the middle leaves the logs
 * as they were): `acked` into the snapshot, then `doubt_log` into `in_doubt`. Returns the log rows folded.
 * With `replaced` (see `captureReplaced`) the replaced snapshot rows are deleted by rowid, else by a scan
 * of every key.
 */
async function foldLogs(conn: DuckDBConnection, replaced?: string): Promise<number> {
  const count = async (table: string): Promise<number> =>
    Number((await conn.runAndReadAll(`SELECT count(*) AS n FROM ${table}`)).getRowObjectsJson()[0]!.n);
  const acked = await count('acked');
  const doubts = await count('doubt_log');
  if (acked + doubts === 0) return 0;
  let moved = false;
  const n = await foldLogsOnce(conn, acked, doubts, replaced, () => (moved = true));
  return moved ? foldLogsOnce(conn, acked, doubts) : n;
}

/** One try of `foldLogs`: by captured rowids when `replaced` is given (`onMoved`: they did not hold). */
async function foldLogsOnce(
  conn: DuckDBConnection,
  acked: number,
  doubts: number,
  replaced?: string,
  onMoved?: () => void,
): Promise<number> {
  await conn.run('BEGIN TRANSACTION');
  try {
    if (acked > 0) {
      const byRowid = replaced === undefined ? 'no' : await deleteReplaced(conn, replaced).catch(() => 'moved' as const);
      if (byRowid === 'moved') {
        // Rows moved since the capture (e.g. a checkpoint compacted the table): fold by key instead.
        await conn.run('ROLLBACK');
        onMoved?.();
        return 0;
      }
      if (byRowid === 'no') await conn.run(`DELETE FROM snapshot WHERE k IN (SELECT k FROM acked)`);
      // The last acknowledgement of a key wins (a key is normally acknowledged once per run).
      await conn.run(`INSERT INTO snapshot SELECT k, h, payload, run_id, synced_at, f FROM (
          SELECT *, row_number() OVER (PARTITION BY k ORDER BY synced_at DESC, i DESC) AS last FROM (SELECT rowid AS i, * FROM acked))
        WHERE last = 1 AND payload IS NOT NULL`);
      await conn.run(`DELETE FROM acked`);
    }
    if (doubts > 0) await foldDoubtLog(conn);
    await conn.run('COMMIT');
  } catch (e) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw new SyncError('ledger_failed', `ledger fold failed: ${(e as Error).message}`, { cause: e });
  }
  return acked + doubts;
}

/** A background capture of the snapshot rows a run replaces (see `captureReplaced`). */
interface Capture {
  /** True once `REPLACED` holds the rows; false if the capture failed or was cancelled. */
  done: Promise<boolean>;
  /** Stops a capture still reading. */
  cancel(): void;
  /** Ends the transaction that keeps the rows in place (after the fold, or when the capture is dropped). */
  release(): Promise<void>;
}

/** The snapshot rows (rowid `r`, key `k`) that the run's changes and removals replace. */
const REPLACED = `${WORK_DB}.replaced`;
/**
 * Runs with more changes than this fold by key: the transaction that keeps captured rows in place also
 * keeps DuckDB from cleaning up after the run's writes until the fold.
 */
export const CAPTURE_MAX_CHANGES = 1_000_000;

/**
 * Finds, on a connection of its own while the run sends, the snapshot rows that the run's changed and
 * removed keys replace: the one scan of the snapshot's keys a fold needs (~0.9-1.1 s at 10M rows), done
 * while the send waits on HTTP and writes rather than after it; the fold's delete by rowid then takes
 * ~0.3 s. A rowid names the same row until a checkpoint compacts ("vacuums") a table with deleted rows,
 * and DuckDB does not vacuum while another transaction is open (its checkpoints are then "concurrent"):
 * so a read transaction is opened on one more connection before the capture reads and held until the fold
 * is done (`release`). (The ledger's settings cannot be changed instead: a DuckDB source locks them.)
 */
function captureReplaced(instance: DuckDBInstance): Capture {
  let cancelled = false;
  let c: DuckDBConnection | undefined;
  let pin: DuckDBConnection | undefined;
  const done = (async () => {
    try {
      pin = await instance.connect();
      await pin.run('BEGIN TRANSACTION');
      await pin.run('SELECT 1 FROM main.snapshot LIMIT 0');
      c = await instance.connect();
      if (cancelled) return false;
      await c.run(`CREATE OR REPLACE TABLE ${REPLACED} AS
        SELECT s.rowid AS r, s.k FROM main.snapshot AS s WHERE s.k IN (SELECT k FROM ${CHANGES} WHERE action <> 'add')`);
      return !cancelled;
    } catch {
      return false;
    } finally {
      c?.closeSync();
    }
  })();
  return {
    done,
    cancel() {
      cancelled = true;
      c?.interrupt();
    },
    async release() {
      await done;
      if (!pin) return;
      await pin.run('ROLLBACK').catch(() => undefined);
      pin.closeSync();
      pin = undefined;
    },
  };
}

/**
 * Deletes the snapshot rows that `acked` replaces by their captured rowids (`captureReplaced`), inside the
 * fold's transaction: `no` when some logged key was not one of the run's changes (then the fold deletes by
 * key); `moved` when fewer rows than captured were still there to delete (e.g. an earlier fold in the run
 * deleted some), and the caller rolls back and folds by key. (Checking each deleted row's key costs the
 * scan this avoids: `RETURNING k` took 12 s at 10M rows, a key check by rowid 0.9 s.)
 */
async function deleteReplaced(conn: DuckDBConnection, replaced: string): Promise<'done' | 'no' | 'moved'> {
  const one = async (sql: string): Promise<number> =>
    Number(Object.values((await conn.runAndReadAll(sql)).getRowObjectsJson()[0] ?? {})[0] ?? 0);
  if ((await one(`SELECT count(*) FROM acked WHERE k NOT IN (SELECT k FROM ${CHANGES} WHERE action <> 'add')`)) > 0) return 'no';
  const expected = await one(`SELECT count(*) FROM ${replaced} WHERE k IN (SELECT k FROM acked)`);
  const deleted = await one(`DELETE FROM snapshot WHERE rowid IN (SELECT r FROM ${replaced} WHERE k IN (SELECT k FROM acked))`);
  return deleted === expected ? 'done' : 'moved';
}

/**
 * Replays `doubt_log` over `in_doubt`, with the same outcome as applying each write's events in order:
 * a confirmation removes the key; a mark adds it (its payload, run and time), or makes it `sticky` when it
 * is already in doubt (payload kept when the new one is null); a rejection removes it unless sticky. Per
 * key only the events after its last confirmation matter (before it the key was absent). Among them a mark
 * finds the key in doubt iff the event before it was a mark (or it is the first and `in_doubt` held the
 * key): from the first such mark on the key is sticky. Otherwise the last event decides (mark: in doubt,
 * rejection: not). The payload is the last non-null one since the key last entered (the last mark that
 * found it absent before it turned sticky), else the one `in_doubt` held. Checked against the rules
 * applied write by write in test/doubt-log.test.ts.
 */
async function foldDoubtLog(conn: DuckDBConnection): Promise<void> {
  const M = DOUBT_MARKED;
  // Most keys end confirmed (their last event): whatever came before, they leave `in_doubt`. One hash
  // aggregate finds them, so only the few others (in flight at a kill, rejected, unconfirmed) are replayed
  // in order; sorting every event of a 10M-row first sync would take longer than the run's writes.
  await conn.run(`CREATE OR REPLACE TEMP TABLE doubt_keys AS
    SELECT k, max(i) = max(i) FILTER (WHERE ev = ${DOUBT_CONFIRMED}) AS done FROM (SELECT rowid AS i, k, ev FROM doubt_log) GROUP BY k`);
  await conn.run(`DELETE FROM in_doubt WHERE k IN (SELECT k FROM doubt_keys WHERE done)`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE doubt_fold AS
    WITH e AS (SELECT rowid AS i, * FROM doubt_log WHERE k IN (SELECT k FROM doubt_keys WHERE done IS NOT TRUE)),
    keys AS (SELECT k, max(i) FILTER (WHERE ev = ${DOUBT_CONFIRMED}) AS c FROM e GROUP BY k),
    s0 AS (
      SELECT keys.k, keys.c, keys.c IS NULL AND d.k IS NOT NULL AS was, CASE WHEN keys.c IS NULL THEN d.payload END AS was_payload,
             d.run_id AS was_run, d.since AS was_since, keys.c IS NULL AND coalesce(d.sticky, FALSE) AS was_sticky
        FROM keys LEFT JOIN in_doubt AS d USING (k)),
    tail AS (
      SELECT e.i, e.k, e.ev, e.payload, e.run_id, e.since, s0.was, s0.was_sticky,
             lag(e.ev) OVER (PARTITION BY e.k ORDER BY e.i) AS prev
        FROM e JOIN s0 USING (k) WHERE s0.c IS NULL OR e.i > s0.c),
    marks AS (SELECT *, ev = ${M} AND (prev = ${M} OR (prev IS NULL AND was)) AS found_present FROM tail),
    per AS (
      SELECT k, min(i) FILTER (WHERE found_present) AS sticky_from, arg_max(ev, i) AS last_ev,
             arg_max(run_id, i) FILTER (WHERE ev = ${M}) AS run_id, max(since) FILTER (WHERE ev = ${M}) AS since
        FROM marks GROUP BY k),
    starts AS (
      SELECT m.k, max(m.i) FILTER (WHERE m.ev = ${M} AND NOT m.found_present AND NOT m.was_sticky AND (p.sticky_from IS NULL OR m.i < p.sticky_from)) AS start
        FROM marks AS m JOIN per AS p USING (k) GROUP BY m.k),
    pay AS (
      SELECT m.k, arg_max(m.payload, m.i) FILTER (WHERE m.ev = ${M} AND m.payload IS NOT NULL AND (st.start IS NULL OR m.i >= st.start)) AS payload
        FROM marks AS m JOIN starts AS st USING (k) GROUP BY m.k)
    SELECT s0.k, s0.was_sticky OR per.sticky_from IS NOT NULL AS sticky,
           s0.was_sticky OR per.sticky_from IS NOT NULL OR per.last_ev = ${M} OR (per.last_ev IS NULL AND s0.was) AS present,
           CASE WHEN st.start IS NOT NULL THEN pay.payload ELSE coalesce(pay.payload, s0.was_payload) END AS payload,
           coalesce(per.run_id, s0.was_run) AS run_id, coalesce(per.since, s0.was_since) AS since
      FROM s0 LEFT JOIN per USING (k) LEFT JOIN starts AS st USING (k) LEFT JOIN pay USING (k)`);
  await conn.run(`DELETE FROM in_doubt WHERE k IN (SELECT k FROM doubt_fold)`);
  await conn.run(`INSERT INTO in_doubt SELECT k, payload, run_id, since, sticky FROM doubt_fold WHERE present`);
  await conn.run(`DROP TABLE temp.doubt_fold`);
  await conn.run(`DROP TABLE temp.doubt_keys`);
  await conn.run(`DELETE FROM doubt_log`);
}

/**
 * Ledgers written before the snapshot lost its PRIMARY KEY (see SCHEMA) are copied once into the new
 * table; DuckDB cannot drop a primary key in place.
 */
async function migrateSnapshotKey(conn: DuckDBConnection): Promise<void> {
  const r = await conn.runAndReadAll(
    `SELECT count(*) AS n FROM duckdb_constraints() WHERE table_name = 'snapshot' AND schema_name = 'main' AND constraint_type = 'PRIMARY KEY'`,
  );
  if (Number(r.getRowObjectsJson()[0]!.n) === 0) return;
  await conn.run('BEGIN TRANSACTION');
  try {
    await conn.run(
      `CREATE TABLE snapshot_v2 (k VARCHAR NOT NULL, h UHUGEINT NOT NULL, payload VARCHAR NOT NULL, run_id VARCHAR, synced_at TIMESTAMP, f UBIGINT)`,
    );
    await conn.run(`INSERT INTO snapshot_v2 SELECT k, h, payload, run_id, synced_at, f FROM snapshot`);
    await conn.run(`DROP TABLE snapshot`);
    await conn.run(`ALTER TABLE snapshot_v2 RENAME TO snapshot`);
    await conn.run('COMMIT');
  } catch (e) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw new SyncError('ledger_failed', `cannot migrate the ledger's snapshot: ${(e as Error).message}`, { cause: e });
  }
}

export function ledgerExists(path: string): boolean {
  return path !== ':memory:' && existsSync(path);
}

/**
 * Ledgers written before the row hash became a 16-byte number held md5 hex text; the same digest converts
 * exactly (no rehash, no resend).
 */
async function migrateSnapshotHash(conn: DuckDBConnection): Promise<void> {
  const r = await conn.runAndReadAll(
    `SELECT data_type FROM information_schema.columns WHERE table_name = 'snapshot' AND column_name = 'h' AND table_schema = 'main'`,
  );
  const type = String((r.getRowObjectsJson()[0] as { data_type?: string } | undefined)?.data_type ?? '');
  if (type === 'VARCHAR') await conn.run(`ALTER TABLE snapshot ALTER h TYPE UHUGEINT USING ${HEX_TO_ROW_HASH}(h)`);
}

/** A `runs` row (timestamps as text, counts/phases/error as JSON text) as a run record; shared by ledgers. */
export function runRecordFromRow(r: Record<string, unknown>): RunRecord {
  return {
    runId: String(r.run_id),
    sync: String(r.sync),
    startedAt: String(r.started_at),
    finishedAt: r.finished_at == null ? null : String(r.finished_at),
    status: String(r.status),
    counts: JSON.parse(String(r.counts ?? '{}')),
    phases: JSON.parse(String(r.phases ?? '[]')),
    requests: Number(r.requests ?? 0),
    error: r.error == null ? null : JSON.parse(String(r.error)),
  };
}
