import type { RouteContext } from '../app-types.js';
import type { BulkApply, BulkErrorItem, BulkOperationRecord } from '../bulk-operation.js';
import { bulkOperationJson } from '../bulk-operation.js';
import type { JsonObject } from '../deep-merge.js';
import { eagerUpsert, undo, type UndoLog } from '../eager-apply.js';
import type { RecipientRecord } from '../environment.js';
import { KnockHttpError, type FieldError } from '../knock-http-error.js';
import { checkId, MAX_ID_LENGTH, MAX_PROPERTY_BYTES, mergeIntoRecipient, upsertRecipient, type UpsertContext } from '../recipients.js';
import { baseUrl, readBody } from '../request-helpers.js';

/** Throws 422 when a path id breaks the id rules (switch `validateIds`). */
export function pathId(ctx: RouteContext, name: string): string {
  const id = ctx.c.req.param(name) ?? '';
  const error = checkId(id, name, ctx.state.options.switches.validateIds);
  if (error) throw KnockHttpError.invalid([error]);
  return id;
}

/**
 * A single upsert (identify, set object, set tenant): reads the JSON body, deep-merges it into the record
 * `id` of `map` (created when missing) and returns the record; 422 for a body over the size limit.
 */
export async function upsertOne(
  ctx: RouteContext,
  map: Map<string, RecipientRecord>,
  id: string,
  collection?: string,
): Promise<RecipientRecord> {
  const { value, bytes } = await readBody(ctx, true);
  const result = upsertRecipient(map, id, value, {
    now: new Date().toISOString(),
    dropNulls: ctx.state.options.switches.nullProperties === 'drop',
    inputBytes: bytes,
    ...(collection === undefined ? {} : { collection }),
  });
  if ('field' in result) throw KnockHttpError.invalid([result]);
  ctx.state.onChange();
  return result;
}

/** A record that is readable (not deleted; a delayed delete still reads, §2.4). */
export function getOrThrow(map: Map<string, RecipientRecord>, id: string): RecipientRecord {
  const record = map.get(id);
  if (!record) throw KnockHttpError.notFound();
  return record;
}

/**
 * Deletes a record; with the `deleteVisibilityMs` switch it stays readable that long (Knock deletes
 * "can take up to 10 minutes", §2.4). Returns false when it did not exist.
 */
export function deleteRecord(
  ctx: RouteContext | { state: RouteContext['state'] },
  map: Map<string, RecipientRecord>,
  id: string,
  after?: () => void,
): boolean {
  const record = map.get(id);
  if (!record || record.deleting) return Boolean(record);
  const delay = ctx.state.options.switches.deleteVisibilityMs;
  const remove = (): void => {
    if (map.get(id) === record) map.delete(id);
    after?.();
    ctx.state.onChange();
  };
  if (delay > 0) {
    record.deleting = setTimeout(remove, delay);
    record.deleting.unref();
  } else remove();
  return true;
}

/** 204, or the `deleteMissingStatus` switch for a missing record (§2.4 UNCONFIRMED). */
export function deletedResponse(ctx: RouteContext, existed: boolean): Response {
  if (!existed && ctx.state.options.switches.deleteMissingStatus === 404) throw KnockHttpError.notFound();
  return ctx.c.body(null, 204);
}

/** What enqueuing a bulk job needs: the environment and the emulator state (no HTTP context, see fast-path.ts). */
export type JobContext = Pick<RouteContext, 'env' | 'state'>;

/** Registers a freshly enqueued job, so polls find it. */
function registered(ctx: JobContext, op: BulkOperationRecord): BulkOperationRecord {
  ctx.env.bulkOperations.set(op.id, op);
  return op;
}

/** Response for a bulk job (200 `BulkOperation`, `progress_path` per the `progressPath` switch). */
export function bulkResponse(ctx: RouteContext, op: BulkOperationRecord): Response {
  const base = ctx.state.options.switches.progressPath === 'absolute' ? baseUrl(ctx.c) : '';
  return ctx.c.json(bulkOperationJson(op, base), 200);
}

/**
 * Id rules of bulk upsert items whose shape knock-wire's schema already checked (objects with a non-empty
 * string `id`; a missing id is a synchronous 422, reference "Emulator notes"): failures of the id rules
 * (switch `validateIds`) are returned per item for the async path, or thrown as one 422 under the
 * `bulkItemValidation: "sync"` switch.
 */
export function checkItems(ctx: JobContext, items: JsonObject[], field: string): Map<number, FieldError> {
  const rules = new Map<number, FieldError>();
  if (!ctx.state.options.switches.validateIds) return rules;
  for (let i = 0; i < items.length; i++) {
    const id = items[i]!['id'] as string;
    // The common case (a short id without '/' or '#') builds no field name (hot path).
    if (id.length > MAX_ID_LENGTH || id.includes('/') || id.includes('#')) rules.set(i, checkId(id, `${field}[${i}].id`, true)!);
  }
  if (rules.size && ctx.state.options.switches.bulkItemValidation === 'sync') throw KnockHttpError.invalid([...rules.values()]);
  return rules;
}

/**
 * Enqueues bulk upserts (applied at completion, in the bulk queue) and returns the registered job: items
 * failing id rules, the 256 kB limit or an injected fault become `error_items` (ids only, §5).
 * `reparse` parses the body's items again (for an eager job's rollback); `release` is called once the
 * job no longer needs it (at once without the eager path, else at completion or rollback).
 */
export function bulkUpsert(
  ctx: JobContext,
  name: string,
  map: () => Map<string, RecipientRecord>,
  items: JsonObject[],
  ruleErrors: Map<number, FieldError>,
  bodyBytes: number,
  collection: string | undefined,
  reparse?: () => JsonObject[],
  release?: () => void,
): BulkOperationRecord {
  const dropNulls = ctx.state.options.switches.nullProperties === 'drop';
  const errorCollection = collection ?? null;
  const rows = items.length;
  const inputBytes = Math.ceil(bodyBytes / Math.max(1, rows));
  // An item alone can only pass 256 kB when the body does, so only then is each item measured; the
  // merged-size check (UNCONFIRMED for bulk, reference §2.5) is left to direct identify/set, which
  // re-measure when the running estimate is high.
  const measure = bodyBytes > MAX_PROPERTY_BYTES;
  const rules = ruleErrors.size > 0;
  /** The ordinary apply, at the job's due time. Hot path (bench/emulator.ts): one tight loop, no per-item closures. */
  const applyLater =
    (pending: JsonObject[]): BulkApply =>
    (fail) => {
      const target = map();
      const errors: BulkErrorItem[] = [];
      let success = 0;
      const ctxUpsert: UpsertContext = { now: new Date().toISOString(), dropNulls, inputBytes, checkMerged: false };
      if (collection !== undefined) ctxUpsert.collection = collection;
      for (let i = 0; i < pending.length; i++) {
        const item = pending[i]!;
        const id = item['id'] as string;
        if (
          (rules && ruleErrors.has(i)) ||
          (fail !== undefined && fail.has(id)) ||
          (measure && Buffer.byteLength(JSON.stringify(item)) > MAX_PROPERTY_BYTES)
        ) {
          errors.push({ id, collection: errorCollection });
          continue;
        }
        const record = target.get(id);
        if (record !== undefined) {
          mergeIntoRecipient(record, item, ctxUpsert);
          success++;
          continue;
        }
        const result = upsertRecipient(target, id, item, ctxUpsert);
        if ('field' in result) errors.push({ id, collection: errorCollection });
        else success++;
      }
      return { success, errors };
    };
  const bulk = ctx.state.bulk;
  if (reparse && !measure && !dropNulls && bulk.canApplyEagerly()) {
    // Eager path (see eager-apply.ts): merge now with an undo log, so the parsed items die young.
    const target = map();
    const log: UndoLog = [];
    const touched: RecipientRecord[] = [];
    const errors: BulkErrorItem[] = [];
    let eager = true;
    for (let i = 0; i < rows; i++) {
      const item = items[i]!;
      if (rules && ruleErrors.has(i)) {
        errors.push({ id: item['id'] as string, collection: errorCollection });
        continue;
      }
      const record = eagerUpsert(target, item['id'] as string, item, collection, log);
      if (record === undefined) {
        eager = false;
        break;
      }
      touched.push(record);
    }
    if (eager) {
      const commit: BulkApply = () => {
        const now = new Date().toISOString();
        for (let i = 0; i < touched.length; i++) {
          const record = touched[i]!;
          record.updatedAt = now;
          record.bytes += inputBytes;
        }
        release?.();
        return { success: touched.length, errors };
      };
      const rollback = (): BulkApply => {
        undo(log);
        const again = reparse();
        release?.();
        return applyLater(again);
      };
      return registered(ctx, bulk.enqueue(name, rows, commit, rollback));
    }
    undo(log);
  }
  release?.();
  return registered(ctx, bulk.enqueue(name, rows, applyLater(items)));
}

/** Applies bulk deletes later, in the bulk queue. */
export function bulkDelete(
  ctx: RouteContext,
  name: string,
  map: () => Map<string, RecipientRecord>,
  ids: string[],
  collection: string | undefined,
  after?: (id: string) => void,
): Response {
  const state = ctx.state;
  const op = state.bulk.enqueue(name, ids.length, (fail) => {
    const target = map();
    const errors: BulkErrorItem[] = [];
    let success = 0;
    for (const id of ids) {
      if (fail?.has(id)) {
        errors.push({ id, collection: collection ?? null });
        continue;
      }
      deleteRecord({ state }, target, id, after && (() => after(id)));
      success++;
    }
    return { success, errors };
  });
  return bulkResponse(ctx, registered(ctx, op));
}
