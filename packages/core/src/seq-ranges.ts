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
 * Splits `items` by their numbers (`seqOf`): the runs of at least `minRun` consecutive numbers among them
 * (sorted, merged; a ledger write copies those rows from the staged `changes` table by SQL), and the items
 * left (no number, or in a shorter run: cheaper appended from their values than copied by a statement).
 * @example splitRuns([1, 2, 3, 9], (s) => s, 2) // { runs: [[1, 3]], rest: [9] }
 */
export function splitRuns<T>(items: T[], seqOf: (item: T) => number | undefined, minRun: number): { runs: [number, number][]; rest: T[] } {
  const numbered: number[] = [];
  for (const it of items) {
    const s = seqOf(it);
    if (s !== undefined) numbered.push(s);
  }
  const runs = seqRanges(numbered).filter(([a, b]) => b - a + 1 >= minRun);
  if (runs.length === 0) return { runs, rest: items };
  const inRun = (s: number): boolean => {
    let lo = 0;
    let hi = runs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [a, b] = runs[mid]!;
      if (s < a) hi = mid - 1;
      else if (s > b) lo = mid + 1;
      else return true;
    }
    return false;
  };
  return {
    runs,
    rest: items.filter((it) => {
      const s = seqOf(it);
      return s === undefined || !inRun(s);
    }),
  };
}

/**
 * The SQL condition `column` lies in one of `ranges` (sorted, as `seqRanges` returns them; integers only: the
 * numbers are written into the SQL). DuckDB prunes the scan of a table stored in `seq` order by a single
 * `BETWEEN`, not by an `OR` of them, so several ranges are also bounded by their first and last number: only
 * the row groups between them are read.
 * @example seqRangesSql('seq', [[1, 3], [7, 7]]) // '(seq BETWEEN 1 AND 7 AND (seq BETWEEN 1 AND 3 OR seq BETWEEN 7 AND 7))'
 */
export function seqRangesSql(column: string, ranges: [number, number][]): string {
  if (ranges.length === 0) return 'FALSE';
  for (const [a, b] of ranges)
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b)) throw new Error(`seq range ${a}..${b}: not an integer`);
  const each = ranges.map(([a, b]) => `${column} BETWEEN ${a} AND ${b}`);
  if (each.length === 1) return `(${each[0]})`;
  return `(${column} BETWEEN ${ranges[0]![0]} AND ${ranges[ranges.length - 1]![1]} AND (${each.join(' OR ')}))`;
}
