import { knockFieldErrors } from '@syncline/knock-wire';
import type { Context } from 'hono';
import type { z } from 'zod';
import type { AppEnv, RouteContext } from './app-types.js';
import { isPlainObject, type JsonObject } from './deep-merge.js';
import { KnockHttpError, required } from './knock-http-error.js';

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
 * Validates a value with a schema of `@syncline/knock-wire`; throws Knock's 422 `invalid_params` naming
 * each field at fault (`users[3].id`, `can't be blank`/`required`, …) when it does not match.
 * @example checkWire(KNOCK_ENDPOINTS.mergeUser.body, value)
 */
export function checkWire(schema: z.ZodType | undefined, value: unknown): void {
  if (!schema) return;
  const result = schema.safeParse(value);
  if (!result.success) throw KnockHttpError.invalid(knockFieldErrors(result.error, value));
}

/**
 * Reads the JSON body of a route and validates it with the route's body schema (`ctx.endpoint.body`, from
 * `@syncline/knock-wire`). A missing body is read as `{}`, so the 422 names the required field it lacks
 * (`users: can't be blank`); it is accepted only when `emptyOk` and the schema allows `{}`. Only
 * validates: the value returned is the parsed JSON as sent (key order and unknown keys kept).
 * @example const { value } = await readBody(ctx)
 */
export async function readBody(ctx: RouteContext, emptyOk = false): Promise<{ value: JsonObject; bytes: number; text: string }> {
  const { value, bytes, text } = await readJson(ctx.c);
  if (value === undefined) {
    checkWire(ctx.endpoint.body, {});
    if (!emptyOk) throw KnockHttpError.invalid([required('body')]);
    return { value: {}, bytes: 2, text: '{}' };
  }
  checkWire(ctx.endpoint.body, value);
  if (!isPlainObject(value)) throw KnockHttpError.invalid([{ field: 'body', message: 'must be an object', type: 'object' }]);
  return { value, bytes, text };
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
