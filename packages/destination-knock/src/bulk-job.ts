import { sleep } from '@syncline/core';
import { BulkOperation } from '@syncline/knock-wire';
import type { z } from 'zod';
import { BreakerOpenError } from './circuit-breaker.js';
import {
  RESUME_LATER,
  RESUME_LATER_MESSAGE,
  NOT_SENT,
  type KnockHttp,
  type Reservation,
  type SendContext,
  type SendFailure,
  type SendResult,
} from './knock-http.js';
import { singleRequest, type Action, type Entity } from './knock-request.js';
import { MAX_BATCH } from './plan-operations.js';
import { createPollPace, type PollPace } from './poll-pace.js';
import { splitRejected } from './split-batch.js';

/** Outcome of one row. */
export type RowResult = { ok: true } | { ok: false; code: string; message: string; status?: number; inDoubt?: boolean };

const OK: RowResult = Object.freeze({ ok: true });

/** One item of a bulk body: a recipient object with `id` (identify/set) or an id string (delete). */
export interface BulkItem {
  key: string;
  item: ({ id: string } & Record<string, unknown>) | string;
}

export interface BulkSpec {
  entity: Entity;
  action: Action;
  collection?: string | undefined;
  path: string;
  /** Endpoint template, for the rate limiter. */
  route: string;
}

export interface BulkJobOptions {
  pollIntervalMs: number;
  maxPollIntervalMs: number;
  pollTimeoutMs: number;
}

export interface BulkJobResult {
  results: Map<string, RowResult>;
  requests: number;
  retryAfterMs?: number;
}

/** One poll pace per transport (so per destination): jobs of one Knock environment take similar times. */
const paces = new WeakMap<KnockHttp, PollPace>();
const paceOf = (http: KnockHttp, options: BulkJobOptions): PollPace => {
  let pace = paces.get(http);
  if (!pace) paces.set(http, (pace = createPollPace(options)));
  return pace;
};

/**
 * Knock's `BulkOperation` as `@syncline/knock-wire` describes it, narrowed to the members we read: a
 * field we do not use (e.g. a relative `progress_path`) must not fail a job Knock ran.
 */
const BulkOperationRead = BulkOperation.pick({ id: true, status: true, error_items: true });
type BulkOperationRead = z.infer<typeof BulkOperationRead>;

/** A response body as the BulkOperation we read, or undefined when it is not one. */
const readOperation = (body: unknown): BulkOperationRead | undefined => {
  const parsed = BulkOperationRead.safeParse(body);
  return parsed.success ? parsed.data : undefined;
};

const notAnOperation = (requests: number, status: number | null): SendFailure => ({
  ok: false,
  status,
  code: 'invalid_response',
  message: '[knock] bulk endpoint did not return a BulkOperation',
  requests,
});

const rowFailure = (r: SendFailure, code = r.code): RowResult => ({
  ok: false,
  code,
  message: r.message,
  ...(r.status === null ? {} : { status: r.status }),
  ...(r.inDoubt ? { inDoubt: true } : {}),
});

/**
 * Runs one bulk job: POST, then poll `GET /v1/bulk_operations/{id}` (tier 4) until `completed`/`failed`
 * (https://docs.knock.app/api-reference/bulk_operations). A completed job confirms every row not in
 * `error_items`; those ids carry no reason, so each is retried once with the single endpoint to get one
 * (knock-api.md §5). A bulk request rejected as a whole (400/422) is split to isolate its bad rows
 * (split-batch.ts): each part is a bulk job of its own, and the bad rows fail with Knock's reason.
 * @example await runBulkJob(http, { entity: 'users', action: 'upsert', path: '/v1/users/bulk/identify' }, items, ctx, opts)
 */
export async function runBulkJob(
  http: KnockHttp,
  spec: BulkSpec,
  items: BulkItem[],
  ctx: SendContext,
  options: BulkJobOptions,
  reservation?: Reservation,
  posted?: () => void,
): Promise<BulkJobResult> {
  const first = await bulkJob(http, spec, items, ctx, options, reservation, posted);
  if (!('refused' in first)) return first;
  const refused = first.refused;
  const results = new Map<string, RowResult>();
  if (!isRejection(refused)) {
    for (const { key } of items) results.set(key, rowFailure(refused));
    return { results, requests: first.requests, ...(refused.retryAfterMs === undefined ? {} : { retryAfterMs: refused.retryAfterMs }) };
  }
  let requests = first.requests;
  let retryAfterMs: number | undefined;
  // A part whose POST was accepted is polled in the background: the split goes on with the next part.
  const polling: Promise<void>[] = [];
  const split = await splitRejected<BulkItem, SendFailure>(items, refused, async (part) => {
    let answered!: (accepted: boolean) => void;
    const accepted = new Promise<boolean>((r) => (answered = r));
    const job = bulkJob(http, spec, part, ctx, options, undefined, answered);
    const merged = job.then((r) => {
      requests += r.requests;
      if ('refused' in r) return;
      for (const [key, result] of r.results) results.set(key, result);
      if (r.retryAfterMs !== undefined) retryAfterMs = r.retryAfterMs;
    });
    merged.catch(() => undefined); // awaited below or in `polling`; a rejection still reaches the caller there
    if (await Promise.race([accepted, job.then(() => false)])) {
      polling.push(merged);
      return { ok: true };
    }
    const r = await job;
    await merged;
    if (!('refused' in r)) return { ok: true };
    if (r.refused.retryAfterMs !== undefined) retryAfterMs = r.refused.retryAfterMs;
    return { ok: false, rejected: isRejection(r.refused), failure: r.refused };
  });
  await Promise.all(polling);
  for (const { item, failure } of [...split.bad, ...split.unsent]) results.set(item.key, rowFailure(failure));
  return { results, requests, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
}

/** Knock refused the request as a whole for its content (some item is bad), not for a transient reason. */
const isRejection = (r: SendFailure): boolean => r.status === 400 || r.status === 422;

/** One bulk job; a POST that Knock did not accept comes back as `refused` (the caller splits or fails it). */
async function bulkJob(
  http: KnockHttp,
  spec: BulkSpec,
  items: BulkItem[],
  ctx: SendContext,
  options: BulkJobOptions,
  reservation?: Reservation,
  /** Called once the POST was answered: `true` when Knock accepted the job. */
  posted?: (accepted: boolean) => void,
): Promise<BulkJobResult | { refused: SendFailure; requests: number }> {
  const results = new Map<string, RowResult>();
  let requests = 0;
  const failAll = (r: SendFailure, code = r.code): BulkJobResult => {
    for (const { key } of items) results.set(key, rowFailure(r, code));
    return { results, requests, ...(r.retryAfterMs === undefined ? {} : { retryAfterMs: r.retryAfterMs }) };
  };

  let res: SendResult | undefined;
  try {
    const json = bodyTexts.get(items);
    res = await http.send(
      { method: 'POST', path: spec.path, route: spec.route, tier: 1, ...(json === undefined ? { body: bulkBody(spec, items) } : { json }) },
      ctx,
      reservation,
    );
  } finally {
    posted?.(res?.ok === true);
  }
  requests += res.requests;
  if (!res.ok) return { refused: res, requests };
  let op = readOperation(res.body);
  if (!op) return failAll(notAnOperation(requests, res.status));
  const answeredAt = performance.now();
  const deadline = answeredAt + options.pollTimeoutMs;
  // The first poll comes about when this endpoint's jobs have been taking (poll-pace.ts); then every
  // pollIntervalMs, growing by half up to maxPollIntervalMs.
  const pace = paceOf(http, options);
  let interval = options.pollIntervalMs;
  let wait = pace.first(spec.route);
  let polls = 0;
  let polledAt = answeredAt;
  while (op.status === 'queued' || op.status === 'processing') {
    if (performance.now() + wait > deadline) {
      return failAll({
        ok: false,
        status: null,
        code: 'bulk_timeout',
        message: '[knock] bulk operation still processing at pollTimeoutMs',
        requests,
      });
    }
    await sleep(wait, ctx.signal);
    if (wait === interval) interval = Math.min(options.maxPollIntervalMs, Math.ceil(interval * 1.5));
    // A job posted before any of the endpoint's jobs was seen done is polled again when they take (once known).
    wait = Math.max(interval, pace.first(spec.route) - (performance.now() - answeredAt));
    polls += 1;
    polledAt = performance.now();
    const poll = await http.send(
      { method: 'GET', path: `/v1/bulk_operations/${encodeURIComponent(op.id)}`, route: 'GET /v1/bulk_operations/{id}', tier: 4 },
      // A poll belongs to a job already sent: a stopping run still waits for its confirmation.
      { ...ctx, stop: undefined },
    );
    requests += poll.requests;
    if (!poll.ok) return failAll(poll, poll.code === 'resource_missing' ? 'bulk_operation_missing' : poll.code);
    op = readOperation(poll.body);
    if (!op) return failAll(notAnOperation(requests, poll.status));
  }
  if (op.status !== 'completed') {
    return failAll({ ok: false, status: null, code: 'bulk_operation_failed', message: '[knock] bulk operation failed', requests });
  }
  if (polls > 0) pace.done(spec.route, polledAt - answeredAt, polls > 1);
  const errored = new Set<string>();
  for (const e of op.error_items ?? []) {
    if (spec.collection === undefined || e.collection == null || e.collection === spec.collection) errored.add(e.id);
  }
  const retry: BulkItem[] = [];
  for (const it of items) {
    if (errored.has(it.key)) retry.push(it);
    else results.set(it.key, OK);
  }
  if (retry.length > 0) requests += await retrySingly(http, spec, retry, results, ctx);
  return { results, requests };
}

/** Retries items one by one (the limiter paces them) and records each result; returns requests made. */
async function retrySingly(
  http: KnockHttp,
  spec: BulkSpec,
  items: BulkItem[],
  results: Map<string, RowResult>,
  ctx: SendContext,
): Promise<number> {
  let requests = 0;
  await Promise.all(
    items.map(async ({ key, item }) => {
      let request;
      try {
        const body = typeof item === 'string' ? {} : withoutId(item);
        request = singleRequest(spec.entity, spec.action, key, body, spec.collection);
      } catch {
        results.set(key, { ok: false, code: 'invalid_id', message: '[knock] id cannot be used in a path' });
        return;
      }
      const r = await http.send(request, ctx);
      requests += r.requests;
      results.set(key, r.ok ? OK : rowFailure(r));
    }),
  );
  return requests;
}

function withoutId(item: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, ...rest } = item;
  return rest;
}

/**
 * Bodies already serialised by the planner (`KnockRequest.json`), by the exact item list they hold: a job
 * that sends that list as a whole (one operation, the usual case) posts the text as is; a merged or split
 * list is serialised from its items.
 */
const bodyTexts = new WeakMap<BulkItem[], string>();

/**
 * An item of an operation whose body the planner serialised: its recipient object is read from the
 * planned body (built on first read) only when needed, e.g. to send the row again on its own.
 */
export class PlannedItem implements BulkItem {
  readonly key: string;
  readonly #request: { body: unknown };
  readonly #index: number;
  constructor(key: string, request: { body: unknown }, index: number) {
    this.key = key;
    this.#request = request;
    this.#index = index;
  }
  get item(): BulkItem['item'] {
    const body = this.#request.body as Record<string, BulkItem['item'][] | undefined>;
    return (body.users ?? body.objects ?? body.user_ids ?? body.object_ids)![this.#index]!;
  }
}

/** Records that `items` serialise to `json` (the planner's body text of one operation). */
export function withBodyText(items: BulkItem[], json: string | undefined): BulkItem[] {
  if (json !== undefined) bodyTexts.set(items, json);
  return items;
}

function bulkBody(spec: BulkSpec, items: BulkItem[]): unknown {
  const list = items.map((i) => i.item);
  if (spec.action === 'delete') return spec.entity === 'users' ? { user_ids: list } : { object_ids: list };
  return spec.entity === 'users' ? { users: list } : { objects: list };
}

interface Waiting {
  items: BulkItem[];
  ctx: SendContext;
  resolve: (r: BulkJobResult) => void;
  reject: (e: unknown) => void;
  results: Map<string, RowResult>;
  requests: number;
  retryAfterMs?: number;
  left: number;
  /** Items not yet posted; at 0 the operation's `onSent` fires. */
  unposted: number;
}

/** Items `w.items[from…]` of one operation, waiting in a coalescer queue (one entry per operation, not per row). */
interface Queued {
  w: Waiting;
  from: number;
}

/** Part `w.items[from, to)` of one operation in a job. */
interface Part {
  w: Waiting;
  from: number;
  to: number;
}

/** Settles the queued rows of every operation with one result (the endpoint is closed, or Knock kept failing). */
function settleQueued(queued: Queued[], result: RowResult, retryAfterMs?: number): void {
  for (const { w, from } of queued) {
    for (let i = from; i < w.items.length; i++) w.results.set(w.items[i]!.key, result);
    if (retryAfterMs !== undefined) w.retryAfterMs = retryAfterMs;
    w.left -= w.items.length - from;
    if (w.left === 0)
      w.resolve({ results: w.results, requests: w.requests, ...(w.retryAfterMs === undefined ? {} : { retryAfterMs: w.retryAfterMs }) });
  }
}

/** Takes up to `max` queued rows, whole operations first-come first-served (an operation may be split). */
function takeBatch(queue: Queued[], max: number): { parts: Part[]; items: BulkItem[] } {
  const parts: Part[] = [];
  let n = 0;
  while (n < max && queue.length > 0) {
    const head = queue[0]!;
    const to = Math.min(head.w.items.length, head.from + max - n);
    parts.push({ w: head.w, from: head.from, to });
    n += to - head.from;
    if (to === head.w.items.length) queue.shift();
    else head.from = to;
  }
  const only = parts.length === 1 ? parts[0]! : undefined;
  // One whole operation (the usual case) is sent as is; otherwise the parts are copied into one list.
  const items =
    only && only.from === 0 && only.to === only.w.items.length ? only.w.items : parts.flatMap((p) => p.w.items.slice(p.from, p.to));
  return { parts, items };
}

/**
 * Merges the bulk items of operations applied at the same time into full jobs of 1,000, one POST at a
 * time per endpoint. Bulk endpoints allow 1 request/s (tier 1), so a chunk split between bulk and single
 * calls would otherwise waste the rest of each bulk request.
 * @example const coalesce = createBulkCoalescer(http, opts); await coalesce(spec, items, ctx)
 */
export function createBulkCoalescer(http: KnockHttp, options: BulkJobOptions & { parallelPosts: number }) {
  const queues = new Map<string, { spec: BulkSpec; queue: Queued[]; pumping: boolean }>();

  async function pump(key: string): Promise<void> {
    const q = queues.get(key)!;
    q.pumping = true;
    const inflight = new Set<Promise<void>>();
    // Let every operation started in this turn enqueue first.
    await new Promise((r) => setImmediate(r));
    while (q.queue.length > 0) {
      const blocked = http.blockedMs(q.spec.route);
      if (blocked > 0) {
        // Knock closed this endpoint for longer than we wait: what is queued fails now and is sent next run.
        settleQueued(q.queue.splice(0, q.queue.length), { ok: false, code: RESUME_LATER, message: RESUME_LATER_MESSAGE }, blocked);
        continue;
      }
      // The run is stopping: what is queued has not left and is not sent (the next run sends it).
      const { signal, stop } = q.queue[0]!.w.ctx;
      const stopped = (): boolean => stop?.aborted === true && signal?.aborted !== true;
      if (stopped()) {
        settleQueued(q.queue.splice(0, q.queue.length), { ok: false, code: NOT_SENT, message: '[knock] not sent: the run was stopping' });
        continue;
      }
      // Take the tier-1 slot first, then fill the job with everything queued by then.
      let reservation: Reservation;
      try {
        reservation = await http.reserve(
          { route: q.spec.route, tier: 1 },
          stop ? AbortSignal.any(signal ? [signal, stop] : [stop]) : signal,
        );
      } catch (e) {
        if (stopped()) continue;
        const failed = q.queue.splice(0, q.queue.length);
        if (e instanceof BreakerOpenError) {
          // Knock kept failing: these rows fail (and are sent next run); the run itself goes on.
          const message = `[knock] Knock kept failing; gave up after waiting ${Math.round(e.waitedMs / 1000)} s for it to recover`;
          settleQueued(failed, { ok: false, code: 'circuit_open', message });
        } else for (const { w } of failed) w.reject(e);
        continue;
      }
      const { parts, items } = takeBatch(q.queue, MAX_BATCH);
      const owners = parts.map((p) => p.w); // an operation is in a job at most once
      const first = owners[0]!;
      let posted!: () => void;
      const postedP = new Promise<void>((r) => (posted = r));
      const job = runBulkJob(http, q.spec, items, first.ctx, options, reservation, posted);
      inflight.add(postedP);
      void postedP.then(() => {
        inflight.delete(postedP);
        for (const p of parts) if ((p.w.unposted -= p.to - p.from) === 0) p.w.ctx.onSent?.();
      });
      job.then(
        (r) => {
          if (items === first.items && first.results.size === 0) {
            // The job held exactly this operation's rows (the usual case): its results are the operation's.
            first.results = r.results;
            first.left = 0;
          } else
            for (const { w, from, to } of parts) {
              for (let i = from; i < to; i++) {
                const { key } = w.items[i]!;
                w.results.set(key, r.results.get(key)!);
              }
              w.left -= to - from;
            }
          first.requests += r.requests;
          for (const w of owners) {
            if (r.retryAfterMs !== undefined) w.retryAfterMs = r.retryAfterMs;
            if (w.left === 0)
              w.resolve({
                results: w.results,
                requests: w.requests,
                ...(w.retryAfterMs === undefined ? {} : { retryAfterMs: w.retryAfterMs }),
              });
          }
        },
        (e: unknown) => {
          for (const w of owners) w.reject(e);
        },
      );
      // At 1 request/s the next POST waits for this one's answer (see knock-http); with faster tiers a few
      // POSTs overlap. Polls always run on concurrently.
      while (inflight.size >= options.parallelPosts) await Promise.race([...inflight, job.catch(() => undefined)]);
    }
    q.pumping = false;
  }

  return function coalesce(spec: BulkSpec, items: BulkItem[], ctx: SendContext): Promise<BulkJobResult> {
    return new Promise((resolve, reject) => {
      if (items.length === 0) return resolve({ results: new Map(), requests: 0 });
      const key = `${spec.path}`;
      let q = queues.get(key);
      if (!q) queues.set(key, (q = { spec, queue: [], pumping: false }));
      const w: Waiting = { items, ctx, resolve, reject, results: new Map(), requests: 0, left: items.length, unposted: items.length };
      q.queue.push({ w, from: 0 });
      if (!q.pumping) void pump(key);
    });
  };
}
