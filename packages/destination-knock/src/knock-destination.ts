import { SyncError, type Destination } from '@syncline/core';
import { knockHashParts, knockSendsRemovals, knockTargetSchema, type KnockTarget, type KnockTargetFields } from './knock-target.js';
import { createApplier } from './apply-operation.js';
import { encodeId } from './encode-id.js';
import { fieldCatalog } from './field-catalog.js';
import { RESUME_LATER, createKnockHttp, type KnockHttp } from './knock-http.js';
import { parseKnockOptions, type KnockOptions } from './knock-options.js';
import { estimateOperations, planOperations } from './plan-operations.js';
import { validRowSql } from './valid-row-sql.js';
import { validateRow } from './validate-row.js';
import { readRecords } from './read-records.js';

/** The Knock destination: the core `Destination` contract, with `check` and `close` always present. */
export type KnockDestination = Destination<KnockTargetFields> &
  AsyncDisposable & {
    check: NonNullable<Destination<KnockTargetFields>['check']>;
    read: NonNullable<Destination<KnockTargetFields>['read']>;
    close(): Promise<void>;
  };

/**
 * The Knock destination: users (upsert, optional delete), objects (upsert within a collection, optional
 * delete) and audience memberships (add/remove), through Knock's v1 API.
 * @example
 * const knock = knockDestination({ apiKey: process.env.KNOCK_API_KEY! });
 * await knock.check?.(target);
 * const { operations } = knock.plan(changes, { target, totals });
 * for (const op of operations) await knock.apply(op, { target });
 */
export function knockDestination(options: KnockOptions): KnockDestination {
  const o = parseKnockOptions(options);
  const http = createKnockHttp(o);
  let management: KnockHttp | undefined;
  const apply = createApplier(http, { ...o.bulk, parallelPosts: o.tiers[1] < 2 ? 1 : 8 });

  return {
    name: 'knock',
    targetSchema: knockTargetSchema,
    sendsRemovals: knockSendsRemovals,
    hashParts: knockHashParts,
    // Audience planners move a member whose tenant changed (the old tenant comes from `before`).
    needsBefore: (target) => target.type === 'audiences',
    fields: (target) => fieldCatalog(target),
    validate: (row, target) => validateRow(row, target),
    read: (keys, target, opts) => readRecords(http, keys, target, opts),
    plan: (changes, ctx) =>
      planOperations(changes, ctx, { tiers: o.tiers, singleOnlySeconds: o.bulk.singleOnlySeconds, rateSafety: o.rateSafety }),
    validSql: (target, row) => validRowSql(target, row),
    estimate: (chunks, ctx) =>
      estimateOperations(chunks, ctx, { tiers: o.tiers, singleOnlySeconds: o.bulk.singleOnlySeconds, rateSafety: o.rateSafety }),
    apply,

    /**
     * Checks the key with one cheap tier-4 read (401/403 → `auth_failed`). Audiences: the members list
     * (`GET /v1/audiences/{key}/members`) answers 404 when the audience is missing; then, with
     * `createAudience`, a service token creates it as a static audience through the Management API, and
     * without one the first add creates it (`?create_audience=true`); without `createAudience` it is
     * `destination_failed`. With `dryRun` (a plan) nothing is created. A connection that fails names the URL,
     * the cause (`ECONNREFUSED`) and a hint.
     */
    async check(target: KnockTarget, opts?: { signal?: AbortSignal; dryRun?: boolean }) {
      const signal = opts?.signal;
      const path =
        target.type === 'audiences' && target.audience
          ? `/v1/audiences/${encodeId(target.audience)}/members`
          : target.type === 'objects' && target.collection
            ? `/v1/objects/${encodeId(target.collection)}?page_size=1`
            : '/v1/users?page_size=1';
      const route =
        target.type === 'audiences'
          ? 'GET /v1/audiences/{key}/members'
          : target.type === 'objects'
            ? 'GET /v1/objects/{collection}'
            : 'GET /v1/users';
      // Three attempts (retry waits of about a second in all), not a run's six: a dead URL fails a plan quickly.
      const r = await http.send({ method: 'GET', path, route, tier: 4, maxAttempts: 3 }, { signal });
      if (r.ok) return;
      // Knock closed this read for longer than we wait: the check cannot tell anything, and the writes (other
      // endpoints, limited separately) will resume later on their own if they are closed too.
      if (r.code === RESUME_LATER) return;
      if (target.type === 'audiences' && r.status === 404) {
        if (!target.createAudience) {
          throw new SyncError('destination_failed', '[knock] the audience does not exist (create it in Knock or set createAudience)', {
            adapter: 'knock',
            details: { audience: target.audience },
          });
        }
        // A plan only looks: the run creates the audience.
        if (o.serviceToken && !opts?.dryRun) await createStaticAudience(target.audience!, signal);
        return;
      }
      if (r.code === 'connection_failed') {
        const url = new URL(o.baseUrl);
        const local = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
        const hint = local ? 'is `syncline emulator` running?' : 'check the base URL (KNOCK_BASE_URL) and the network';
        throw new SyncError(
          'destination_failed',
          `[knock] cannot reach ${url.origin}${url.pathname.replace(/\/$/, '')} (${r.cause}): ${hint}`,
          {
            adapter: 'knock',
            details: { cause: r.cause ?? null },
          },
        );
      }
      throw new SyncError('destination_failed', `[knock] check failed: ${r.message.replace(/^\[knock\] /, '')}`, {
        adapter: 'knock',
        details: { status: r.status },
      });
    },

    async close() {
      await http.close();
      await management?.close();
    },
    async [Symbol.asyncDispose]() {
      await this.close();
    },
  };

  /**
   * Management API `PUT /v1/audiences/{key}?environment=…&commit=true` with `{audience: {type: 'static'}}`
   * (https://docs.knock.app/mapi-reference/audiences/upsert). Only this call carries the service token.
   */
  async function createStaticAudience(audience: string, signal?: AbortSignal): Promise<void> {
    management ??= createKnockHttp(o, { origin: o.managementBaseUrl, token: o.serviceToken! });
    const query = `environment=${encodeURIComponent(o.environment)}&commit=true`;
    const r = await management.send(
      {
        method: 'PUT',
        path: `/v1/audiences/${encodeId(audience)}?${query}`,
        route: 'PUT /v1/audiences/{audience_key}',
        tier: 3,
        body: { audience: { type: 'static', name: audience } },
      },
      { signal },
    );
    if (!r.ok)
      throw new SyncError('destination_failed', `[knock] could not create the audience: ${r.code}`, {
        adapter: 'knock',
        details: { status: r.status },
      });
  }
}
