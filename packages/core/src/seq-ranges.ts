/**
 * Sorted, merged runs of consecutive staged-change numbers (`seq`), e.g. [3, 1, 2, 7] → [[1, 3], [7, 7]].
 * A ledger write names the rows it copies from the staged `changes` table by these runs: one bulk job's
 * rows are usually one run, so a write of 10,000 rows is a few ranges instead of 10,000 values passed in.
 * @example seqRanges([3, 1, 2, 7]) // [[1, 3], [7, 7]]
 */
export function seqRanges(seqs: Iterable<number>): [number, number][] {
  const sorted = Float64Array.from(seqs).sort();
  const out: [number, number][] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s <= last[1] + 1) last[1] = Math.max(last[1], s);
    else out.push([s, s]);
  }
  return out;
}

/**
 * The SQL condition `column` lies in one of `ranges` (integers only: the numbers are written into the
 * SQL). Each range is a `BETWEEN`, which DuckDB pushes into the scan of a table stored in `seq` order, so
 * only the row groups holding those rows are read.
 * @example seqRangesSql('seq', [[1, 3], [7, 7]]) // '(seq BETWEEN 1 AND 3 OR seq BETWEEN 7 AND 7)'
 */
export function seqRangesSql(column: string, ranges: [number, number][]): string {
  if (ranges.length === 0) return 'FALSE';
  for (const [a, b] of ranges)
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b)) throw new Error(`seq range ${a}..${b}: not an integer`);
  return `(${ranges.map(([a, b]) => `${column} BETWEEN ${a} AND ${b}`).join(' OR ')})`;
}
