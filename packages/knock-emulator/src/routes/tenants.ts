import type { RegisterRoute } from '../app-types.js';
import { isPlainObject, type JsonObject } from '../deep-merge.js';
import { TENANTS } from '../environment.js';
import { paginate } from '../paginate.js';
import { tenantJson } from '../recipients.js';
import { checkWire, queryArray, readBody } from '../request-helpers.js';
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

/**
 * Tenants: set, get, delete, list, bulk set, bulk delete (reference §7). Tenants are objects in the
 * `$tenants` collection (https://docs.knock.app/multi-tenancy/overview), so the object routes see them too.
 * @example registerTenantRoutes(route)
 */
export function registerTenantRoutes(route: RegisterRoute): void {
  route('setTenant', async (ctx) => {
    const id = pathId(ctx, 'id');
    return ctx.c.json(tenantJson(await upsertOne(ctx, ctx.env.collection(TENANTS), id, TENANTS)), 200);
  });

  route('getTenant', (ctx) => {
    const id = pathId(ctx, 'id');
    return ctx.c.json(tenantJson(getOrThrow(ctx.env.collection(TENANTS), id)), 200);
  });

  route('deleteTenant', (ctx) => {
    const id = pathId(ctx, 'id');
    return deletedResponse(ctx, deleteRecord(ctx, ctx.env.collection(TENANTS), id));
  });

  // Filters `tenant_id` (exact) and `name` (exact), [SPEC] `listTenants`.
  route('listTenants', (ctx) => {
    const q = ctx.c.req.query();
    const tenantId = q['tenant_id'];
    const name = q['name'];
    const all = [...ctx.env.collection(TENANTS).values()].filter(
      (t) => (tenantId === undefined || t.id === tenantId) && (name === undefined || t.props['name'] === name),
    );
    const page = paginate(all, (t) => t.id, q, ctx.state.options.switches);
    return ctx.c.json({ entries: page.entries.map((t) => tenantJson(t)), page_info: page.page_info }, 200);
  });

  // Items are tenant ids or `TenantRequest` objects ([SPEC] `InlineTenantRequest`).
  route('bulkSetTenants', async (ctx) => {
    const { value, bytes } = await readBody(ctx);
    const tenants = (value['tenants'] as Array<string | JsonObject>).map((t) => (typeof t === 'string' ? { id: t } : t));
    const ruleErrors = checkItems(ctx, tenants, 'tenants');
    const env = ctx.env;
    return bulkResponse(
      ctx,
      bulkUpsert(
        ctx,
        'tenants.set',
        () => env.collection(TENANTS),
        tenants.filter(isPlainObject) as JsonObject[],
        ruleErrors,
        bytes,
        undefined,
      ),
    );
  });

  // §7: ids travel in the query string as `tenant_ids[]`, with no body.
  route('bulkDeleteTenants', (ctx) => {
    const query = { tenant_ids: queryArray(ctx.c, 'tenant_ids') };
    checkWire(ctx.endpoint.query, query);
    const ids = query.tenant_ids!;
    strictIds(ctx, ids, 'tenant_ids');
    const env = ctx.env;
    return bulkDelete(ctx, 'tenants.delete', () => env.collection(TENANTS), ids, undefined);
  });
}
