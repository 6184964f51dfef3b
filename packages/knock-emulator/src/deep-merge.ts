/** A JSON object. */
export type JsonObject = Record<string, unknown>;

/** True for a plain JSON object (not an array, not null). */
export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Deep-merges `source` into `target` in place, the way Knock upserts recipients: only sent keys change,
 * nested objects merge, arrays and scalars replace, and `null` overwrites without removing the key
 * (https://docs.knock.app/concepts/users "Storing user properties"; reference §2.1). With
 * `dropNulls`, a `null` removes the key instead (the UNCONFIRMED alternative).
 * `source` must be owned by the caller (freshly parsed JSON): its sub-objects are adopted, not copied.
 * @example deepMerge({ a: { b: 1 } }, { a: { c: 2 } }) // { a: { b: 1, c: 2 } }
 */
export function deepMerge(target: JsonObject, source: JsonObject, dropNulls = false): JsonObject {
  for (const key in source) {
    if (key === '__proto__') continue;
    const value = source[key];
    if (value === undefined) continue;
    if (value === null && dropNulls) {
      delete target[key];
      continue;
    }
    // An unchanged scalar keeps the stored value (no write; the parsed copy dies young).
    const current = target[key];
    if (value === current) continue;
    if (isPlainObject(value) && isPlainObject(current)) deepMerge(current, value, dropNulls);
    else target[key] = value;
  }
  return target;
}
