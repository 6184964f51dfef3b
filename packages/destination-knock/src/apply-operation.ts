import { SyncError, type ApplyContext, type OpOutcome, type Operation, type RowFailure } from '@syncline/core';
import type { KnockTargetFields } from './knock-target.js';
import {
  createBulkCoalescer,
  PlannedItem,
  runBulkJob,
  withBodyText,
  type BulkItem,
  type BulkJobOptions,
  type BulkJobResult,
  type BulkSpec,
} from './bulk-job.js';
import { NOT_SENT, RESUME_LATER, type KnockHttp, type SendContext, type SendFailure } from './knock-http.js';
import type { KnockOpData, Member } from './plan-operations.js';
import { splitRejected } from './split-batch.js';

/**
 * Builds the `apply` of the Knock destination: sends one planned operation and reports per-row outcomes.
 * Single calls confirm their row on 2xx (404 on delete); member calls confirm every member on 204; bulk
 * jobs confirm rows once the BulkOperation completed without them in `error_items`.
 * 401/403 throw `SyncError('auth_failed')`; everything else becomes row failures.
 * @example const apply = createApplier(http, { coalesce: true, parallelPosts: 1, pollIntervalMs: 250, maxPollIntervalMs: 2000, pollTimeoutMs: 600000 });
 */
export function createApplier(http: KnockHttp, options: BulkJobOptions & { coalesce: boolean; parallelPosts: number }) {
  const coalesce = createBulkCoalescer(http, options);

  return async function apply(op: Operation, ctx: ApplyContext<KnockTargetFields>): Promise<OpOutcome> {
    const outcome = await applyOnce(op, ctx);
    // Knock closed an endpoint for longer than we wait: tell the run to stop and resume later.
    if (outcome.failed.some((f) => f.code === RESUME_LATER)) outcome.resumeAfterMs = Math.max(http.blockedMs(), outcome.retryAfterMs ?? 0);
    // Rows whose request never left because the run was stopping are neither confirmed nor failed.
    if (outcome.failed.some((f) => f.code === NOT_SENT)) {
      outcome.notSent = outcome.failed.filter((f) => f.code === NOT_SENT).map((f) => f.key);
      outcome.failed = outcome.failed.filter((f) => f.code !== NOT_SENT);
    }
    return outcome;
  };

  async function applyOnce(op: Operation, ctx: ApplyContext<KnockTargetFields>): Promise<OpOutcome> {
    const data = op.data as KnockOpData | undefined;
    if (!data || typeof data !== 'object' || !('kind' in data)) {
      throw new SyncError('destination_failed', '[knock] operation was not planned by the Knock destination', { adapter: 'knock' });
    }
    const send: SendContext = {
      opId: op.id,
      signal: ctx.signal,
      stop: ctx.stop,
      log: ctx.log,
      onSent: ctx.onSent,
      onRequest: ctx.onRequest,
    };
    const keys = op.changes.map((c) => c.key);

    let leaveRequests = 0;
    if (data.kind === 'members' && data.leave) {
      const left = await http.send(data.leave, send);
      leaveRequests = left.requests;
      if (!left.ok && left.status !== 404) {
        const failed = keys.map((key) => ({
          key,
          code: left.code,
          message: left.message,
          ...(left.status === null ? {} : { status: left.status }),
        }));
        return { ok: [], failed, requests: left.requests };
      }
    }
    if (data.kind === 'single' || data.kind === 'members') {
      const sent = await http.send(data.request, send);
      const r = { ...sent, requests: sent.requests + leaveRequests };
      if (r.ok) return { ok: keys, failed: [], requests: r.requests };
      let code = r.code;
      // Knock answers 404 for a missing audience; removing from one is a no-op, adding needs it to exist.
      if (data.kind === 'members' && r.status === 404) {
        if (data.action === 'remove') return { ok: keys, failed: [], requests: r.requests };
        code = 'audience_missing';
      }
      if (data.kind === 'members' && (r.status === 400 || r.status === 422) && keys.length > 1)
        return splitMembers(data.request, keys, r, send);
      const failed: RowFailure[] = keys.map((key) => ({
        key,
        code,
        message: r.message,
        ...(r.status === null ? {} : { status: r.status }),
        ...doubt(code, r.inDoubt),
      }));
      return { ok: [], failed, requests: r.requests, ...(r.retryAfterMs === undefined ? {} : { retryAfterMs: r.retryAfterMs }) };
    }

    const spec: BulkSpec = {
      entity: data.entity,
      action: data.action,
      collection: data.collection,
      path: data.request.path,
      route: data.request.route,
    };
    // With the planned body text, the body objects are read only if a row must be sent again (PlannedItem).
    const json = data.request.json;
    const items =
      json === undefined
        ? bulkItems(data.request.body as Record<string, unknown[]>, keys)
        : withBodyText(
            keys.map((key, i) => new PlannedItem(key, data.request, i)),
            json,
          );
    const result: BulkJobResult = options.coalesce
      ? await coalesce(spec, items, send)
      : await runBulkJob(http, spec, items, send, options, undefined, ctx.onSent);
    const ok: string[] = [];
    const failed: RowFailure[] = [];
    for (const key of keys) {
      const r = result.results.get(key);
      if (r?.ok) ok.push(key);
      else
        failed.push(
          r
            ? {
                key,
                code: r.code,
                message: r.message,
                ...(r.status === undefined ? {} : { status: r.status }),
                ...doubt(r.code, r.inDoubt),
              }
            : { key, code: 'unknown', message: '[knock] no outcome', inDoubt: true },
        );
    }
    return { ok, failed, requests: result.requests, ...(result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs }) };
  }

  /**
   * A member call Knock rejected as a whole (400/422, no member named): split it to isolate the bad members
   * (split-batch.ts); the good ones are added or removed, the bad ones fail with Knock's reason.
   */
  async function splitMembers(
    request: Extract<KnockOpData, { kind: 'members' }>['request'],
    keys: string[],
    rejected: SendFailure,
    send: SendContext,
  ): Promise<OpOutcome> {
    const items = request.body.members.map((member, i) => ({ key: keys[i]!, member }));
    const ok: string[] = [];
    let requests = rejected.requests;
    let retryAfterMs: number | undefined;
    const removal = request.method === 'DELETE';
    const split = await splitRejected<{ key: string; member: Member }, SendFailure>(items, rejected, async (part) => {
      const r = await http.send({ ...request, body: { members: part.map((p) => p.member) } }, send);
      requests += r.requests;
      // Removing from a missing audience is a no-op (see above).
      if (r.ok || (removal && r.status === 404)) {
        ok.push(...part.map((p) => p.key));
        return { ok: true };
      }
      if (r.retryAfterMs !== undefined) retryAfterMs = r.retryAfterMs;
      return { ok: false, rejected: r.status === 400 || r.status === 422, failure: r };
    });
    const failed = [...split.bad, ...split.unsent].map(({ item, failure: f }): RowFailure => ({
      key: item.key,
      code: f.code,
      message: f.message,
      ...(f.status === null ? {} : { status: f.status }),
      ...doubt(f.code, f.inDoubt),
    }));
    return { ok, failed, requests, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  }
}

function bulkItems(body: Record<string, unknown[]>, keys: string[]): BulkItem[] {
  const list = (body.users ?? body.objects ?? body.user_ids ?? body.object_ids ?? []) as BulkItem['item'][];
  return list.map((item, i) => ({ key: keys[i]!, item }));
}

/**
 * Failures after which Knock may hold the row anyway: the request left but no clear answer came back (a
 * dropped connection, a body that is not JSON, a bulk job still processing). Core keeps these rows in
 * doubt and resends them whatever the model says next (5xx and 408 statuses count as in doubt in core).
 */
const IN_DOUBT = new Set(['connection_failed', 'invalid_response', 'bulk_timeout', 'unknown']);
const doubt = (code: string, inDoubt?: boolean): { inDoubt?: true } => (inDoubt || IN_DOUBT.has(code) ? { inDoubt: true } : {});
