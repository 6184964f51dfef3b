import { createHash } from 'node:crypto';
import type { KnockRequestBody } from '@syncline/knock-wire';
import { SyncError, type Change, type EndpointCalls, type Operation, type Plan, type PlanContext } from '@syncline/core';
import { encodeId, idProblem } from './encode-id.js';
import { SERVER_OWNED_FIELDS } from './field-catalog.js';
import type { KnockRequest } from './knock-http.js';
import { endpointOf, objectsPath, recipientBody, singleRequest, singleTier, type Action, type Entity } from './knock-request.js';
import type { KnockTarget, KnockTargetFields } from './knock-target.js';
import { limiterRate } from './limiter-rate.js';

/** Knock bulk endpoints and audience member calls take at most 1,000 items (Knock OpenAPI descriptions). */
export const MAX_BATCH = 1_000;

/** `Operation.data` of the Knock destination. */
export type KnockOpData =
  /** One row, one call: identify/set or delete. */
  | { kind: 'single'; entity: Entity; action: Action; request: KnockRequest }
  /** A bulk job (`POST …/bulk/identify|set|delete`), polled until done; `error_items` are retried singly. */
  | { kind: 'bulk'; entity: Entity; action: Action; collection?: string; request: KnockRequest & { body: BulkBody } }
  /** Audience members added (`POST`) or removed (`DELETE` with a body), 204 for the whole call. */
  | {
      kind: 'members';
      action: 'add' | 'remove';
      audience: string;
      createAudience: boolean;
      request: KnockRequest & { body: { members: Member[] } };
      /** Sent first: the old memberships of members whose tenant changed (one membership per row). */
      leave?: KnockRequest & { body: { members: Member[] } };
    };

/** The body of a bulk call, typed from `@syncline/knock-wire`'s schemas of the four bulk endpoints. */
export type BulkBody =
  | KnockRequestBody<'bulkIdentifyUsers'>
  | KnockRequestBody<'bulkSetObjects'>
  | KnockRequestBody<'bulkDeleteUsers'>
  | KnockRequestBody<'bulkDeleteObjects'>;

/** One audience member of an add or remove call (knock-wire `AudienceMemberRequest`). */
export type Member = KnockRequestBody<'addAudienceMembers'>['members'][number];

export interface PlanOptions {
  /** Requests per second of each tier (defaults: Knock's 1/5/60/200/1000). */
  tiers: Record<1 | 2 | 3 | 4 | 5, number>;
  singleOnlySeconds: number;
  /**
   * The destination's `rateSafety`: the split weighs each endpoint at the rate its limiter sends at
   * (`limiterRate`), so both kinds of call end together. Default 1 (the tiers as they are, e.g. Knock's
   * ceiling).
   */
  rateSafety?: number;
}

/**
 * Plans one chunk of changes (pure; also the dry run). Users and objects: `chooseSplit` weighs the run's
 * total of a kind (from `ctx.totals`) as bulk jobs (≤ 1,000 rows, tier 1, each done `singleOnlySeconds`
 * after its POST) against single calls (tier 3, tier 2 for user deletes) and takes the mix that finishes
 * first; each chunk sends that share of its rows as single calls (all of them for a small run).
 * Audiences: member calls of ≤ 1,000. Removals with `onDelete: 'nothing'`, and removals from the model in
 * audience `remove` mode, need no call and are skipped.
 * @example planOperations(changes, { target, totals: { add: 5, change: 0, remove: 0 } }, { tiers, singleOnlySeconds: 1.5 })
 */
export function planOperations(changes: Change[], ctx: PlanContext<KnockTargetFields>, options: PlanOptions): Plan {
  const { target, totals } = ctx;
  const operations: Operation[] = [];
  const skipped: Change[] = [];
  if (target.type === 'audiences') return planAudience(changes, target, operations, skipped);

  const entity: Entity = target.type;
  const collection = entity === 'objects' ? requireCollection(target) : undefined;
  if (target.mode !== 'upsert')
    throw new SyncError('config_invalid', `[knock] ${entity} syncs only support mode "upsert"`, { adapter: 'knock' });
  const upserts: Change[] = [];
  const deletes: Change[] = [];
  for (const c of changes) {
    if (c.action !== 'remove') upserts.push(c);
    else if (target.onDelete === 'delete') deletes.push(c);
    else skipped.push(c);
  }
  const groups: Array<[Action, Change[], number]> = [
    ['upsert', upserts, totals.add + totals.change],
    ['delete', deletes, target.onDelete === 'delete' ? totals.remove : 0],
  ];
  for (const [action, group, total] of groups) {
    if (group.length === 0) continue;
    const share = singleShare(group.length, total, options, entity, action);
    const single: Change[] = [];
    const bulk: Change[] = [];
    group.forEach((c, i) => {
      // Evenly spaced picks give exactly round(n·share) singles; keys that cannot be a path segment go bulk.
      const pick = Math.floor((i + 1) * share) > Math.floor(i * share);
      (pick && encodable(c.key) ? single : bulk).push(c);
    });
    // Bulk jobs first: a run loop that dispatches in order then reserves the tier-1 slot early.
    for (let i = 0; i < bulk.length; i += MAX_BATCH) {
      const batch = bulk.slice(i, i + MAX_BATCH);
      const json = action === 'upsert' ? bulkJson(entity, batch, target) : undefined;
      const request = {
        method: 'POST',
        tier: 1,
        route: endpointOf(entity, action, true, entity === 'users' ? undefined : '{collection}'),
        path: bulkPath(entity, action, collection),
      } as KnockRequest & { body: BulkBody };
      if (json === undefined) request.body = bulkBody(entity, action, batch, target);
      else {
        request.json = json;
        // The POST sends the text; the objects are built only if something reads them (a dry run, retries
        // of error_items, splitting a rejected batch).
        lazyBody(request, () => bulkBody(entity, action, batch, target));
      }
      const data: KnockOpData = { kind: 'bulk', entity, action, ...(collection === undefined ? {} : { collection }), request };
      operations.push({ id: opId('b', batch), endpoint: endpointOf(entity, action, true, collection), tier: 1, changes: batch, data });
    }
    for (const c of single) {
      const body = action === 'upsert' ? recipientBody(c.payload, target.nulls) : {};
      const request = singleRequest(entity, action, c.key, body, collection);
      const data: KnockOpData = { kind: 'single', entity, action, request };
      operations.push({
        id: opId('s', [c]),
        endpoint: endpointOf(entity, action, false, collection),
        tier: request.tier,
        changes: [c],
        data,
      });
    }
  }
  return { operations, skipped };
}

/**
 * The share of a chunk's rows that go as single calls: `chooseSplit` over the run's total of this kind of
 * change, so every chunk of a run splits alike. planOperations and estimateOperations both use it.
 */
function singleShare(chunkRows: number, total: number, options: PlanOptions, entity: Entity, action: Action): number {
  const rows = Math.max(total, chunkRows);
  return chooseSplit(rows, splitRates(options, entity, action)).singles / rows;
}

/**
 * Rates beyond which one process does not get, whatever the tiers allow (`tiers: off`): about what the send
 * bench measured against the emulator without pacing (bench/RESULTS.md, send (b)). They keep the estimate
 * honest when pacing is off, where a 1,000,000/s tier would make every row a single call.
 */
const TRANSPORT_CEILING = { singlePerSecond: 1_000, bulkPerSecond: 20 };

/**
 * What the run loop's own work costs, which no tier lifts: every confirmed row is written to the ledger
 * (bench/ledger.ts measured ~11-12k rows/s of ledger writes on the shared 2-core machine, flat in the
 * snapshot's size; 10,000 leaves room), and every call costs the process about half a millisecond besides
 * its rows (the request, its exchange row in the ledger, the operation's bookkeeping: the send bench's
 * ceiling of ~1,000 single calls/s had the emulator on the same cores taking the other half). When this is
 * the slower side (tiers off: 20 bulk jobs/s carry 20,000 rows/s), extra single calls only lengthen the run.
 */
export const RUN_LOOP_COST = { ledgerRowsPerSecond: 10_000, secondsPerCall: 0.0005 };

/**
 * The rates `chooseSplit` weighs for one kind of change: the tiers as the limiter paces them (`rateSafety`),
 * capped by the transport ceiling, and the run loop's cost. Weighing single calls at the full tier while the
 * limiter sends 97 % of it left a 1M-row first sync's single calls running ~4 s after its last bulk job (the
 * last minute then ran at 92-94 % of the first).
 */
export function splitRates(options: PlanOptions, entity: Entity, action: Action): SplitRates {
  const safety = options.rateSafety ?? 1;
  return {
    singlePerSecond: Math.min(limiterRate(options.tiers[singleTier(entity, action)], safety), TRANSPORT_CEILING.singlePerSecond),
    bulkPerSecond: Math.min(limiterRate(options.tiers[1], safety), TRANSPORT_CEILING.bulkPerSecond),
    bulkLatencySeconds: options.singleOnlySeconds,
    ...RUN_LOOP_COST,
  };
}

/** The rates `chooseSplit` weighs (see `splitRates`); without the run loop's cost, only the transport counts. */
export interface SplitRates {
  singlePerSecond: number;
  bulkPerSecond: number;
  bulkLatencySeconds: number;
  /** Confirmed rows the ledger writes per second, whatever call carried them. */
  ledgerRowsPerSecond?: number;
  /** The process's own time per call (request, exchange record, bookkeeping). */
  secondsPerCall?: number;
}

/** What `chooseSplit` decided for a run's rows of one kind, with the estimates it compared. */
export interface SplitChoice {
  /** Rows sent as single calls (the rest go in bulk jobs of ≤ 1,000). */
  singles: number;
  bulkCalls: number;
  /** Estimated seconds until the last call of the chosen plan is done. */
  seconds: number;
  /** The same estimate for bulk jobs alone. */
  bulkOnlySeconds: number;
}

/**
 * Chooses how many of `rows` go as single calls by the estimated finish time of each plan: `b` bulk jobs
 * finish after (b − 1) / bulkPerSecond + bulkLatencySeconds (the first POST leaves at once; a job is
 * processed after its POST), and `s` single calls after s / singlePerSecond. The run also cannot end
 * before the run loop has done its own work: rows / ledgerRowsPerSecond + calls × secondsPerCall, so a run
 * held back by its ledger (tiers off) gains nothing from single calls, which only add calls. Every b from
 * 0 to ⌈rows / 1,000⌉ is tried; singles are used only when they make the run finish sooner (a tie goes to
 * fewer requests), so a 1 % rerun of 1M rows is ~10 bulk jobs, not 574 single calls besides 22 jobs.
 * @example chooseSplit(10_000, { singlePerSecond: 60, bulkPerSecond: 1, bulkLatencySeconds: 1.5 }) // { singles: 0, bulkCalls: 10, … }
 */
export function chooseSplit(rows: number, rates: SplitRates): SplitChoice {
  const bulkTime = (b: number): number => (b === 0 ? 0 : (b - 1) / rates.bulkPerSecond + rates.bulkLatencySeconds);
  const loopTime = (calls: number): number =>
    (rates.ledgerRowsPerSecond ? rows / rates.ledgerRowsPerSecond : 0) + calls * (rates.secondsPerCall ?? 0);
  const most = Math.ceil(rows / MAX_BATCH);
  const bulkOnlySeconds = Math.max(bulkTime(most), loopTime(most));
  let best: SplitChoice = { singles: 0, bulkCalls: most, seconds: bulkOnlySeconds, bulkOnlySeconds };
  for (let b = most - 1; b >= 0; b--) {
    const singles = rows - b * MAX_BATCH;
    const seconds = Math.max(bulkTime(b), singles / rates.singlePerSecond, loopTime(b + singles));
    // Fewer requests win a tie: each single call is a request (and a row of ledger work) more.
    if (seconds < best.seconds - 1e-9 || (seconds <= best.seconds + 1e-9 && b + singles < best.bulkCalls + best.singles))
      best = { singles, bulkCalls: b, seconds, bulkOnlySeconds };
    // Fewer bulk jobs only add singles from here on once singles (or the calls' own cost) are the slower side.
    if (Math.max(singles / rates.singlePerSecond, loopTime(b + singles)) > bulkOnlySeconds) break;
  }
  return best;
}

function planAudience(changes: Change[], target: KnockTarget, operations: Operation[], skipped: Change[]): Plan {
  const audience = target.audience;
  if (!audience || idProblem(audience))
    throw new SyncError('config_invalid', '[knock] audience syncs need a valid audience key', { adapter: 'knock' });
  if (target.mode !== 'add' && target.mode !== 'remove') {
    throw new SyncError('config_invalid', '[knock] audience syncs support mode "add" or "remove"', { adapter: 'knock' });
  }
  const adds: Change[] = [];
  const removes: Change[] = [];
  for (const c of changes) {
    const inModel = c.action !== 'remove';
    // add: rows in the model are members, rows leaving it are removed. remove: rows in the model are removed.
    if (target.mode === 'add') (inModel ? adds : removes).push(c);
    else if (inModel) removes.push(c);
    else skipped.push(c);
  }
  const path = `/v1/audiences/${encodeId(audience)}/members`;
  const create = target.createAudience === true;
  for (const [action, group] of [
    ['add', adds],
    ['remove', removes],
  ] as const) {
    for (let i = 0; i < group.length; i += MAX_BATCH) {
      const batch = group.slice(i, i + MAX_BATCH);
      const members = batch.map((c) => member(c, target, action));
      // A row whose tenant changed moves its membership: Knock keeps one membership per (user, tenant).
      const moved = action === 'add' ? batch.filter((c) => c.action === 'change' && tenantOf(c.before) !== tenantOf(c.payload)) : [];
      const leave = moved.map((c): Member => ({
        user: { id: c.key },
        ...(tenantOf(c.before) === null ? {} : { tenant: tenantOf(c.before) }),
      }));
      const data: KnockOpData = {
        kind: 'members',
        action,
        audience,
        createAudience: create,
        // https://docs.knock.app/api-reference/audiences/add_members: `create_audience=true` creates a missing audience.
        request: {
          method: action === 'add' ? 'POST' : 'DELETE',
          tier: 3,
          route: `${action === 'add' ? 'POST' : 'DELETE'} /v1/audiences/{key}/members`,
          path: action === 'add' && create ? `${path}?create_audience=true` : path,
          body: { members },
        },
        ...(leave.length
          ? { leave: { method: 'DELETE', tier: 3, route: 'DELETE /v1/audiences/{key}/members', path, body: { members: leave } } }
          : {}),
      };
      operations.push({
        id: opId(action === 'add' ? 'a' : 'r', batch),
        endpoint: `${action === 'add' ? 'POST' : 'DELETE'} /v1/audiences/${encodeId(audience)}/members`,
        tier: 3,
        changes: batch,
        data,
      });
    }
  }
  return { operations, skipped };
}

function member(c: Change, target: KnockTarget, action: 'add' | 'remove'): Member {
  // The `tenant` field is the membership's tenant, not a user property (Knock OpenAPI `AudienceMemberRequest`).
  // A row leaving the model is removed from the membership it was added with (its last confirmed tenant).
  const tenant = (c.action === 'remove' ? c.before : c.payload)?.['tenant'];
  const m: Member = { user: action === 'add' ? { ...recipientBody(c.payload, target.nulls, ['tenant']), id: c.key } : { id: c.key } };
  if (typeof tenant === 'string' || (tenant === null && target.nulls === 'send' && action === 'add')) m.tenant = tenant;
  return m;
}

function tenantOf(payload: Record<string, unknown> | null | undefined): string | null {
  const t = payload?.['tenant'];
  return typeof t === 'string' && t !== '' ? t : null;
}

function bulkPath(entity: Entity, action: Action, collection?: string): string {
  if (entity === 'users') return action === 'upsert' ? '/v1/users/bulk/identify' : '/v1/users/bulk/delete';
  return `${objectsPath(collection!)}/bulk/${action === 'upsert' ? 'set' : 'delete'}`;
}

function bulkBody(entity: Entity, action: Action, batch: Change[], target: KnockTarget): BulkBody {
  if (action === 'delete') return entity === 'users' ? { user_ids: batch.map((c) => c.key) } : { object_ids: batch.map((c) => c.key) };
  const items = batch.map((c) => {
    const item = recipientBody(c.payload, target.nulls) as { id: string } & Record<string, unknown>;
    item.id = c.key; // the key wins over any mapped `id`
    return item;
  });
  return entity === 'users' ? { users: items } : { objects: items };
}

/**
 * The upsert body as JSON text built from the rows' own JSON (`Change.payloadJson`, which core's run loop
 * has: it reads changes as JSON), so the 1,000 rows need not be serialised again. Only when every row is
 * sent as it is: no field to drop (`id`, server-owned, nulls under `nulls: 'skip'`) and no `created_at` to
 * rewrite; otherwise undefined and the body objects are serialised. Most rows are decided from the text
 * alone (`plainText`), so their payload is never parsed (core parses it on first read).
 */
function bulkJson(entity: Entity, batch: Change[], target: KnockTarget): string | undefined {
  // Parts joined once: one flat string, no per-row concatenations kept alive until the POST.
  const parts: string[] = [entity === 'users' ? '{"users":[' : '{"objects":['];
  for (let i = 0; i < batch.length; i++) {
    const c = batch[i]!;
    const json = c.payloadJson;
    if (json === undefined || !sentAsText(json, c, target)) return undefined;
    parts.push(i === 0 ? '{"id":' : ',{"id":', JSON.stringify(c.key), json === '{}' ? '}' : ',', json === '{}' ? '' : json.slice(1));
  }
  parts.push(']}');
  return parts.join('');
}

/** Top-level keys a bulk item never carries as they are: dropped (server-owned) or rewritten (`created_at`). */
const NOT_AS_IS = [...SERVER_OWNED_FIELDS, 'created_at'];

/**
 * Whether a row's payload text can go into a bulk body as it is: a compact JSON object (as DuckDB writes
 * them: `{}` or `{"…`) with no top-level key in `NOT_AS_IS` and, under `nulls: 'skip'`, no top-level null.
 * Exactly what checking the parsed payload decides; the text alone decides it when it certainly holds
 * (`plainText`), else the payload is read.
 */
export function sentAsText(json: string, c: Pick<Change, 'payload'>, target: Pick<KnockTarget, 'nulls'>): boolean {
  if (json.charCodeAt(0) !== 123 || (json.charCodeAt(1) !== 34 && json !== '{}')) return false;
  if (plainText(json, target.nulls === 'send')) return true;
  const payload = c.payload;
  if (!payload) return false;
  for (const k in payload) {
    const v = payload[k];
    if (v === undefined || (v === null && target.nulls !== 'send') || SERVER_OWNED_FIELDS.has(k) || k === 'created_at') return false;
  }
  return true;
}

/**
 * A conservative test on a JSON object's text: true only when no key anywhere in it is one of `NOT_AS_IS`
 * and (unless `nullsKept`) no value anywhere is null. A key decodes to `id` (or another of them, all letters
 * and underscores) only if its text is `"id"` or spells a letter as a `\u` escape; a null value is the
 * literal `null` outside strings. So a text without those substrings has neither; one with them (maybe
 * inside a string, or nested) is left to the exact check.
 */
export function plainText(json: string, nullsKept: boolean): boolean {
  return !(nullsKept ? NOT_PLAIN_NULLS_KEPT : NOT_PLAIN).test(json);
}
// One regular expression per text: 6 `includes` per row cost 0.6-0.8 µs, 8× what this does.
// The argument above holds for keys of letters, digits and underscores only.
const KEYS_TEXT = NOT_AS_IS.map((k) => {
  if (!/^[A-Za-z0-9_]+$/.test(k)) throw new Error(`plainText: key ${k} is not letters, digits and underscores`);
  return k;
}).join('|');
const NOT_PLAIN = new RegExp(`null|\\\\u|"(?:${KEYS_TEXT})"`);
const NOT_PLAIN_NULLS_KEPT = new RegExp(`\\\\u|"(?:${KEYS_TEXT})"`);

/** Defines `request.body` as computed on first read, then kept as a plain property. */
function lazyBody(request: { body: BulkBody }, build: () => BulkBody): void {
  Object.defineProperty(request, 'body', {
    configurable: true,
    enumerable: true,
    get() {
      const body = build();
      Object.defineProperty(request, 'body', { value: body, writable: true, enumerable: true, configurable: true });
      return body;
    },
  });
}

function requireCollection(target: KnockTarget): string {
  if (!target.collection || idProblem(target.collection)) {
    throw new SyncError('config_invalid', '[knock] objects syncs need a valid collection', { adapter: 'knock' });
  }
  return target.collection;
}

function encodable(key: string): boolean {
  try {
    encodeId(key);
    return true;
  } catch {
    return false;
  }
}

/** Unique within a run because every key appears in one change of a run. */
function opId(prefix: string, changes: Change[]): string {
  // The keys, each followed by NUL, hashed in one call: 2,000 `update` calls per bulk operation cost more.
  let text = '';
  for (const c of changes) text += `${c.key}\u0000`;
  return `knock-${prefix}-${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
}

/**
 * The calls `planOperations` makes for chunks of valid changes, from counts alone (a large dry run's
 * estimate). The same arithmetic: users and objects split each chunk's group into ⌊n·share⌋ single calls
 * (the evenly spaced picks) and bulk jobs of ≤ 1,000; audiences send member calls of ≤ 1,000. Valid keys
 * are always encodable, so no pick falls back to bulk.
 * @example estimateOperations([{ upserts: 1000, removes: 0 }], ctx, options) // [{ endpoint: 'POST /v1/users/bulk/identify', calls: 1, … }, …]
 */
export function estimateOperations(
  chunks: { upserts: number; removes: number }[],
  ctx: PlanContext<KnockTargetFields>,
  options: PlanOptions,
): EndpointCalls[] {
  const { target, totals } = ctx;
  const out = new Map<string, EndpointCalls>();
  const add = (endpoint: string, tier: number, calls: number, rows: number): void => {
    if (rows === 0) return;
    const e = out.get(endpoint) ?? { endpoint, tier, calls: 0, rows: 0 };
    e.calls += calls;
    e.rows += rows;
    out.set(endpoint, e);
  };
  if (target.type === 'audiences') {
    const audience = target.audience;
    if (!audience || idProblem(audience))
      throw new SyncError('config_invalid', '[knock] audience syncs need a valid audience key', { adapter: 'knock' });
    const base = `/v1/audiences/${encodeId(audience)}/members`;
    for (const c of chunks) {
      const adds = target.mode === 'add' ? c.upserts : 0;
      const removes = target.mode === 'add' ? c.removes : c.upserts;
      add(`POST ${base}`, 3, Math.ceil(adds / MAX_BATCH), adds);
      add(`DELETE ${base}`, 3, Math.ceil(removes / MAX_BATCH), removes);
    }
    return [...out.values()];
  }
  const entity: Entity = target.type;
  const collection = entity === 'objects' ? requireCollection(target) : undefined;
  if (target.mode !== 'upsert')
    throw new SyncError('config_invalid', `[knock] ${entity} syncs only support mode "upsert"`, { adapter: 'knock' });
  for (const c of chunks) {
    const groups: Array<[Action, number, number]> = [
      ['upsert', c.upserts, totals.add + totals.change],
      ['delete', target.onDelete === 'delete' ? c.removes : 0, target.onDelete === 'delete' ? totals.remove : 0],
    ];
    for (const [action, n, total] of groups) {
      if (n === 0) continue;
      const tier = singleTier(entity, action);
      // planOperations picks evenly spaced rows at this share: exactly ⌊n · share⌋ of a chunk of n.
      const singles = Math.floor(n * singleShare(n, total, options, entity, action));
      add(endpointOf(entity, action, true, collection), 1, Math.ceil((n - singles) / MAX_BATCH), n - singles);
      add(endpointOf(entity, action, false, collection), tier, singles, singles);
    }
  }
  return [...out.values()];
}
