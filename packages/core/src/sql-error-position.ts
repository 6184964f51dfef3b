/**
 * Where DuckDB says a statement went wrong, as a 1-based line and column of `sql`. DuckDB has no structured
 * position: its message ends with `LINE 2: <the line, maybe cut to "...">` and a caret under the culprit.
 * `firstLine` is the statement's line at which `sql` starts (2 for `DESCRIBE (\n<sql>\n)`).
 * @example sqlErrorPosition('…\nLINE 1: select emial from t\n               ^', 'select emial from t') // { line: 1, column: 8 }
 */
export function sqlErrorPosition(message: string, sql: string, firstLine = 1): { line: number; column: number } | undefined {
  const m = /^(LINE (\d+): )(.*)\n( *)\^/m.exec(message);
  if (!m) return undefined;
  const line = Number(m[2]) - firstLine + 1;
  const text = sql.split('\n')[line - 1];
  if (text === undefined || line < 1) return undefined;
  let shown = m[3]!;
  let caret = m[4]!.length - m[1]!.length;
  // A long line is shown as a window: "...<middle>..."; find the window in the real line.
  let start = 0;
  if (shown.startsWith('...')) {
    shown = shown.slice(3);
    caret -= 3;
    const window = shown.endsWith('...') ? shown.slice(0, -3) : shown;
    start = Math.max(0, text.indexOf(window));
  }
  return { line, column: Math.min(text.length, start + Math.max(0, caret)) + 1 };
}
