import { redact } from './redact.js';

/**
 * A value as JSON text for messages and plans: anything that looks like a key redacted (see `redact`), then
 * cut at `max` characters as `"abc…(+812 chars)"`, so an invalid-row line never leaks a secret or floods a log.
 * @example shortValue('+1-555') // '"+1-555"'
 */
export function shortValue(value: unknown, max = 40): string {
  let text: string;
  try {
    text = JSON.stringify(value ?? null) ?? String(value);
  } catch {
    text = String(value);
  }
  text = redact(text);
  if (text.length <= max) return text;
  // Cut on code points, not UTF-16 units, so an emoji is never split in half.
  const points = Array.from(text);
  return points.length <= max ? text : `${points.slice(0, max).join('')}…(+${points.length - max} chars)`;
}
