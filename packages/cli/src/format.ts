import pc from 'picocolors';
import { shortValue } from '@syncline/core';

/** 48210 → "48,210" */
export const n = (x: number): string => x.toLocaleString('en-US');
export const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

/** JSON-quotes a value, redacts anything key-like and cuts it at 60 characters: `"abc…(+812 chars)"`. */
export const value = (v: unknown): string => shortValue(v, 60);

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
