import type { Context } from 'hono';
import type { AppEnv } from './app-types.js';
import { isPlainObject, type JsonObject } from './deep-merge.js';
import { KnockHttpError, required, type FieldError } from './knock-http-error.js';

/**
 * Reads the body as JSON once (the hot path: one `JSON.parse`, no copies). Empty body → `undefined`;
 * invalid JSON → 400 (UNCONFIRMED status, reference "Emulator notes").
 * @example const body = await readJson(c)
 */
export async function readJson(c: Context<AppEnv>): Promise<{ value: unknown; bytes: number; text: string }> {
  const text = await c.req.text();
  if (text.length === 0) return { value: undefined, bytes: 0, text };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw KnockHttpError.badJson();
  }
  c.set('body', value);
  return { value, bytes: text.length, text };
}

/**
 * Reads a JSON object body; a missing body counts as `{}` only when `emptyOk`.
 * @example const { value } = await readObject(c, true)
 */
export async function readObject(c: Context<AppEnv>, emptyOk: boolean): Promise<{ value: JsonObject; bytes: number; text: string }> {
  const { value, bytes, text } = await readJson(c);
  if (value === undefined && emptyOk) return { value: {}, bytes: 2, text: '{}' };
  if (!isPlainObject(value)) {
    throw KnockHttpError.invalid([
      value === undefined ? required('body') : { field: 'body', message: 'must be an object', type: 'object' },
    ]);
  }
  return { value, bytes, text };
}

/** Knock caps bulk calls and audience add/remove at 1,000 items (reference §1.7). */
export const MAX_BATCH = 1000;

/**
 * Checks a required array field: present, an array, at most 1,000 items.
 * @example const users = requireArray(body, 'users')
 */
export function requireArray(body: JsonObject, field: string): unknown[] {
  const value = body[field];
  if (value === undefined || value === null) throw KnockHttpError.invalid([required(field)]);
  if (!Array.isArray(value)) throw KnockHttpError.invalid([{ field, message: 'must be an array', type: 'array' }]);
  if (value.length > MAX_BATCH) throw KnockHttpError.invalid([tooMany(field)]);
  return value;
}

/** The field error for a batch over 1,000 items. */
export function tooMany(field: string): FieldError {
  return { field, message: 'should have at most 1000 item(s)', type: 'length' };
}

/**
 * Checks an array of id strings (`user_ids`, `object_ids`, `tenant_ids`).
 * @example const ids = requireIdList(body.user_ids, 'user_ids')
 */
export function requireIdList(value: unknown, field: string): string[] {
  if (value === undefined || value === null) throw KnockHttpError.invalid([required(field)]);
  if (!Array.isArray(value)) throw KnockHttpError.invalid([{ field, message: 'must be an array', type: 'array' }]);
  if (value.length > MAX_BATCH) throw KnockHttpError.invalid([tooMany(field)]);
  const errors: FieldError[] = [];
  value.forEach((id, i) => {
    if (typeof id !== 'string' || id === '')
      errors.push(
        id === '' || id == null ? required(`${field}[${i}]`) : { field: `${field}[${i}]`, message: 'must be a string', type: 'string' },
      );
  });
  if (errors.length) throw KnockHttpError.invalid(errors);
  return value as string[];
}

/** Bracketed query arrays (`tenant_ids[]=a&tenant_ids[]=b`, reference §1.3); the plain name is accepted too. */
export function queryArray(c: Context<AppEnv>, name: string): string[] | undefined {
  const bracketed = c.req.queries(`${name}[]`);
  const plain = c.req.queries(name);
  if (!bracketed && !plain) return undefined;
  return [...(bracketed ?? []), ...(plain ?? [])];
}

/** The absolute base URL of this request, for `progress_path`. */
export function baseUrl(c: Context<AppEnv>): string {
  const url = new URL(c.req.url);
  return `${url.protocol}//${url.host}`;
}
