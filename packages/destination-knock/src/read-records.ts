import { SyncError } from '@syncline/core';
import { encodeId } from './encode-id.js';
import type { KnockHttp } from './knock-http.js';
import { type KnockTarget } from './knock-target.js';

/** Reads at once: tier 4 allows 200 req/s, and the rate limiter paces them anyway. */
const PARALLEL = 8;

/**
 * Knock's current records for `keys`: users (`GET /v1/users/{id}`), objects (`GET /v1/objects/{collection}/{id}`),
 * or audience members (one `GET /v1/audiences/{key}/members`: the member's user plus its `tenant`). A 404
 * gives `null`. Every read goes through the destination's rate limiter and retry policy (`http.send`).
 * @example const now = await readRecords(http, ['u_1'], { type: 'users', ... })
 */
export async function readRecords(
  http: KnockHttp,
  keys: string[],
  target: KnockTarget,
  opts: { signal?: AbortSignal } = {},
): Promise<Map<string, Record<string, unknown> | null>> {
  const out = new Map<string, Record<string, unknown> | null>();
  const fail = (status: number | null, code: string): never => {
    throw new SyncError('destination_failed', `[knock] reading current records failed: ${status ?? code}`, {
      adapter: 'knock',
      details: { status },
    });
  };
  if (target.type === 'audiences') {
    const r = await http.send(
      {
        method: 'GET',
        path: `/v1/audiences/${encodeId(target.audience!)}/members`,
        route: 'GET /v1/audiences/{key}/members',
        tier: 4,
        okStatuses: [404],
      },
      { signal: opts.signal },
    );
    if (!r.ok) return fail(r.status, r.code);
    const entries = (r.status === 404 ? [] : ((r.body as { entries?: unknown[] }).entries ?? [])) as {
      user_id: string;
      user?: Record<string, unknown>;
      tenant?: string | null;
    }[];
    const members = new Map(entries.map((m) => [m.user_id, { ...m.user, tenant: m.tenant ?? null }]));
    for (const k of keys) out.set(k, members.get(k) ?? null);
    return out;
  }
  const path = (k: string) =>
    target.type === 'objects' ? `/v1/objects/${encodeId(target.collection!)}/${encodeId(k)}` : `/v1/users/${encodeId(k)}`;
  const route = target.type === 'objects' ? 'GET /v1/objects/{collection}/{id}' : 'GET /v1/users/{user_id}';
  const queue = [...keys];
  await Promise.all(
    Array.from({ length: Math.min(PARALLEL, queue.length) }, async () => {
      for (let k = queue.shift(); k !== undefined; k = queue.shift()) {
        const r = await http.send({ method: 'GET', path: path(k), route, tier: 4, okStatuses: [404] }, { signal: opts.signal });
        if (!r.ok) fail(r.status, r.code);
        else out.set(k, r.status === 404 ? null : (r.body as Record<string, unknown>));
      }
    }),
  );
  return out;
}
