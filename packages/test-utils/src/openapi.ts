import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';

/** Knock's OpenAPI 3.0 document; CI checks `../shared` out beside the repository, as in development. */
export const KNOCK_OPENAPI_URL = new URL('../../../../shared/reference/knock-openapi.yml', import.meta.url);

/** A request to check against the document. `path` may carry a query string. */
export interface OpenApiRequest {
  method: string;
  path: string;
  /** Query as a string (`a=1&b[]=2`), URLSearchParams, or a record of values. */
  query?: string | URLSearchParams | Record<string, string | string[] | undefined>;
  /** Parsed JSON body; `undefined` = no body. */
  body?: unknown;
}

/** A response to check against the document. */
export interface OpenApiResponse {
  method: string;
  path: string;
  status: number;
  /** Parsed JSON body, raw text for non-JSON, `undefined`/`''` for none. */
  body?: unknown;
}

/** The operation a method + path resolves to. */
export interface OpenApiOperationMatch {
  template: string;
  operationId: string;
  params: Record<string, string>;
  /** Knock's `x-ratelimit-tier`, when set. */
  tier: number | undefined;
  operation: Record<string, unknown>;
}

/** Validates requests and responses against one OpenAPI 3.0 document. */
export interface OpenApiValidator {
  match(method: string, path: string): OpenApiOperationMatch | undefined;
  /** Problems with a request (empty = valid). */
  validateRequest(request: OpenApiRequest): string[];
  /** Problems with a response (empty = valid). */
  validateResponse(response: OpenApiResponse): string[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const DROP = new Set(['example', 'examples', 'discriminator', 'xml', 'externalDocs', 'deprecated', 'readOnly', 'writeOnly', 'title', 'description']);

/**
 * Turns an OpenAPI 3.0 schema into JSON Schema for ajv: `nullable: true` becomes a `null` type (or
 * an `anyOf` with `null` around `$ref`/compositions; a bare `{nullable: true}` means `null`), vendor
 * keys and annotations go, and `$ref`s point into the registered document.
 */
export function toJsonSchema(schema: unknown, refBase: string): unknown {
  if (Array.isArray(schema)) return schema.map((s) => toJsonSchema(s, refBase));
  if (!isObject(schema)) return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-') || DROP.has(key) || key === 'nullable') continue;
    if (key === '$ref' && typeof value === 'string') out[key] = value.startsWith('#') ? `${refBase}${value}` : value;
    else if (key === 'properties' && isObject(value)) out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonSchema(v, refBase)]));
    else if (key === 'enum' || key === 'required' || key === 'default' || key === 'const') out[key] = value;
    else out[key] = toJsonSchema(value, refBase);
  }
  if (schema['nullable'] !== true) return out;
  if (Object.keys(out).length === 0) return { type: 'null' };
  if (typeof out['type'] === 'string' && !('$ref' in out) && !out['allOf'] && !out['oneOf'] && !out['anyOf']) {
    out['type'] = [out['type'], 'null'];
    if (Array.isArray(out['enum']) && !out['enum'].includes(null)) out['enum'] = [...out['enum'], null];
    return out;
  }
  return { anyOf: [{ type: 'null' }, out] };
}

/** Knock's common error body (reference §1.5), used for error statuses the document does not list. */
const ERROR_SCHEMA = {
  type: 'object',
  required: ['code', 'message', 'status', 'type'],
  properties: {
    code: { type: 'string' },
    message: { type: 'string' },
    status: { type: 'integer' },
    type: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', required: ['field', 'message', 'type'], properties: { field: { type: 'string' }, message: { type: 'string' }, type: { type: 'string' } } },
    },
  },
};

const formatErrors = (where: string, errors: ErrorObject[] | null | undefined): string[] =>
  (errors ?? []).map((e) => `${where}${e.instancePath}: ${e.message ?? 'invalid'}${e.params && 'allowedValues' in e.params ? ` (${(e.params['allowedValues'] as unknown[]).join(', ')})` : ''}`);

function queryEntries(query: OpenApiRequest['query'], path: string): Array<[string, string]> {
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

function coerce(value: string, schema: Json): unknown {
  const type = Array.isArray(schema['type']) ? schema['type'][0] : schema['type'];
  if (type === 'integer' || type === 'number') return value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
  if (type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  return value;
}

/**
 * Builds a validator over a parsed OpenAPI 3.0 document. Schemas compile lazily and are cached.
 * @example const v = createOpenApiValidator(parse(text)); v.validateResponse({ method: 'GET', path: '/v1/users/u1', status: 200, body })
 */
export function createOpenApiValidator(doc: Json): OpenApiValidator {
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false, validateSchema: false });
  (addFormatsModule as unknown as (a: Ajv) => void)(ajv);
  const base = 'openapi.json';
  ajv.addSchema({ $id: base, components: toJsonSchema(doc['components'] ?? {}, base) } as object);
  const paths = (doc['paths'] ?? {}) as Record<string, Json>;
  const templates = Object.keys(paths).map((template) => {
    const segments = template.split('/').slice(1);
    return { template, segments, literal: segments.filter((s) => !s.startsWith('{')).length };
  });
  const cache = new Map<string, ValidateFunction>();
  const compile = (key: string, schema: unknown): ValidateFunction => {
    let fn = cache.get(key);
    if (!fn) {
      fn = ajv.compile(toJsonSchema(schema, base) as object);
      cache.set(key, fn);
    }
    return fn;
  };

  const match = (method: string, rawPath: string): OpenApiOperationMatch | undefined => {
    const path = rawPath.split('?')[0] ?? '';
    const parts = path.split('/').slice(1);
    const m = method.toLowerCase();
    let best: OpenApiOperationMatch | undefined;
    let bestLiteral = -1;
    for (const t of templates) {
      if (t.segments.length !== parts.length || t.literal <= bestLiteral) continue;
      const operation = paths[t.template]?.[m];
      if (!isObject(operation)) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const seg = t.segments[i]!;
        const part = parts[i]!;
        if (seg.startsWith('{')) {
          if (part === '') ok = false;
          else params[seg.slice(1, -1)] = decodeURIComponent(part);
        } else if (seg !== part) ok = false;
      }
      if (!ok) continue;
      bestLiteral = t.literal;
      const tier = operation['x-ratelimit-tier'];
      best = { template: t.template, operationId: String(operation['operationId']), params, tier: typeof tier === 'number' ? tier : undefined, operation };
    }
    return best;
  };

  const validateRequest = (request: OpenApiRequest): string[] => {
    const found = match(request.method, request.path);
    if (!found) return [`no operation for ${request.method.toUpperCase()} ${request.path.split('?')[0]}`];
    const issues: string[] = [];
    const key = `${request.method.toUpperCase()} ${found.template}`;
    const parameters = ((found.operation['parameters'] ?? []) as Json[]).filter(isObject);
    const query = queryEntries(request.query, request.path);
    const known = new Set<string>();
    for (const p of parameters) {
      const name = String(p['name']);
      const schema = (p['schema'] ?? {}) as Json;
      if (p['in'] === 'path') {
        const value = found.params[name];
        const fn = compile(`${key} path ${name}`, schema);
        if (value !== undefined && !fn(coerce(value, schema))) issues.push(...formatErrors(`path.${name}`, fn.errors));
      } else if (p['in'] === 'query') {
        known.add(name);
        const isArray = schema['type'] === 'array';
        const values = query.filter(([k]) => k === name || k === `${name}[]`).map(([, v]) => v);
        const nested = query.some(([k]) => k.startsWith(`${name}[`) && k !== `${name}[]`);
        if (values.length === 0 && !nested) {
          if (p['required'] === true) issues.push(`query.${name}: is required`);
          continue;
        }
        if (nested) continue;
        const items = (schema['items'] ?? {}) as Json;
        const value = isArray ? values.map((v) => coerce(v, items)) : coerce(values[values.length - 1]!, schema);
        const fn = compile(`${key} query ${name}`, schema);
        if (!fn(value)) issues.push(...formatErrors(`query.${name}`, fn.errors));
      }
    }
    for (const [k] of query) {
      const name = k.replace(/\[.*$/, '');
      if (!known.has(name)) issues.push(`query.${k}: is not a parameter of ${found.operationId}`);
    }
    const requestBody = found.operation['requestBody'] as Json | undefined;
    if (request.body === undefined) {
      if (requestBody?.['required'] === true) issues.push('body: is required');
    } else if (!requestBody) {
      issues.push(`body: ${found.operationId} takes no body`);
    } else {
      const schema = ((requestBody['content'] as Json | undefined)?.['application/json'] as Json | undefined)?.['schema'];
      if (schema) {
        const fn = compile(`${key} body`, schema);
        if (!fn(request.body)) issues.push(...formatErrors('body', fn.errors));
      }
    }
    return issues;
  };

  const validateResponse = (response: OpenApiResponse): string[] => {
    const found = match(response.method, response.path);
    if (!found) return [`no operation for ${response.method.toUpperCase()} ${response.path.split('?')[0]}`];
    const responses = (found.operation['responses'] ?? {}) as Json;
    const documented = (responses[String(response.status)] ?? responses[`${String(response.status)[0]}XX`] ?? responses['default']) as Json | undefined;
    const empty = response.body === undefined || response.body === '' || response.body === null;
    if (!documented) {
      if (response.status < 400) return [`status ${response.status} is not documented for ${found.operationId}`];
      const fn = compile('error', ERROR_SCHEMA);
      return fn(response.body) ? [] : formatErrors('body', fn.errors).concat(typeof response.body === 'string' ? ['body: is not JSON'] : []);
    }
    const schema = ((documented['content'] as Json | undefined)?.['application/json'] as Json | undefined)?.['schema'];
    if (!schema) return empty ? [] : [`body: status ${response.status} of ${found.operationId} has no body`];
    const fn = compile(`${response.method.toUpperCase()} ${found.template} ${response.status}`, schema);
    return fn(response.body) ? [] : formatErrors('body', fn.errors);
  };

  return { match, validateRequest, validateResponse };
}

let knock: OpenApiValidator | undefined;

/**
 * The validator for Knock's document (loaded once, on first use).
 * @example knockOpenApi().match('PUT', '/v1/users/u1')?.tier // 3
 */
export function knockOpenApi(): OpenApiValidator {
  knock ??= createOpenApiValidator(parse(readFileSync(fileURLToPath(KNOCK_OPENAPI_URL), 'utf8')) as Json);
  return knock;
}

/**
 * Checks a request against Knock's OpenAPI document: path params, query (bracketed arrays accepted,
 * unknown parameters reported) and JSON body. Returns the problems; empty means valid.
 * @example validateKnockRequest({ method: 'POST', path: '/v1/users/bulk/identify', body: { users: [{ id: 'u1' }] } }) // []
 */
export function validateKnockRequest(request: OpenApiRequest): string[] {
  return knockOpenApi().validateRequest(request);
}

/**
 * Checks a response against Knock's OpenAPI document: a documented status and its JSON schema (or an
 * empty body for 204). Error statuses the document does not list must have Knock's common error body
 * `{code, message, status, type, errors?}` (reference §1.5). Returns the problems; empty means valid.
 * @example validateKnockResponse({ method: 'GET', path: '/v1/users/u1', status: 200, body: user }) // []
 */
export function validateKnockResponse(response: OpenApiResponse): string[] {
  return knockOpenApi().validateResponse(response);
}
