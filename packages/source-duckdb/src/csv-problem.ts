import { openSync, readSync, closeSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { literal } from '@syncline/core';

/** The CSV options a table was given (`{ file, delim, quote, header, encoding }`). */
export interface CsvOptions {
  delim?: string | undefined;
  quote?: string | undefined;
  header?: boolean | undefined;
  encoding?: 'utf-8' | 'utf-16' | 'latin-1' | undefined;
}

/** Why a CSV file cannot be read as configured, and the table options that would read it. */
export interface CsvProblem {
  reason: 'empty' | 'encoding' | 'delimiter';
  message: string;
  /** Options to add to the table (`{ file, ...options }`); none for an empty file. */
  options?: CsvOptions;
}

const HEAD_BYTES = 64 * 1024;
const DELIMS = [';', '\t', '|', ','];
const show = (d: string): string => (d === '\t' ? 'tab' : JSON.stringify(d));

/**
 * Looks at the head of a CSV file for the mistakes that otherwise surface far away (an empty file as "key
 * column not in model", a `;` file as one column named `id;email;name`, UTF-16 as a sniffing failure):
 * an empty file, a UTF-16 or non-UTF-8 encoding, and a delimiter other than the configured one (confirmed
 * with DuckDB's `sniff_csv`). Reads at most 64 KiB; undefined when nothing looks wrong.
 */
export async function csvProblem(
  connection: DuckDBConnection,
  path: string,
  given: CsvOptions & { defaultDelim: string },
): Promise<CsvProblem | undefined> {
  const head = readHead(path);
  if (head.length === 0 || head.toString('latin1').trim() === '') return { reason: 'empty', message: 'file is empty' };
  let text: string;
  const utf16 = utf16Of(head);
  if (utf16) {
    if (given.encoding !== 'utf-16')
      return {
        reason: 'encoding',
        message: `the file is UTF-16 (${utf16}), read as ${given.encoding ?? 'utf-8'}`,
        options: { encoding: 'utf-16' },
      };
    text = new TextDecoder(utf16 === 'big-endian' ? 'utf-16be' : 'utf-16le').decode(head);
  } else if (given.encoding === undefined || given.encoding === 'utf-8') {
    try {
      // The cut at 64 KiB may split a character: `stream` keeps an incomplete tail from counting as invalid.
      text = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    } catch {
      return { reason: 'encoding', message: 'the file is not valid UTF-8 (Latin-1 or Windows-1252?)', options: { encoding: 'latin-1' } };
    }
  } else text = head.toString('latin1');
  if (given.delim !== undefined) return undefined;
  const first = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  if (first.includes(given.defaultDelim)) return undefined;
  if (!DELIMS.some((d) => d !== given.defaultDelim && first.includes(d))) return undefined;
  // Confirm with DuckDB's sniffer, which weighs every candidate over the first rows.
  try {
    const r = await connection.runAndReadAll(
      `SELECT Delimiter AS delim, Quote AS quote, HasHeader AS header FROM sniff_csv(${literal(path)}${given.encoding ? `, encoding=${literal(given.encoding)}` : ''})`,
    );
    const row = r.getRowObjectsJson()[0] as { delim?: string; quote?: string; header?: boolean } | undefined;
    if (!row?.delim || row.delim === given.defaultDelim) return undefined;
    const options: CsvOptions = { delim: row.delim };
    if (row.quote && row.quote !== '(empty)' && row.quote !== '"') options.quote = row.quote;
    if (row.header === false && given.header !== false) options.header = false;
    return {
      reason: 'delimiter',
      message: `the file looks ${show(row.delim)}-delimited (detected: delim ${show(row.delim)}, header ${row.header ? 'yes' : 'no'}), read with delim ${show(given.defaultDelim)}`,
      options,
    };
  } catch {
    return undefined;
  }
}

function readHead(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    return buf.subarray(0, readSync(fd, buf, 0, HEAD_BYTES, 0));
  } finally {
    closeSync(fd);
  }
}

/** UTF-16 by its byte-order mark, or by NUL bytes in every other position of ASCII-heavy text. */
function utf16Of(head: Buffer): 'little-endian' | 'big-endian' | undefined {
  if (head[0] === 0xff && head[1] === 0xfe) return 'little-endian';
  if (head[0] === 0xfe && head[1] === 0xff) return 'big-endian';
  const n = Math.min(head.length, 512) & ~1;
  if (n < 4) return undefined;
  let even = 0;
  let odd = 0;
  for (let i = 0; i < n; i += 2) {
    if (head[i] === 0) even++;
    if (head[i + 1] === 0) odd++;
  }
  if (odd > n / 4 && even === 0) return 'little-endian';
  if (even > n / 4 && odd === 0) return 'big-endian';
  return undefined;
}
