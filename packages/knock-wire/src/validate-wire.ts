import type { z } from 'zod';
import type { KnockEndpoint } from './endpoints.js';
import { KnockError } from './knock-error.js';
import { matchEndpoint } from './match-endpoint.js';

/** A request to check: `path` may carry a query string. */
export interface WireRequest {
  method: string;
  path: string;
  /** Query as a string (`a=1&b[]=2`), URLSearchParams, or a record of values. */
  query?: string | URLSearchParams | Record<string, string | string[] | undefined>;
  /** Parsed JSON body; `undefined` = no body. */
  body?: unknown;
}

/** A response to check. */
export interface WireResponse {
  method: string;
  path: string;
  status: number;
  /** Parsed JSON body, raw text for a body that is not JSON, `undefined`/`''` for none. */
  body?: unknown;
}

/**
 * A zod issue path as Knock writes field names: `users[3].id` (knock-api.md §1.5 emulator notes).
 * @example fieldPath(['users', 3, 'id']) // 'users[3].id'
 */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  return out;
}

/** Problems of one value against a schema, each `where.field: message` (empty = valid). */
export function schemaProblems(schema: z.ZodType, value: unknown, where: string): string[] {
  const result = schema.safeParse(value);
  if (result.success) return [];
  return result.error.issues.map((issue) => {
    const field = fieldPath(issue.path);
    return `${where}${field === '' ? '' : field.startsWith('[') ? field : `.${field}`}: ${issue.message}`;
  });
}

/**
 * The query parameters of a request, in order: those in `path` after `?`, then those of `query`.
 * @example queryEntries({ include: ['preferences'] }, '/v1/users?page_size=10') // [['page_size', '10'], ['include', 'preferences']]
 */
export function queryEntries(query: WireRequest['query'], path: string): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  const q = path.indexOf('?');
  if (q >= 0) for (const [k, v] of new URLSearchParams(path.slice(q + 1))) entries.push([k, v]);
  if (typeof query === 'string') for (const [k, v] of new URLSearchParams(query.replace(/^\?/, ''))) entries.push([k, v]);
  else if (query instanceof URLSearchParams) for (const [k, v] of query) entries.push([k, v]);
  else if (query) {
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined) continue;
      for (const item of Array.isArray(v) ? v : [v]) entries.push([k, item]);
    }
  }
  return entries;
}

const isArraySchema = (schema: z.ZodType): boolean => {
  const def = schema.def as { type: string; innerType?: z.ZodType };
  return def.type === 'array' || (def.type === 'optional' && def.innerType !== undefined && isArraySchema(def.innerType));
};

/**
 * The query of a request as its endpoint's schema reads it: `name[]=a&name[]=b` (brackets, as Knock's
 * SDKs send arrays, knock-api.md §1.3) and repeated plain names become arrays where the schema has one.
 * Unknown parameters are reported.
 */
function readQuery(endpoint: KnockEndpoint, operation: string, entries: Array<[string, string]>) {
  const shape = (endpoint.query?.shape ?? {}) as Record<string, z.ZodType>;
  const value: Record<string, string | string[]> = {};
  const unknown: string[] = [];
  for (const [key, v] of entries) {
    const name = key.endsWith('[]') ? key.slice(0, -2) : key;
    const schema = shape[name];
    if (!schema) {
      unknown.push(`query.${key}: is not a parameter of ${operation}`);
      continue;
    }
    if (isArraySchema(schema)) ((value[name] ??= []) as string[]).push(v);
    else value[name] = v;
  }
  return { value, unknown };
}

/**
 * Checks a request against {@link KNOCK_ENDPOINTS}: the endpoint exists, its path parameters, query
 * (bracketed arrays; unknown parameters reported) and JSON body. Returns the problems; empty means valid.
 * @example validateRequest({ method: 'POST', path: '/v1/users/bulk/identify', body: { users: [{ id: 'u1' }] } }) // []
 */
export function validateRequest(request: WireRequest): string[] {
  const found = matchEndpoint(request.method, request.path);
  if (!found) return [`no operation for ${request.method.toUpperCase()} ${request.path.split('?')[0]}`];
  const { endpoint, operation } = found;
  const issues = schemaProblems(endpoint.params, found.params, 'path');
  const query = readQuery(endpoint, operation, queryEntries(request.query, request.path));
  issues.push(...query.unknown);
  if (endpoint.query) issues.push(...schemaProblems(endpoint.query, query.value, 'query'));
  if (request.body === undefined) {
    if (endpoint.body) issues.push('body: is required');
  } else if (!endpoint.body) issues.push(`body: ${operation} takes no body`);
  else issues.push(...schemaProblems(endpoint.body, request.body, 'body'));
  return issues;
}

/**
 * Checks a response against {@link KNOCK_ENDPOINTS}: a status the endpoint answers with and its body
 * (or no body, for 204). An error status the endpoint does not list must carry Knock's common error body
 * (knock-api.md §1.5). Returns the problems; empty means valid.
 * @example validateResponse({ method: 'GET', path: '/v1/users/u1', status: 200, body: user }) // []
 */
export function validateResponse(response: WireResponse): string[] {
  const found = matchEndpoint(response.method, response.path);
  if (!found) return [`no operation for ${response.method.toUpperCase()} ${response.path.split('?')[0]}`];
  const { endpoint, operation } = found;
  const empty = response.body === undefined || response.body === '' || response.body === null;
  const schema = endpoint.responses[response.status];
  if (schema === undefined) {
    if (response.status < 400) return [`status ${response.status} is not documented for ${operation}`];
    if (typeof response.body === 'string') return ['body: is not JSON'];
    return schemaProblems(KnockError, response.body, 'body');
  }
  if (schema === null) return empty ? [] : [`body: status ${response.status} of ${operation} has no body`];
  return schemaProblems(schema, response.body, 'body');
}
