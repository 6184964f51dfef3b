import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { SyncError } from './sync-error.js';

/** Tables of the ledger (persistent and per-connection temp), which a model may never name. */
export const LEDGER_TABLES: readonly string[] = [
  'meta',
  'snapshot',
  'in_doubt',
  'runs',
  'row_results',
  'exchanges',
  'delete_log',
  'acked',
  'ack',
  'ackdel',
  'settled',
  'doubt',
  'doubt_log',
  'doubt_fold',
  'doubt_keys',
  'changes',
  'staged',
  'dup_keys',
];

/** DuckDB's storage header layout: a main header, then two database headers, each one 4 KiB block. */
const HEADER_BLOCK = 4096;
const HEADERS = [0, HEADER_BLOCK, 2 * HEADER_BLOCK];
const MAGIC = 'DUCK';
const CHECKSUM_MUL = 0xbf58476d1ce4e5b9n;
const U64 = (1n << 64n) - 1n;

/**
 * DuckDB's block checksum (src/common/checksum.cpp): 5381 XOR-folded with each little-endian 64-bit word
 * times a constant. Header blocks are 4,088 bytes after the stored checksum, a whole number of words.
 */
function blockChecksum(data: Buffer): bigint {
  let sum = 5381n;
  for (let o = 0; o + 8 <= data.length; o += 8) sum ^= (data.readBigUInt64LE(o) * CHECKSUM_MUL) & U64;
  return sum;
}

/**
 * Checks a ledger file's storage headers the way DuckDB does on open: the `DUCK` magic and the checksums
 * of the main and both database headers. Returns why the file is damaged, or null when the headers are
 * sound. This is evidence about the file itself, so an open error is classified by what the file is,
 * never by words in DuckDB's message (a checksum error mentions a "block", which once read as "lock").
 * @example inspectLedgerFile('.syncline/users.duckdb') // null, or 'the database header at byte 4096 fails its checksum'
 */
export function inspectLedgerFile(path: string): string | null {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return null; // missing: not damaged (a first run creates it)
  }
  if (size === 0) return null; // DuckDB initialises an empty file
  if (size < HEADERS.length * HEADER_BLOCK)
    return `the file is ${size} bytes, shorter than DuckDB's ${HEADERS.length * HEADER_BLOCK}-byte header`;
  const buf = Buffer.alloc(HEADERS.length * HEADER_BLOCK);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, buf.length, 0);
  } finally {
    closeSync(fd);
  }
  if (buf.toString('latin1', 8, 12) !== MAGIC) return 'it is not a DuckDB database (no DUCK signature at byte 8)';
  for (const at of HEADERS) {
    const block = buf.subarray(at, at + HEADER_BLOCK);
    if (block.readBigUInt64LE(0) !== blockChecksum(block.subarray(8)))
      return `the ${at === 0 ? 'main' : 'database'} header at byte ${at} fails its checksum`;
  }
  return null;
}

/**
 * True when a DuckDB error says stored data could not be read back: its exception type (DuckDB's messages
 * start with it) is Serialization, or IO with DuckDB's checksum template. Other types (binder, catalog,
 * constraint, lock) are never damage.
 */
export function isStorageFailure(message: string): boolean {
  return /^(IO Error: Corrupt database file: |Serialization Error: )/.test(message);
}

/** Recovery steps for a damaged ledger, shown with the error. */
export function recoverySteps(file: string, config = '<config>'): string {
  return [
    `Recovery: 1) if you have a backup: syncline ledger restore ${config} <backup-file> (the damaged file is kept beside it);`,
    `2) without one: move ${file} (and ${file}.wal) aside and run again; the first run sends every row once more (Knock upserts are idempotent);`,
    `3) afterwards: syncline ledger backup ${config} after good runs.`,
  ].join(' ');
}

/** The error for a damaged ledger file: named, with the reason and recovery steps. */
export function damagedLedgerError(file: string, reason: string, cause?: unknown): SyncError {
  return new SyncError('ledger_damaged', `the ledger file is damaged: ${file} (${reason}). ${recoverySteps(file)}`, {
    details: { file, reason },
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Classifies a failure to open the ledger file `file`. A file whose headers fail DuckDB's own checks is
 * damaged; a sound file that DuckDB refuses with its lock error (the exact message template, anchored) is
 * held by another process; anything else is reported as is.
 */
export function ledgerOpenError(file: string, error: unknown): SyncError {
  const message = String((error as Error)?.message ?? error);
  const damage = inspectLedgerFile(file);
  if (damage) return damagedLedgerError(file, damage, error);
  // The headers are sound but DuckDB's own checksum of a later block failed while opening (its message
  // template, anchored at the exception type) or it could not deserialize its metadata: damage too.
  if (isStorageFailure(message)) return damagedLedgerError(file, message.split('\n')[0]!, error);
  // DuckDB: `IO Error: Could not set lock on file "<path>": Conflicting lock is held in …` (storage/…/file_system).
  if (/^IO Error: Could not set lock on file "[^"]*": Conflicting lock/.test(message))
    return new SyncError('locked', `another run of this sync is in progress (ledger ${file} is locked by another process)`, {
      details: { file },
      cause: error,
    });
  return new SyncError('ledger_failed', `cannot open ledger ${file}: ${message}`, { details: { file }, cause: error });
}

/** The ledger file's size in bytes with its write-ahead log (0 when missing). */
export function ledgerFileBytes(file: string): number {
  let total = 0;
  for (const f of [file, `${file}.wal`])
    try {
      total += statSync(f).size;
    } catch {
      // no such file
    }
  return total;
}
