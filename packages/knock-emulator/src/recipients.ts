import { isPlainObject, deepMerge, type JsonObject } from './deep-merge.js';
import type { RecipientRecord } from './environment.js';
import type { FieldError } from './knock-http-error.js';

/** A recipient's custom properties must total ≤ 256 kB (reference §1.7, identifying-recipients doc). */
export const MAX_PROPERTY_BYTES = 256 * 1024;
/** User ids: at most 256 characters, no `/` or `#` (https://docs.knock.app/concepts/users). */
export const MAX_ID_LENGTH = 256;

/**
 * Checks an id against Knock's id rules; `undefined` when it is fine.
 * @example checkId('a/b', 'user_id') // { field: 'user_id', message: 'must not contain "/" or "#"', type: 'format' }
 */
export function checkId(id: unknown, field: string, rules: boolean): FieldError | undefined {
  if (typeof id !== 'string' || id.length === 0) {
    return id === undefined || id === null || id === ''
      ? { field, message: "can't be blank", type: 'required' }
      : { field, message: 'is invalid', type: 'string' };
  }
  if (!rules) return undefined;
  if (id.length > MAX_ID_LENGTH) return { field, message: 'should be at most 256 character(s)', type: 'length' };
  if (id.includes('/') || id.includes('#')) return { field, message: 'must not contain "/" or "#"', type: 'format' };
  return undefined;
}

/**
 * Keys of a request body that are not stored as properties. A `switch` on (internalized) property
 * names compiles to pointer comparisons: several times faster than a dictionary lookup (hot path).
 */
export function skipped(key: string): boolean {
  switch (key) {
    case 'id':
    case '__typename':
    case 'updated_at':
    case 'collection':
    case 'created_at':
    case 'channel_data':
    case 'preferences':
    case '__proto__':
      return true;
    default:
      return false;
  }
}

/** Context of one upsert. */
export interface UpsertContext {
  now: string;
  dropNulls: boolean;
  /** Upper bound of the JSON size of the input (e.g. the request body length); an estimate when `checkMerged` is false. */
  inputBytes: number;
  /** Check the merged properties against 256 kB (direct identify/set). Bulk items skip it, see `bulkUpsert`. */
  checkMerged?: boolean;
  collection?: string;
}

/**
 * Upserts a recipient with Knock's deep-merge semantics (§2.1, §3.1) and the 256 kB property limit.
 * Returns the field error instead of applying when the merged properties would exceed the limit.
 * The input is adopted, not copied, so it must be freshly parsed JSON.
 * @example upsertRecipient(env.users, 'u1', { name: 'Ann' }, ctx)
 */
export function upsertRecipient(
  map: Map<string, RecipientRecord>,
  id: string,
  input: JsonObject,
  ctx: UpsertContext,
  field = 'properties',
): RecipientRecord | FieldError {
  let record = map.get(id);
  let props = record ? record.props : {};
  let bytes = (record?.bytes ?? 2) + ctx.inputBytes;
  if (bytes > MAX_PROPERTY_BYTES && ctx.checkMerged !== false) {
    // Rare path: measure exactly on a copy, so a rejected upsert changes nothing.
    props = structuredClone(props);
    mergeProps(props, input, ctx.dropNulls);
    bytes = Buffer.byteLength(JSON.stringify(props));
    if (bytes > MAX_PROPERTY_BYTES) {
      return { field, message: 'custom properties must not exceed 256 kB', type: 'length' };
    }
  } else {
    mergeProps(props, input, ctx.dropNulls);
  }
  if (!record) {
    record = { id, props, createdAt: null, updatedAt: ctx.now, bytes };
    if (ctx.collection !== undefined) record.collection = ctx.collection;
    map.set(id, record);
  } else {
    record.props = props;
    record.bytes = bytes;
    touch(record, ctx.now);
  }
  systemFields(record, input);
  return record;
}

/**
 * Applies a bulk item to an existing record: the same result as {@link upsertRecipient} with
 * `checkMerged: false`, without its generic steps (the bulk apply hot path, bench/emulator.ts).
 * @example mergeIntoRecipient(record, { id: 'u1', name: 'Ann' }, ctx)
 */
export function mergeIntoRecipient(record: RecipientRecord, input: JsonObject, ctx: UpsertContext): void {
  mergeProps(record.props, input, ctx.dropNulls);
  record.bytes += ctx.inputBytes;
  touch(record, ctx.now);
  systemFields(record, input);
}

/** Marks a record as updated (an upsert also cancels a pending delayed delete). */
function touch(record: RecipientRecord, now: string): void {
  record.updatedAt = now;
  if (record.deleting) {
    clearTimeout(record.deleting);
    delete record.deleting;
  }
}

/** `created_at`, `channel_data` and `preferences` of an upsert body (kept apart from the properties). */
function systemFields(record: RecipientRecord, input: JsonObject): void {
  const createdAt = input['created_at'];
  if (createdAt !== undefined) record.createdAt = typeof createdAt === 'string' ? createdAt : null;
  const channelData = input['channel_data'];
  if (isPlainObject(channelData)) record.channelData = deepMerge(record.channelData ?? {}, channelData);
  const preferences = input['preferences'];
  if (isPlainObject(preferences)) record.preferences = deepMerge(record.preferences ?? {}, preferences);
}

function mergeProps(props: JsonObject, input: JsonObject, dropNulls: boolean): void {
  for (const key in input) {
    if (skipped(key)) continue;
    const value = input[key];
    if (value === undefined) continue;
    if (value === null && dropNulls) {
      delete props[key];
      continue;
    }
    // An unchanged scalar keeps the stored value: no write, and the parsed copy dies young (GC).
    const current = props[key];
    if (value === current) continue;
    if (
      typeof value === 'object' &&
      value !== null &&
      typeof current === 'object' &&
      current !== null &&
      !Array.isArray(value) &&
      !Array.isArray(current)
    ) {
      deepMerge(current as JsonObject, value as JsonObject, dropNulls);
    } else props[key] = value;
  }
}

/**
 * A user as Knock returns it: custom properties flattened beside the system fields (§2.1).
 * @example userJson(record) // { __typename: 'User', id: 'u1', name: 'Ann', created_at: null, updated_at: '…' }
 */
export function userJson(record: RecipientRecord, includePreferences = false): JsonObject {
  const json: JsonObject = { __typename: 'User', id: record.id };
  Object.assign(json, record.props);
  json['created_at'] = record.createdAt;
  json['updated_at'] = record.updatedAt;
  if (includePreferences) json['preferences'] = record.preferences ?? {};
  return json;
}

/**
 * An object as Knock returns it: custom properties nested under `properties` (§3.1).
 * @example objectJson(record) // { __typename: 'Object', id, collection, properties: {…}, created_at, updated_at }
 */
export function objectJson(record: RecipientRecord, includePreferences = false): JsonObject {
  const json: JsonObject = {
    __typename: 'Object',
    id: record.id,
    collection: record.collection ?? '',
    properties: record.props,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
  if (includePreferences) json['preferences'] = record.preferences ?? {};
  return json;
}

/**
 * A tenant as Knock returns it: `{__typename: "Tenant", id, name?, settings?, ...custom}` (§7).
 * @example tenantJson(record) // { __typename: 'Tenant', id: 't1', name: 'Acme' }
 */
export function tenantJson(record: RecipientRecord): JsonObject {
  return Object.assign({ __typename: 'Tenant', id: record.id }, record.props);
}
