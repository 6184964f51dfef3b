export { duckdbSource, duckdbSourceOptionsSchema, type DuckdbSourceOptions } from './duckdb-source.js';
