import pc from 'picocolors';

// Imported at startup by program.ts: keep this module light (no @syncline/core, which loads DuckDB).

/** 48210 → "48,210" */
export const n = (x: number): string => x.toLocaleString('en-US');
export const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

/** 9,420 s → "2h37m"; 200 → "3m20s"; 41 → "41s"; undefined (not known yet) → "…". */
export function duration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '…';
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/**
 * A URL fit to print: `http://user:sk_live_…@host/` becomes `http://host/`, since a key put in the userinfo
 * would otherwise be shown in headers, plans and errors. Text that is not a URL is returned unchanged.
 */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@\s]*@/, '//');
  }
}

export interface Style {
  color: boolean;
  unicode: boolean;
}

/** Colour only on a TTY, never with NO_COLOR, TERM=dumb or --no-color (ux.md §1). */
export function styleFor(stream: NodeJS.WriteStream, noColor: boolean): Style {
  const tty = Boolean(stream.isTTY);
  const color = tty && !noColor && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
  return { color, unicode: tty && process.env.TERM !== 'dumb' };
}

export function paint(style: Style) {
  const c = pc.createColors(style.color);
  return {
    ...c,
    ok: style.unicode ? '✔' : 'OK',
    arrow: style.unicode ? '→' : '->',
  };
}
