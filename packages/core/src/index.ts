export type * from './contract.js';
export { SyncError, isSyncError, type SyncErrorCode } from './sync-error.js';
export { redact, redactHeaders } from './redact.js';
export { shortValue } from './short-value.js';
export { createRateLimiter, sharedRateLimiter, sleep, type RateLimiter, type RateLimiterOptions } from './rate-limiter.js';
export { backoffDelay, retryAfterMs, isRetryableStatus, type BackoffOptions } from './retry-policy.js';
export {
  syncBlockSchema,
  syncBlockFor,
  syncSpecFieldsSchema,
  toSyncSpec,
  resolveTarget,
  sendsRemovals,
  type SyncBlock,
  type SyncSpec,
} from './sync-spec.js';
export { payloadProjection, rowSql, stagedRowSql, valueExpr, ident, literal, closest } from './projection.js';
export { seqRanges, seqRangesSql, splitRuns } from './seq-ranges.js';
export { diffFields, type FieldDiff } from './field-diff.js';
export { sqlErrorPosition } from './sql-error-position.js';
export {
  openDuckdbLedger,
  runRecordFromRow,
  ledgerExists,
  type DuckdbLedger,
  type DuckdbLedgerOptions,
  type RunRecord,
  type RowResult,
  type StagedChange,
} from './duckdb-ledger.js';
export {
  runSync,
  configHash,
  specDigest,
  type PlanDigests,
  newRunId,
  type RunSyncOptions,
  type RunResult,
  type RunEvent,
  type RunCounts,
  type InvalidRow,
  type EndpointEstimate,
  type PreviewChange,
  type PhaseName,
} from './run-sync.js';
export { remoteBefore, type RemoteRow } from './remote-before.js';
export { memoryDestination, type MemoryDestination, type MemoryFaults } from './memory-destination.js';
export type { Ledger } from './ledger.js';
export type { LedgerWrite } from './duckdb-ledger.js';
export type { DeleteWindow } from './delete-window.js';
export { RUNNING, CRASHED } from './crashed-runs.js';
export { type KeyHealth, type StageOptions, type StageStats } from './duckdb-diff.js';
export { checkReadStatement, readStatementProblem, type ReadStatementProblem } from './read-statement.js';
export { loadModel, LOCAL_MODEL_SQL, LOCAL_MODEL_TABLE, LOCAL_COLUMN_TYPES } from './load-model.js';
export { LEDGER_TABLES, inspectLedgerFile, ledgerOpenError, damagedLedgerError, recoverySteps, ledgerFileBytes } from './ledger-file.js';
export {
  verifyLedger,
  backupLedger,
  restoreLedger,
  pruneLedgerHistory,
  type LedgerVerifyReport,
  type LedgerRetention,
} from './ledger-maintenance.js';
export { chunkCounts, summarizeDryRun } from './dry-run-summary.js';
export { ROW_HASH_TEST_VECTOR } from './row-hash.js';
export { fingerprintSql } from './row-fingerprint.js';
export { createOperationPool, type OperationPool } from './operation-pool.js';
export { createLedgerWriter, type LedgerWriter, type LedgerWriterOptions, type LedgerWriteTarget } from './ledger-writer.js';
