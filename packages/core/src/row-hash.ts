import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * The row hash is the MD5 of `configHash || payload JSON`, read as a 128-bit unsigned integer with the
 * digest's bytes in little-endian order (byte 0 is the least significant). That is exactly what DuckDB's
 * `md5_number` returns today (https://duckdb.org/docs/stable/sql/functions/text#md5_numberstring), and it
 * is 2× cheaper than hex text in the diff join (16 fixed bytes instead of a 32-byte string per row).
 * Because the definition is pinned to MD5 and a byte order, not to the engine, `rowHashSql` checks a test
 * vector on every ledger open and, if a future DuckDB ever changed `md5_number`, computes the same number
 * from `md5()` text instead, so an engine upgrade never causes a resend.
 */
export const ROW_HASH_TEST_VECTOR = { text: 'abc', hex: '727fe1287d3f96d6b04fd23c98500190' } as const;

/** Name of the temp macro (per connection) that turns an `md5()` hex digest into the row-hash number. */
export const HEX_TO_ROW_HASH = 'syncline_md5_hex_to_h';

/**
 * SQL that turns an MD5 hex digest (byte 0 first) into the little-endian 128-bit number: bytes 15..8 form
 * the upper 64 bits, bytes 7..0 the lower 64 bits, each parsed as big-endian hex.
 */
function hexToNumberSql(x: string): string {
  const bytes = (from: number, to: number): string =>
    Array.from({ length: from - to + 1 }, (_, i) => `substr(${x}, ${2 * (from - i) + 1}, 2)`).join(' || ');
  return `((('0x' || ${bytes(15, 8)})::UBIGINT::UHUGEINT << 64) | ('0x' || ${bytes(7, 0)})::UBIGINT::UHUGEINT)`;
}

/**
 * Prepares a connection for row hashing and returns the SQL builder: `md5_number(text)` when the engine
 * matches the pinned definition, else the portable `md5()`-based form. Set `portable` to force the latter
 * (tests compare both).
 * @example const hash = await rowHashSql(conn); await conn.run(`SELECT ${hash("'abc'")}`)
 */
export async function rowHashSql(conn: DuckDBConnection, opts: { portable?: boolean } = {}): Promise<(text: string) => string> {
  await conn.run(`CREATE OR REPLACE TEMP MACRO ${HEX_TO_ROW_HASH}(x) AS ${hexToNumberSql('x')}`);
  const portable = (text: string): string => `${HEX_TO_ROW_HASH}(md5(${text}))`;
  if (opts.portable) return portable;
  const r = await conn.runAndReadAll(`SELECT lower(to_hex(md5_number('${ROW_HASH_TEST_VECTOR.text}'))) AS h`);
  const native = String((r.getRowObjectsJson()[0] as { h: string }).h).padStart(32, '0');
  return native === ROW_HASH_TEST_VECTOR.hex ? (text: string) => `md5_number(${text})` : portable;
}

/** The 32-hex-digit text of a row hash column, as JavaScript sees it (`Change.hash`). */
export const rowHashToHexSql = (column: string): string => `lpad(lower(to_hex(${column})), 32, '0')`;
