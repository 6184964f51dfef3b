import type { RegisterRoute } from '../app-types.js';
import { bulkOperationJson, type BulkOperationRecord } from '../bulk-operation.js';
import { KnockHttpError } from '../knock-http-error.js';
import { baseUrl } from '../request-helpers.js';
import type { JobContext } from './recipient-helpers.js';

/**
 * `GET /v1/bulk_operations/{id}` (tier 4, reference §5). Unknown id → 404 `resource_missing`
 * (presumed). Each poll counts towards the `holdPolls` bulk fault.
 * @example registerBulkOperationRoutes(route)
 */
export function registerBulkOperationRoutes(route: RegisterRoute): void {
  route('getBulkOperation', (ctx) => {
    const op = pollBulkOperation(ctx, ctx.c.req.param('id') ?? '');
    if (!op) throw KnockHttpError.notFound();
    const base = ctx.state.options.switches.progressPath === 'absolute' ? baseUrl(ctx.c) : '';
    return ctx.c.json(bulkOperationJson(op, base), 200);
  });
}

/**
 * The job a poll asks for, the poll counted towards `holdPolls` (and completing a due job); undefined
 * for an unknown id. Shared by the route and fast-path.ts.
 * @example const op = pollBulkOperation(ctx, id)
 */
export function pollBulkOperation(ctx: JobContext, id: string): BulkOperationRecord | undefined {
  const op = ctx.env.bulkOperations.get(id);
  if (op) ctx.state.bulk.poll(op);
  return op;
}
