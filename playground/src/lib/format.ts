/** `48210` → `48,210`. */
export const count = (n: number): string => n.toLocaleString('en-US');

/** A field value as the UI shows it: `NULL` apart from `""`, objects as JSON. */
export const showValue = (v: unknown): string =>
  v === null || v === undefined ? 'NULL' : v === '' ? '""' : typeof v === 'object' ? JSON.stringify(v) : String(v);

/** `130` → `2 min 10 s`. */
export function duration(seconds: number): string {
  if (seconds < 1) return '< 1 s';
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m ? `${m} min${s ? ` ${s} s` : ''}` : `${s} s`;
}
