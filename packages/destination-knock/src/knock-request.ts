import { encodeId } from './encode-id.js';
import { SERVER_OWNED_FIELDS } from './field-catalog.js';
import type { KnockRequest } from './knock-http.js';
import { isIso8601 } from './row-rules.js';
import { type KnockTarget } from './knock-target.js';

/** What a change does in Knock. */
export type Entity = 'users' | 'objects';
export type Action = 'upsert' | 'delete';

/**
 * Turns a mapped payload into a Knock recipient body: server-owned fields dropped, nulls omitted under
 * `nulls: 'skip'` (Knock upserts deep-merge and a sent `null` overwrites:
 * https://docs.knock.app/concepts/users "Storing user properties"), `created_at` made RFC 3339 (the
 * OpenAPI type is `date-time`; an ISO date without offset is read as UTC).
 * @example recipientBody({ email: 'a@b.co', name: null }, 'skip') // { email: 'a@b.co' }
 */
export function recipientBody(
  payload: Record<string, unknown> | null,
  nulls: KnockTarget['nulls'],
  omit: string[] = [],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!payload) return out;
  // A plain loop: this runs once per row of every run (100k rows ≈ a few ms).
  for (const k in payload) {
    const v = payload[k];
    if (v === undefined || (v === null && nulls !== 'send') || SERVER_OWNED_FIELDS.has(k) || (omit.length > 0 && omit.includes(k)))
      continue;
    out[k] = k === 'created_at' && typeof v === 'string' ? toRfc3339(v) : v;
  }
  return out;
}

/** ISO-8601 → RFC 3339 date-time; values that are not ISO-8601 pass through for Knock to judge. */
export function toRfc3339(value: string): string {
  if (!isIso8601(value)) return value;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value)) return value;
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i.exec(value)!;
  const [, date, time = '00:00:00', offset = 'Z'] = m;
  const off = offset.toUpperCase() === 'Z' ? 'Z' : offset.length === 3 ? `${offset}:00` : `${offset.slice(0, 3)}:${offset.slice(-2)}`;
  const d = new Date(`${date}T${time}${off}`);
  return Number.isNaN(d.getTime()) ? value : d.toISOString();
}

/** Path of a collection's objects: `/v1/objects/{collection}`. */
export function objectsPath(collection: string): string {
  return `/v1/objects/${encodeId(collection)}`;
}

/**
 * The single-row request of a change: `PUT /v1/users/{id}` (tier 3), `DELETE /v1/users/{id}` (tier 2),
 * `PUT|DELETE /v1/objects/{collection}/{id}` (tier 3). Tiers from Knock's OpenAPI `x-ratelimit-tier`.
 * 404 on a delete means it is already gone (knock-api.md §8.2).
 * @example singleRequest('users', 'upsert', 'u1', { name: 'Ann' }) // { method: 'PUT', path: '/v1/users/u1', … }
 */
export function singleRequest(
  entity: Entity,
  action: Action,
  key: string,
  body: Record<string, unknown>,
  collection?: string,
): KnockRequest {
  const path = entity === 'users' ? `/v1/users/${encodeId(key)}` : `${objectsPath(collection!)}/${encodeId(key)}`;
  const route = endpointOf(entity, action, false, entity === 'users' ? undefined : '{collection}');
  if (action === 'upsert') return { method: 'PUT', path, route, body, tier: 3 };
  return { method: 'DELETE', path, route, tier: entity === 'users' ? 2 : 3, okStatuses: [404] };
}

/** Human endpoint names, for plans and dry runs. */
export function endpointOf(entity: Entity, action: Action, bulk: boolean, collection?: string): string {
  const base = entity === 'users' ? '/v1/users' : `/v1/objects/${collection === '{collection}' ? collection : encodeId(collection!)}`;
  const id = entity === 'users' ? '{user_id}' : '{id}';
  if (bulk) return action === 'upsert' ? `POST ${base}/bulk/${entity === 'users' ? 'identify' : 'set'}` : `POST ${base}/bulk/delete`;
  return `${action === 'upsert' ? 'PUT' : 'DELETE'} ${base}/${id}`;
}

/** Tier of the single endpoint, to weigh single against bulk sending. */
export function singleTier(entity: Entity, action: Action): 2 | 3 {
  return entity === 'users' && action === 'delete' ? 2 : 3;
}
