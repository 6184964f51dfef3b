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
  const merge = shapedMerge(input, TOP_MEMO, true);
  if (merge !== undefined) {
    merge(props, input, log);
    return record;
  }
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

/** Merges `source` into `target` as {@link deepMergeLogged} does (the loop with keyed loads, or a compiled one). */
type CompiledMerge = (target: JsonObject, source: JsonObject, log: UndoLog) => void;

/** An item shape (own keys in for-in order), how often it came, and its compiled merge once it came often. */
interface Shape {
  keys: string[];
  seen: number;
  merge: CompiledMerge | undefined;
}

/** The shapes last seen at one merge site. */
interface ShapeMemo {
  shapes: Shape[];
  /** Next slot to replace. */
  next: number;
  /** Budget for looking up a new shape; refills with every call, so a stream of ever-new shapes falls back to the loop. */
  credit: number;
}

const newMemo = (): ShapeMemo => ({ shapes: [], next: 0, credit: MAX_CREDIT });
/** Compiled merges by shape; cleared when full, so odd bodies cannot make it grow without bound. */
const compiledMerges = new Map<string, CompiledMerge>();
const MAX_SHAPES = 256;
const MAX_SHAPE_KEYS = 64;
const MEMO_SHAPES = 4;
const MAX_CREDIT = 64;
/** A shape is compiled when it comes this often (one-off shapes stay on the loop: compiling costs ~50 µs). */
const COMPILE_AFTER = 8;
const TOP_MEMO = newMemo();

/** Whether `source`'s own keys, in for-in order, are `keys`. */
function hasKeys(source: JsonObject, keys: string[]): boolean {
  let n = 0;
  for (const key in source) if (keys[n++] !== key) return false;
  return n === keys.length;
}

/**
 * The compiled merge for the shape of `source`, or undefined (use the loop). Items of a body nearly
 * always share one or a few shapes: checking the last ones is a for-in comparing keys. A shape is
 * compiled (or found among the compiled ones) when it has come {@link COMPILE_AFTER} times.
 */
function shapedMerge(source: JsonObject, memo: ShapeMemo, top: boolean): CompiledMerge | undefined {
  const shapes = memo.shapes;
  if (memo.credit < MAX_CREDIT) memo.credit += 1 / 32;
  for (let i = 0; i < shapes.length; i++) {
    const shape = shapes[i]!;
    if (!hasKeys(source, shape.keys)) continue;
    if (shape.merge === undefined && ++shape.seen === COMPILE_AFTER && shape.keys.length <= MAX_SHAPE_KEYS) {
      shape.merge = compiled(shape.keys, top);
    }
    return shape.merge;
  }
  if (memo.credit < 1) return undefined;
  memo.credit -= 1;
  const keys: string[] = [];
  for (const key in source) keys.push(key);
  shapes[memo.next] = { keys, seen: 1, merge: undefined };
  memo.next = (memo.next + 1) % MEMO_SHAPES;
  return undefined;
}

function compiled(keys: string[], top: boolean): CompiledMerge {
  const id = (top ? 'top' : 'nested') + JSON.stringify(keys);
  let merge = compiledMerges.get(id);
  if (merge === undefined) {
    if (compiledMerges.size >= MAX_SHAPES) compiledMerges.clear();
    merge = compileMerge(keys, top);
    compiledMerges.set(id, merge);
  }
  return merge;
}

function nestedMerge(target: JsonObject, source: JsonObject, log: UndoLog, memo: ShapeMemo): void {
  const merge = shapedMerge(source, memo, false);
  if (merge !== undefined) merge(target, source, log);
  else deepMergeLogged(target, source, log);
}

/**
 * The merge loop unrolled for one shape: `target["name"]` instead of `target[key]`. V8 answers a keyed
 * load whose key changes from a megamorphic cache, ~3x slower than a named load: in a bulk identify the
 * keyed loads were half the merge time. Same steps, in the same order, as the loops of
 * {@link eagerUpsert} (top level: keys {@link skipped}) and {@link deepMergeLogged} (nested: `__proto__`).
 * Keys enter the code only as JSON string literals.
 */
function compileMerge(keys: string[], top: boolean): CompiledMerge {
  const lines: string[] = [];
  let memos = 0;
  for (const key of keys) {
    if (top ? skipped(key) : key === '__proto__') continue;
    const k = JSON.stringify(key);
    lines.push(
      `v = s[${k}]; c = t[${k}];`,
      `if (v !== c && v !== undefined) {`,
      `  if (typeof v === 'object' && v !== null && typeof c === 'object' && c !== null && !isArray(v) && !isArray(c)) nested(c, v, log, memos[${memos++}]);`,
      `  else { log.push(t, ${k}, hasOwn(t, ${k}) ? c : ABSENT); t[${k}] = v; }`,
      `}`,
    );
  }
  const memoList: ShapeMemo[] = Array.from({ length: memos }, newMemo);
  const body = `return function merge(t, s, log) {\n  let v, c;\n  ${lines.join('\n  ')}\n};`;
  // Only JSON string literals of the keys enter the generated code.
  const factory = new Function('isArray', 'hasOwn', 'ABSENT', 'nested', 'memos', body) as (...deps: unknown[]) => CompiledMerge;
  return factory(Array.isArray, hasOwn, ABSENT, nestedMerge, memoList);
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
