import type { RegisterRoute } from '../app-types.js';
import { bulkOperationJson } from '../bulk-operation.js';
import { KnockHttpError } from '../knock-http-error.js';
import { baseUrl } from '../request-helpers.js';

/**
 * `GET /v1/bulk_operations/{id}` (tier 4, reference §5). Unknown id → 404 `resource_missing`
 * (presumed). Each poll counts towards the `holdPolls` bulk fault.
 * @example registerBulkOperationRoutes(route)
 */
export function registerBulkOperationRoutes(route: RegisterRoute): void {
  route('GET', '/v1/bulk_operations/{id}', 4, (ctx) => {
    const op = ctx.env.bulkOperations.get(ctx.c.req.param('id') ?? '');
    if (!op) throw KnockHttpError.notFound();
    ctx.state.bulk.poll(op);
    const base = ctx.state.options.switches.progressPath === 'absolute' ? baseUrl(ctx.c) : '';
    return ctx.c.json(bulkOperationJson(op, base), 200);
  });
}
