import type { JsonObject } from './deep-merge.js';
import type { RecipientRecord } from './environment.js';
import { skipped } from './recipients.js';

/**
 * Eager bulk upserts (the throughput path, bench/emulator.ts). A bulk job's items are merged into the
 * store when the request arrives, with an undo log, instead of being held (as ~6 heap objects per item)
 * for the whole bulk delay: holding them was the largest GC cost of the emulator. Nothing can tell the
 * difference, because every way to observe data first calls `BulkQueue.settle()`, which rolls pending
 * eager jobs back (newest first) and turns them into ordinary jobs that apply at their due time from
 * the re-parsed body. At the due time an eager job only stamps `updated_at` and the size estimate.
 */

/** Marks "the key did not exist" (or "the record did not exist") in an undo log. */
const ABSENT = Symbol('absent');

/** Flat undo log: (target, key, previous value) triples; a `Map` target is a recipient map. */
export type UndoLog = unknown[];

const hasOwn = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepMergeLogged(target: JsonObject, source: JsonObject, log: UndoLog): void {
  for (const key in source) {
    if (key === '__proto__') continue;
    const value = source[key];
    if (value === undefined) continue;
    const current = target[key];
    if (value === current) continue;
    if (isObject(value) && isObject(current)) {
      deepMergeLogged(current, value, log);
      continue;
    }
    log.push(target, key, hasOwn(target, key) ? current : ABSENT);
    target[key] = value;
  }
}

/**
 * Merges one bulk item the way `upsertRecipient` with `checkMerged: false` and nulls kept would, logging
 * every change. Returns the record, or `undefined` (having changed nothing) for an item the eager path
 * does not handle: `created_at`, `channel_data` or `preferences` in the item, or a pending delayed delete.
 */
export function eagerUpsert(
  map: Map<string, RecipientRecord>,
  id: string,
  input: JsonObject,
  collection: string | undefined,
  log: UndoLog,
): RecipientRecord | undefined {
  if (input['created_at'] !== undefined || input['channel_data'] !== undefined || input['preferences'] !== undefined) return undefined;
  let record = map.get(id);
  if (record === undefined) {
    // updatedAt and bytes are set when the job completes (see `bulkUpsert`).
    record = { id, props: {}, createdAt: null, updatedAt: '', bytes: 2 };
    if (collection !== undefined) record.collection = collection;
    map.set(id, record);
    log.push(map, id, ABSENT);
  } else if (record.deleting) {
    return undefined;
  }
  const props = record.props;
  for (const key in input) {
    if (skipped(key)) continue;
    const value = input[key];
    if (value === undefined) continue;
    const current = props[key];
    if (value === current) continue;
    if (isObject(value) && isObject(current)) {
      deepMergeLogged(current, value, log);
      continue;
    }
    log.push(props, key, hasOwn(props, key) ? current : ABSENT);
    props[key] = value;
  }
  return record;
}

/** Reverts an undo log (newest change first). */
export function undo(log: UndoLog): void {
  for (let i = log.length - 3; i >= 0; i -= 3) {
    const target = log[i];
    const key = log[i + 1] as string;
    const previous = log[i + 2];
    if (target instanceof Map) {
      if (previous === ABSENT) target.delete(key);
      else target.set(key, previous);
    } else if (previous === ABSENT) delete (target as JsonObject)[key];
    else (target as JsonObject)[key] = previous;
  }
  log.length = 0;
}
