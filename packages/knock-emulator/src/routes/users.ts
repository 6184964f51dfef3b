import type { RegisterRoute, RouteContext } from '../app-types.js';
import { isPlainObject, deepMerge, type JsonObject } from '../deep-merge.js';
import type { Environment } from '../environment.js';
import type { BulkOperationRecord } from '../bulk-operation.js';
import { KnockHttpError, type FieldError } from '../knock-http-error.js';
import { paginate } from '../paginate.js';
import { checkId, userJson } from '../recipients.js';
import { checkWire, queryArray, readBody } from '../request-helpers.js';
import { KNOCK_ENDPOINTS } from '@syncline/knock-wire';
import {
  bulkDelete,
  bulkResponse,
  bulkUpsert,
  checkItems,
  deletedResponse,
  deleteRecord,
  getOrThrow,
  pathId,
  upsertOne,
  type JobContext,
} from './recipient-helpers.js';

/** Drops a deleted user's audience memberships (a hard delete, https://docs.knock.app/managing-recipients/deleting-users). */
export function forgetMemberships(env: Environment, userId: string): void {
  for (const audience of env.audiences.values()) {
    for (const [key, m] of audience.members) if (m.userId === userId) audience.members.delete(key);
  }
}

/**
 * Users: identify, get, list, delete, merge, bulk identify, bulk delete (reference §2).
 * @example registerUserRoutes(route)
 */
export function registerUserRoutes(route: RegisterRoute): void {
  // §2.1 identify = upsert with deep merge; 200 even on create.
  route('identifyUser', async (ctx) => {
    const id = pathId(ctx, 'user_id');
    return ctx.c.json(userJson(await upsertOne(ctx, ctx.env.users, id)), 200);
  });

  route('getUser', (ctx) => {
    const id = pathId(ctx, 'user_id');
    return ctx.c.json(userJson(getOrThrow(ctx.env.users, id)), 200);
  });

  route('deleteUser', (ctx) => {
    const id = pathId(ctx, 'user_id');
    const existed = deleteRecord(ctx, ctx.env.users, id, () => forgetMemberships(ctx.env, id));
    return deletedResponse(ctx, existed);
  });

  route('listUsers', (ctx) => {
    const q = ctx.c.req.query();
    const include = queryArray(ctx.c, 'include') ?? [];
    const page = paginate(ctx.env.users.values(), (u) => u.id, q, ctx.state.options.switches);
    const withPreferences = include.includes('preferences');
    return ctx.c.json({ entries: page.entries.map((u) => userJson(u, withPreferences)), page_info: page.page_info }, 200);
  });

  // §2.8 merge: primary wins conflicts; preferences and channel data only gain missing keys.
  route('mergeUser', async (ctx) => {
    const id = pathId(ctx, 'user_id');
    const { value } = await readBody(ctx);
    const from = value['from_user_id'] as string;
    const primary = getOrThrow(ctx.env.users, id);
    const secondary = getOrThrow(ctx.env.users, from);
    if (from !== id) {
      primary.props = deepMerge(structuredClone(secondary.props), primary.props);
      primary.bytes += secondary.bytes;
      if (primary.createdAt === null) primary.createdAt = secondary.createdAt;
      primary.channelData = shallowAdd(primary.channelData, secondary.channelData);
      primary.preferences = shallowAdd(primary.preferences, secondary.preferences);
      primary.updatedAt = new Date().toISOString();
      ctx.env.users.delete(from);
      forgetMemberships(ctx.env, from);
      ctx.state.onChange();
    }
    return ctx.c.json(userJson(primary), 200);
  });

  // §2.5 bulk identify: ≤ 1,000 users, async BulkOperation. fast-path.ts serves it too, with the same two steps.
  route('bulkIdentifyUsers', async (ctx) => {
    const { value, bytes, text } = await readBody(ctx);
    const users = checkBulkIdentify(ctx, value, true);
    return bulkResponse(
      ctx,
      bulkIdentify(ctx, users, bytes, () => (JSON.parse(text) as { users: JsonObject[] }).users),
    );
  });

  // §2.6 bulk delete: POST with `user_ids`.
  route('bulkDeleteUsers', async (ctx) => {
    const { value } = await readBody(ctx);
    const ids = value['user_ids'] as string[];
    const env = ctx.env;
    strictIds(ctx, ids, 'user_ids');
    return bulkDelete(
      ctx,
      'users.delete',
      () => env.users,
      ids,
      undefined,
      (id) => forgetMemberships(env, id),
    );
  });
}

/** A bulk identify body, validated: its users and their id-rule errors (see {@link checkItems}). */
export interface CheckedUsers {
  users: JsonObject[];
  ruleErrors: Map<number, FieldError>;
}

/**
 * Validates a bulk identify body (§2.5) with knock-wire's schema (`users` present, ≤ 1,000 objects with
 * ids, typed fields), unless the caller already did (`validated`: the route's {@link readBody}, or the
 * fast path's compiled check of the same schema); throws the 422 before anything changes. Then the id
 * rules (switch `validateIds`, see {@link checkItems}).
 * @example const checked = checkBulkIdentify(ctx, { users: [{ id: 'u1' }] })
 */
export function checkBulkIdentify(ctx: JobContext, body: JsonObject, validated = false): CheckedUsers {
  if (!validated) checkWire(KNOCK_ENDPOINTS.bulkIdentifyUsers.body, body);
  const users = body['users'] as JsonObject[];
  return { users, ruleErrors: checkItems(ctx, users, 'users') };
}

/**
 * Enqueues a validated bulk identify and returns the job; `reparse` reads the body's `users` again
 * (needed only if the eager merge is rolled back, eager-apply.ts), `release` says it is no longer needed.
 * @example bulkIdentify(ctx, checked, text.length, () => JSON.parse(text).users)
 */
export function bulkIdentify(
  ctx: JobContext,
  checked: CheckedUsers,
  bytes: number,
  reparse: () => JsonObject[],
  release?: () => void,
): BulkOperationRecord {
  const env = ctx.env;
  return bulkUpsert(ctx, 'users.identify', () => env.users, checked.users, checked.ruleErrors, bytes, undefined, reparse, release);
}

/** Id rules on a list of ids, honouring `bulkItemValidation` (sync → 422). */
export function strictIds(ctx: RouteContext, ids: string[], field: string): void {
  if (!ctx.state.options.switches.validateIds || ctx.state.options.switches.bulkItemValidation !== 'sync') return;
  const errors = ids.flatMap((id, i) => checkId(id, `${field}[${i}]`, true) ?? []);
  if (errors.length) throw KnockHttpError.invalid(errors);
}

function shallowAdd(target: JsonObject | undefined, source: JsonObject | undefined): JsonObject | undefined {
  if (!source) return target;
  const out: JsonObject = { ...(target ?? {}) };
  for (const key in source) if (!(key in out) && isPlainObject(source)) out[key] = structuredClone(source[key]);
  return out;
}
