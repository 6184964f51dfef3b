import type { RegisterRoute, RouteContext } from '../app-types.js';
import type { JsonObject } from '../deep-merge.js';
import { paginate } from '../paginate.js';
import { objectJson } from '../recipients.js';
import { queryArray, readBody } from '../request-helpers.js';
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
} from './recipient-helpers.js';
import { strictIds } from './users.js';

/** Path `{collection}`: the id rules are assumed for collections too (reference §3.5, UNCONFIRMED). */
function collectionOf(ctx: RouteContext): string {
  return pathId(ctx, 'collection');
}

/**
 * Objects: set, get, list, delete, bulk set, bulk delete (reference §3). Properties are nested under
 * `properties` in responses.
 * @example registerObjectRoutes(route)
 */
export function registerObjectRoutes(route: RegisterRoute): void {
  route('setObject', async (ctx) => {
    const collection = collectionOf(ctx);
    const id = pathId(ctx, 'id');
    return ctx.c.json(objectJson(await upsertOne(ctx, ctx.env.collection(collection), id, collection)), 200);
  });

  route('getObject', (ctx) => {
    const collection = collectionOf(ctx);
    const id = pathId(ctx, 'id');
    return ctx.c.json(objectJson(getOrThrow(ctx.env.collection(collection), id)), 200);
  });

  route('deleteObject', (ctx) => {
    const collection = collectionOf(ctx);
    const id = pathId(ctx, 'id');
    return deletedResponse(ctx, deleteRecord(ctx, ctx.env.collection(collection), id));
  });

  route('listObjects', (ctx) => {
    const collection = collectionOf(ctx);
    const include = queryArray(ctx.c, 'include') ?? [];
    const page = paginate(ctx.env.collection(collection).values(), (o) => o.id, ctx.c.req.query(), ctx.state.options.switches);
    const withPreferences = include.includes('preferences');
    return ctx.c.json({ entries: page.entries.map((o) => objectJson(o, withPreferences)), page_info: page.page_info }, 200);
  });

  // §3.3 bulk set: ≤ 1,000 objects, async.
  route('bulkSetObjects', async (ctx) => {
    const collection = collectionOf(ctx);
    const { value, bytes, text } = await readBody(ctx);
    const objects = value['objects'] as JsonObject[];
    const ruleErrors = checkItems(ctx, objects, 'objects');
    const env = ctx.env;
    const reparse = () => (JSON.parse(text) as { objects: JsonObject[] }).objects;
    return bulkResponse(
      ctx,
      bulkUpsert(ctx, 'objects.set', () => env.collection(collection), objects as JsonObject[], ruleErrors, bytes, collection, reparse),
    );
  });

  // §3.4 bulk delete: the limit is not stated; 1,000 assumed (UNCONFIRMED).
  route('bulkDeleteObjects', async (ctx) => {
    const collection = collectionOf(ctx);
    const { value } = await readBody(ctx);
    const ids = value['object_ids'] as string[];
    strictIds(ctx, ids, 'object_ids');
    const env = ctx.env;
    return bulkDelete(ctx, 'objects.delete', () => env.collection(collection), ids, collection);
  });
}
