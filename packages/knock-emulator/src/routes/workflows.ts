import { randomUUID } from 'node:crypto';
import type { RegisterRoute, RouteContext } from '../app-types.js';
import { isPlainObject, type JsonObject } from '../deep-merge.js';
import { TENANTS } from '../environment.js';
import { KnockHttpError } from '../knock-http-error.js';
import { upsertRecipient } from '../recipients.js';
import { readBody } from '../request-helpers.js';

/** Idempotency-Key replays last 24 h ([OVR] "Idempotent requests", reference §1.4). */
const REPLAY_MS = 24 * 60 * 60 * 1000;

/** Inline identification of recipients, actor and tenant (objects carry `collection`). */
function identifyInline(ctx: RouteContext, body: JsonObject): void {
  const now = new Date().toISOString();
  const dropNulls = ctx.state.options.switches.nullProperties === 'drop';
  const upsert = (r: unknown): void => {
    if (!isPlainObject(r) || typeof r['id'] !== 'string') return;
    const collection = r['collection'];
    const map = typeof collection === 'string' ? ctx.env.collection(collection) : ctx.env.users;
    const rest = { ...r };
    delete rest['collection'];
    upsertRecipient(map, r['id'], rest, { now, dropNulls, inputBytes: 0, ...(typeof collection === 'string' ? { collection } : {}) });
  };
  for (const r of body['recipients'] as unknown[]) upsert(r);
  upsert(body['actor']);
  const tenant = body['tenant'];
  const tenants = ctx.env.collection(TENANTS);
  // An unknown tenant id on a trigger creates a stub tenant (https://docs.knock.app/multi-tenancy/overview).
  if (typeof tenant === 'string' && !tenants.has(tenant))
    upsertRecipient(tenants, tenant, {}, { now, dropNulls, inputBytes: 0, collection: TENANTS });
  if (isPlainObject(tenant) && typeof tenant['id'] === 'string')
    upsertRecipient(tenants, tenant['id'], tenant, { now, dropNulls, inputBytes: 0, collection: TENANTS });
}

/**
 * `POST /v1/workflows/{key}/trigger` (tier 5): the only endpoint that honours `Idempotency-Key`
 * (reference §1.4). A 2xx is cached per environment for 24 h and replayed with
 * `idempotent-replayed: true` and `original-x-request-id`; errors are not cached.
 * @example registerWorkflowRoutes(route)
 */
export function registerWorkflowRoutes(route: RegisterRoute): void {
  route('triggerWorkflow', async (ctx) => {
    const { c, env } = ctx;
    const workflow = c.req.param('key') ?? '';
    const idempotencyKey = c.req.header('idempotency-key');
    const text = await c.req.text();
    if (idempotencyKey !== undefined) {
      if (idempotencyKey.length > 255) {
        throw KnockHttpError.invalid([{ field: 'Idempotency-Key', message: 'should be at most 255 character(s)', type: 'length' }]);
      }
      const cached = env.idempotency.get(idempotencyKey);
      if (cached && Date.now() - cached.at < REPLAY_MS) {
        if (cached.requestText !== text && ctx.state.options.switches.idempotencyMismatch === 'error') {
          throw new KnockHttpError({
            code: 'idempotency_key_reused',
            message: 'This Idempotency-Key was used with different request parameters',
            status: 400,
            type: 'invalid_request_error',
          });
        }
        c.header('idempotent-replayed', 'true');
        c.header('original-x-request-id', cached.requestId);
        return c.body(cached.bodyText, cached.status as 200, { 'content-type': 'application/json' });
      }
    }
    // Recipients required, at most 1,000 (knock-wire `TriggerWorkflowRequest`).
    const { value } = await readBody(ctx);
    identifyInline(ctx, value);
    const runId = randomUUID();
    env.triggers.push({ workflow, workflow_run_id: runId, at: new Date().toISOString(), body: value });
    const bodyText = JSON.stringify({ workflow_run_id: runId });
    if (idempotencyKey !== undefined) {
      env.idempotency.set(idempotencyKey, { at: Date.now(), bodyText, status: 200, requestId: c.get('requestId'), requestText: text });
    }
    ctx.state.onChange();
    return c.body(bodyText, 200, { 'content-type': 'application/json' });
  });
}
