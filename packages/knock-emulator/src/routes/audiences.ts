import type { RegisterRoute, RouteContext } from '../app-types.js';
import type { JsonObject } from '../deep-merge.js';
import type { Audience, Membership, RecipientRecord } from '../environment.js';
import { KnockHttpError, type FieldError } from '../knock-http-error.js';
import { paginate } from '../paginate.js';
import { checkId, upsertRecipient, userJson } from '../recipients.js';
import { checkWire, readBody, readJson } from '../request-helpers.js';
import { memberKey } from '../snapshot.js';

interface MemberInput {
  user: JsonObject;
  userId: string;
  /** `undefined` when the request did not send `tenant` at all. */
  tenant: string | null | undefined;
}

/**
 * Reads `members` of a body that knock-wire's schema already checked (≤ 1,000, each `{user: {id},
 * tenant?}`, reference §4.1–4.2) and applies the id rules (switch `validateIds`); all-or-nothing 422.
 */
function parseMembers(ctx: RouteContext, value: JsonObject): MemberInput[] {
  const errors: FieldError[] = [];
  const members: MemberInput[] = [];
  (value['members'] as Array<{ user: JsonObject; tenant?: string | null }>).forEach((m, i) => {
    const error = checkId(m.user['id'], `members[${i}].user.id`, ctx.state.options.switches.validateIds);
    if (error) errors.push(error);
    else members.push({ user: m.user, userId: m.user['id'] as string, tenant: m.tenant });
  });
  if (errors.length) throw KnockHttpError.invalid(errors);
  return members;
}

/** A member's user; a "missing user" (never identified) gets a minimal stand-in (§4.1). */
function memberUser(users: Map<string, RecipientRecord>, m: Membership): JsonObject {
  const user = users.get(m.userId);
  return user ? userJson(user) : { __typename: 'User', id: m.userId, created_at: null, updated_at: m.addedAt };
}

/**
 * Audiences: add members (optionally creating the audience), remove members (JSON body or
 * `?members=<JSON>`, the Census workaround), list members (reference §4).
 * @example registerAudienceRoutes(route)
 */
export function registerAudienceRoutes(route: RegisterRoute): void {
  route('addAudienceMembers', async (ctx) => {
    const key = ctx.c.req.param('key') ?? '';
    const { value, bytes } = await readBody(ctx);
    const members = parseMembers(ctx, value);
    const env = ctx.env;
    const switches = ctx.state.options.switches;
    let audience = env.audiences.get(key);
    if (!audience) {
      if (ctx.c.req.query('create_audience') !== 'true' && switches.missingAudience === 'not_found') throw KnockHttpError.notFound();
      audience = { key, createdAt: new Date().toISOString(), members: new Map() };
      env.audiences.set(key, audience);
    }
    const now = new Date().toISOString();
    const upsert = { now, dropNulls: switches.nullProperties === 'drop', inputBytes: bytes };
    // Add upserts the user's properties (InlineIdentifyUserRequest "will perform an upsert").
    for (const [i, m] of members.entries()) {
      const hasProps = Object.keys(m.user).length > 1;
      if (!hasProps && (switches.audienceCreatesUsers === 'with-properties' || env.users.has(m.userId))) continue;
      const result = upsertRecipient(env.users, m.userId, m.user, upsert, `members[${i}].user`);
      if ('field' in result) throw KnockHttpError.invalid([result]);
    }
    for (const m of members) {
      const tenant = m.tenant ?? null;
      const k = memberKey(m.userId, tenant);
      if (audience.members.has(k)) continue;
      // A new (user, tenant) tuple is an audience entry: it would fire entry workflows (§4.1).
      audience.members.set(k, { userId: m.userId, tenant, addedAt: now });
      env.entries.push({ audience: key, user_id: m.userId, tenant, at: now });
    }
    ctx.state.onChange();
    return ctx.c.body(null, 204);
  });

  route('removeAudienceMembers', async (ctx) => {
    const key = ctx.c.req.param('key') ?? '';
    let { value } = await readJson(ctx.c);
    const fromQuery = ctx.c.req.query('members');
    if (value === undefined && fromQuery !== undefined) {
      try {
        value = { members: JSON.parse(fromQuery) as unknown };
      } catch {
        throw KnockHttpError.invalid([{ field: 'members', message: 'is not valid JSON', type: 'json' }]);
      }
    }
    // The body (or the Census query form) as knock-wire's `AudienceMembersRequest`; a missing one lacks `members`.
    checkWire(ctx.endpoint.body, value ?? {});
    const members = parseMembers(ctx, value as JsonObject);
    const audience: Audience | undefined = ctx.env.audiences.get(key);
    if (!audience) throw KnockHttpError.notFound();
    const all = ctx.state.options.switches.removeWithoutTenant === 'all';
    for (const m of members) {
      if (m.tenant === undefined && all) {
        for (const [k, existing] of audience.members) if (existing.userId === m.userId) audience.members.delete(k);
      } else audience.members.delete(memberKey(m.userId, m.tenant ?? null));
    }
    ctx.state.onChange();
    return ctx.c.body(null, 204);
  });

  route('listAudienceMembers', (ctx) => {
    const audience = ctx.env.audiences.get(ctx.c.req.param('key') ?? '');
    if (!audience) throw KnockHttpError.notFound();
    const users = ctx.env.users;
    const toJson = (m: Membership) => ({
      __typename: 'AudienceMember',
      added_at: m.addedAt,
      user_id: m.userId,
      user: memberUser(users, m),
      tenant: m.tenant,
    });
    const switches = ctx.state.options.switches;
    if (switches.audienceListPagination === 'paginate') {
      const page = paginate(audience.members.values(), (m) => memberKey(m.userId, m.tenant), ctx.c.req.query(), switches);
      return ctx.c.json({ entries: page.entries.map(toJson), page_info: page.page_info }, 200);
    }
    // Default: the spec defines no pagination params here, so all members come back in one page (§4.3).
    const entries = [...audience.members.values()].map(toJson);
    return ctx.c.json({ entries, page_info: { __typename: 'PageInfo', page_size: entries.length, after: null, before: null } }, 200);
  });
}
