import type { DuckDBConnection } from '@duckdb/node-api';
import type { Column, HttpExchange } from './contract.js';
import type { LedgerWrite, RowResult, RunRecord, StagedChange } from './duckdb-ledger.js';
import type { KeyHealth, StageOptions } from './duckdb-diff.js';
import type { DeleteWindow } from './delete-window.js';

/**
 * What `runSync` needs of a ledger: the snapshot of what the destination confirmed, the diff against it,
 * crash-safe commits and the run records. Core's DuckDB ledger (`openDuckdbLedger`) is one; a warehouse
 * ledger (the snapshot and the diff inside the source's own database, e.g. `@syncline/source-postgres`'s
 * `openPostgresLedger`) is another. Every implementation must pass `ledgerConformance` from
 * `@syncline/test-utils`.
 */
export interface Ledger {
  /** Default commit window of `runSync` for runs on this ledger. */
  readonly commitWindow: { ms?: number | undefined; rows?: number | undefined };
  /**
   * The ledger's DuckDB connection, where a source `attach`es or a source's rows stream in (local-ledger
   * mode). Absent for a warehouse ledger: it runs the model itself (`runsModel`).
   */
  readonly connection?: DuckDBConnection;
  /**
   * True when the model runs in the ledger's own engine (a warehouse ledger): `describe` and `stage` take the
   * model SQL as the source's dialect, and the source's `read`/`attach` are not used.
   */
  readonly runsModel?: boolean;
  meta(key: string): Promise<string | null>;
  setMeta(key: string, value: string): Promise<void>;
  /** The model's columns (for a warehouse ledger: in its own engine, errors with the model's line/column). */
  describe(modelSql: string): Promise<Column[]>;
  /**
   * SQL of a model row's fingerprint (see `fingerprintSql`), for a ledger whose stage skips the payload of
   * rows whose fingerprint matches the snapshot's; absent when the ledger compares payload hashes only.
   */
  fingerprintSql?(fields: Record<string, string>, columns: Column[], salt: string): string;
  /** Runs the model once and joins it with the snapshot; returns the model's row count (see `stageModel`). */
  stage(opts: StageOptions): Promise<number>;
  keyHealth(opts?: { signal?: AbortSignal }): Promise<KeyHealth>;
  snapshotSize(): Promise<number>;
  /** Snapshot keys plus keys in doubt not in it (what the destination may hold). */
  knownSize(): Promise<number>;
  /**
   * Numbers the staged changes. `validSql`: `Destination.validSql` over `stagedRowSql`, for `StagedChange.ok`
   * (a ledger may ignore it: its changes are then validated in JavaScript).
   */
  diff(opts?: {
    before?: boolean;
    only?: 'all' | 'unsure';
    validSql?: string | undefined;
  }): Promise<{ add: number; change: number; remove: number }>;
  befores(keys: string[]): Promise<Map<string, string>>;
  rowNumbers(o: { modelSql: string; key: string; keys: string[]; signal?: AbortSignal | undefined }): Promise<Map<string, number>>;
  keepChanges(count: number): Promise<void>;
  readChanges(fromSeq: number, toSeq: number): Promise<StagedChange[]>;
  summary(): Promise<{ add: number; change: number; remove: number; unsure: number }>;
  digests(): Promise<{ model: string; ledger: string }>;
  exportChanges(path: string): Promise<void>;
  previewChanges(limit: number): Promise<StagedChange[]>;
  markInDoubt(runId: string, changes: { key: string; payload: string | null }[]): Promise<void>;
  inDoubtCount(): Promise<number>;
  /** One transaction of acknowledgements, settled keys, marks, row results and exchanges. */
  write(runId: string, batch: LedgerWrite): Promise<void>;
  /** Folds confirmed changes logged during a run into the snapshot (0 when the ledger writes in place). */
  fold(): Promise<number>;
  saveRun(run: RunRecord): Promise<void>;
  runs(limit?: number): Promise<RunRecord[]>;
  run(runId: string): Promise<RunRecord | null>;
  rowResults(filter: { key?: string; runId?: string; status?: string; limit?: number }): Promise<(RowResult & { runId: string })[]>;
  exchanges(runId: string, limit?: number): Promise<HttpExchange[]>;
  snapshotRow(key: string): Promise<{ hash: string; payload: string } | null>;
  /** Closes records of runs that never finished (killed) as `crashed`; returns their ids (see crashed-runs.ts). */
  closeCrashedRuns(): Promise<string[]>;
  /** The mass-delete guard's rolling window (see delete-window.ts). */
  deleteWindow(snapshotNow: number): Promise<DeleteWindow>;
  /** Records a run's confirmed deletions for the rolling window. */
  recordDeletes(runId: string, snapshotBefore: number): Promise<void>;
  pruneHistory(): Promise<number>;
  /**
   * A run was stopped (Ctrl-C): leave slow upkeep (folding logs, checkpointing the file at close) to the next
   * open, so the process exits quickly. What was committed stays committed. Resolves to false when there is
   * no next open to leave it to (an in-memory ledger): the run then folds as usual.
   */
  deferMaintenance?(): Promise<boolean>;
  sizeBytes(): number;
  reset(): Promise<void>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
