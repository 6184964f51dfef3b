import { SyncError } from '@syncline/core';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Parses a duration option such as `30m`, `2h`, `90s`, `1h30m` or `45` (seconds) into milliseconds; any
 * other text is a usage error naming the option. Hand-written rather than the `ms` package: `ms` has no
 * bundled types and reads `1h30m` as undefined; the whole grammar is one regular expression.
 * @example parseDuration('1h30m', '--max-duration') // 5_400_000
 */
export function parseDuration(text: string, option: string): number {
  const parts = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d)?)+$/.test(text.trim()) ? [...text.trim().matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)?/g)] : [];
  const ms = parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNIT_MS[(unit ?? 's') as keyof typeof UNIT_MS], 0);
  if (!(ms > 0))
    throw new SyncError('invalid_option', `${option} ${JSON.stringify(text)}: expected a duration such as 30m, 2h, 90s or 1h30m`);
  return ms;
}

/** A positive whole number option (e.g. `--max-rows 50000`); anything else is a usage error naming it. */
export function parseCount(text: string, option: string): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!(n > 0) || !Number.isSafeInteger(n))
    throw new SyncError('invalid_option', `${option} ${JSON.stringify(text)}: expected a whole number above 0`);
  return n;
}
