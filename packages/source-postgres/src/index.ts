export { postgresSource, postgresSourceOptionsSchema, type PostgresSourceOptions } from './postgres-source.js';
export { columnMapping, unknownTypeOids, SESSION_SETTINGS, type ColumnMapping, type PgTypeInfo } from './postgres-types.js';
export {
  openPostgresLedger,
  postgresLedgerOptionsSchema,
  lockKey,
  type PostgresLedgerOptions,
  type LedgerTraffic,
} from './postgres-ledger.js';
export {
  payloadSql,
  modelRowSql,
  jsonValueSql,
  payloadKind,
  uuidToRowHash,
  rowHashToUuid,
  type ModelRowSql,
  type PayloadKind,
} from './postgres-payload.js';
