export { postgresSource, postgresSourceOptionsSchema, type PostgresSourceOptions } from './postgres-source.js';
export { columnMapping, unknownTypeOids, SESSION_SETTINGS, type ColumnMapping, type PgTypeInfo } from './postgres-types.js';
