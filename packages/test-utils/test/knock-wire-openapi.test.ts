import { fileURLToPath } from 'node:url';
import { KNOCK_ENDPOINTS, validateRequest, validateResponse, type KnockOperation } from '@syncline/knock-wire';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { KNOCK_OPENAPI_URL, knockOpenApi, knockOpenApiPresent } from '../src/index.js';

/**
 * Compares the project's description of Knock's wire format (`@syncline/knock-wire`) with Knock's published
 * OpenAPI document. The document lies outside the repository (`../shared/reference/`), so this runs only
 * when it is there; otherwise one skipped test says so. Direction: everything our schemas accept must be
 * valid per Knock's document (ours may be stricter: e.g. the 1,000-item limits Knock only describes in prose).
 */
const present = knockOpenApiPresent();
const RUNS = Number(process.env['WIRE_RUNS'] ?? 60);

const date = fc
  .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
/** A value of any type for a typed field: samples our schema rejects are dropped, so these probe its edges. */
const junk = fc.oneof(fc.string({ maxLength: 6 }), fc.constant(null), fc.integer(), fc.boolean(), date, fc.constant(undefined));
const id = fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('u1', 'user_42', 'a b', 'ü'));
const custom = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 6 }).map((k) => `c_${k}`),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 3 },
);
// Knock's document writes channel data as a `oneOf` whose branches overlap (an empty `devices` list, or any
// `connections` list, matches several branches, which `oneOf` forbids); samples use the unambiguous shapes.
const channelData = fc.dictionary(
  fc.uuid(),
  fc.oneof(
    fc.record({ tokens: fc.array(fc.string({ maxLength: 8 }), { maxLength: 2 }) }),
    fc.record({ target_arns: fc.array(fc.string({ maxLength: 8 }), { maxLength: 2 }) }),
    fc.record({ player_ids: fc.array(fc.uuid(), { maxLength: 2 }) }),
    fc.record({ devices: fc.array(fc.record({ token: fc.string({ maxLength: 8 }), locale: junk }), { minLength: 1, maxLength: 2 }) }),
  ),
  { maxKeys: 2 },
);
const setting = fc.oneof(
  fc.boolean(),
  fc.record({ conditions: fc.constant([{ variable: 'recipient.plan', operator: 'equal_to', argument: 'pro' }]) }),
);
const preferenceSet = fc.record(
  {
    channel_types: fc.record({ email: setting, sms: fc.boolean() }, { requiredKeys: [] }),
    workflows: fc.dictionary(fc.string({ maxLength: 6 }), setting, { maxKeys: 2 }),
    categories: fc.oneof(fc.constant(null), fc.dictionary(fc.string({ maxLength: 6 }), fc.boolean(), { maxKeys: 2 })),
    commercial_subscribed: fc.oneof(fc.boolean(), fc.constant(null)),
  },
  { requiredKeys: [] },
);
const preferences = fc.dictionary(fc.constantFrom('default', 'tenant_1'), preferenceSet, { maxKeys: 2 });
const nullable = <T>(a: fc.Arbitrary<T>) => fc.oneof(a, fc.constant(null), junk);

const userFields = {
  name: junk,
  email: junk,
  phone_number: junk,
  avatar: junk,
  locale: junk,
  timezone: junk,
  created_at: junk,
  channel_data: nullable(channelData),
  preferences: nullable(preferences),
};
const withCustom = <T extends object>(a: fc.Arbitrary<T>) => fc.tuple(a, custom).map(([known, extra]) => ({ ...extra, ...known }));
const userBody = withCustom(fc.record(userFields, { requiredKeys: [] }));
const inlineUser = withCustom(fc.record({ id, ...userFields }, { requiredKeys: ['id'] }));
const objectBody = withCustom(
  fc.record({ name: junk, locale: junk, timezone: junk, channel_data: channelData, preferences }, { requiredKeys: [] }),
);
const bulkObject = withCustom(
  fc.record(
    { id, name: junk, created_at: junk, channel_data: nullable(channelData), preferences: nullable(preferences) },
    { requiredKeys: ['id'] },
  ),
);
const branding = fc.record({ logo_url: junk, primary_color: junk }, { requiredKeys: [] });
const tenantBody = withCustom(
  fc.record(
    { name: junk, channel_data: nullable(channelData), settings: fc.record({ branding }, { requiredKeys: [] }) },
    { requiredKeys: [] },
  ),
);
const tenantItem = fc.oneof(
  id,
  withCustom(
    fc.record({ id, name: junk, preferences: nullable(preferences), settings: fc.record({ branding }) }, { requiredKeys: ['id'] }),
  ),
);
const members = fc.record({
  members: fc.array(fc.record({ user: inlineUser, tenant: junk }, { requiredKeys: ['user'] }), { maxLength: 3 }),
});
const ids = (name: string) => fc.record({ [name]: fc.array(id, { maxLength: 4 }) });
const page = fc.record(
  {
    after: fc.string({ maxLength: 4 }),
    before: fc.string({ maxLength: 4 }),
    page_size: fc.oneof(fc.integer({ min: 1, max: 50 }).map(String), fc.string({ maxLength: 3 })),
  },
  { requiredKeys: [] },
);

/** Arbitrary request parts (path parameters, query, body) per endpoint. */
const requests: Record<
  KnockOperation,
  fc.Arbitrary<{ params: Record<string, string>; query?: Record<string, string | string[]>; body?: unknown }>
> = {
  identifyUser: fc.record({ params: fc.record({ user_id: id }), body: userBody }),
  getUser: fc.record({ params: fc.record({ user_id: id }) }),
  deleteUser: fc.record({ params: fc.record({ user_id: id }) }),
  listUsers: fc.record({
    params: fc.constant({}),
    query: fc.tuple(page, fc.constantFrom<string[]>([], ['preferences'], ['x'])).map(([p, include]) => ({ ...p, include })),
  }),
  mergeUser: fc.record({ params: fc.record({ user_id: id }), body: fc.record({ from_user_id: junk }) }),
  bulkIdentifyUsers: fc.record({ params: fc.constant({}), body: fc.record({ users: fc.array(inlineUser, { maxLength: 3 }) }) }),
  bulkDeleteUsers: fc.record({ params: fc.constant({}), body: ids('user_ids') }),
  setObject: fc.record({ params: fc.record({ collection: id, id }), body: objectBody }),
  getObject: fc.record({ params: fc.record({ collection: id, id }) }),
  deleteObject: fc.record({ params: fc.record({ collection: id, id }) }),
  listObjects: fc.record({ params: fc.record({ collection: id }), query: page }),
  bulkSetObjects: fc.record({
    params: fc.record({ collection: id }),
    body: fc.record({ objects: fc.array(bulkObject, { maxLength: 3 }) }),
  }),
  bulkDeleteObjects: fc.record({ params: fc.record({ collection: id }), body: ids('object_ids') }),
  setTenant: fc.record({
    params: fc.record({ id }),
    query: fc.record({ resolve_full_preference_settings: fc.constantFrom('true', 'false', 'yes') }, { requiredKeys: [] }),
    body: tenantBody,
  }),
  getTenant: fc.record({ params: fc.record({ id }) }),
  deleteTenant: fc.record({ params: fc.record({ id }) }),
  listTenants: fc.record({
    params: fc.constant({}),
    query: fc.tuple(page, fc.record({ tenant_id: fc.string(), name: fc.string() }, { requiredKeys: [] })).map(([a, b]) => ({ ...a, ...b })),
  }),
  bulkSetTenants: fc.record({ params: fc.constant({}), body: fc.record({ tenants: fc.array(tenantItem, { maxLength: 3 }) }) }),
  bulkDeleteTenants: fc.record({ params: fc.constant({}), query: fc.record({ tenant_ids: fc.array(id, { minLength: 1, maxLength: 3 }) }) }),
  addAudienceMembers: fc.record({
    params: fc.record({ key: id }),
    query: fc.record({ create_audience: fc.constantFrom('true', 'false') }, { requiredKeys: [] }),
    body: members,
  }),
  removeAudienceMembers: fc.record({ params: fc.record({ key: id }), body: members }),
  listAudienceMembers: fc.record({ params: fc.record({ key: id }) }),
  getBulkOperation: fc.record({ params: fc.record({ id: fc.oneof(fc.uuid(), fc.string({ maxLength: 4 })) }) }),
  triggerWorkflow: fc.record({
    params: fc.record({ key: id }),
    body: fc.record(
      {
        recipients: fc.array(fc.oneof(id, inlineUser), { maxLength: 3 }),
        data: nullable(custom),
        cancellation_key: junk,
        tenant: fc.oneof(id, fc.constant(null)),
      },
      { requiredKeys: ['recipients'] },
    ),
  }),
};

const user = withCustom(
  fc.record(
    {
      __typename: fc.constant('User'),
      id,
      updated_at: date,
      created_at: fc.oneof(date, fc.constant(null)),
      name: junk,
      email: junk,
      timezone: junk,
    },
    { requiredKeys: ['__typename', 'id', 'updated_at'] },
  ),
);
const object = fc.record(
  {
    __typename: fc.constant('Object'),
    id,
    collection: id,
    updated_at: date,
    created_at: fc.oneof(date, fc.constant(null)),
    properties: custom,
  },
  { requiredKeys: ['__typename', 'id', 'collection', 'updated_at'] },
);
const tenant = withCustom(
  fc.record(
    {
      __typename: fc.constant('Tenant'),
      id,
      name: junk,
      settings: fc.oneof(
        fc.constant(null),
        fc.record({
          branding: fc.record({ logo_url: fc.oneof(fc.webUrl(), fc.constant(null)), primary_color: junk }, { requiredKeys: [] }),
        }),
      ),
    },
    { requiredKeys: ['__typename', 'id'] },
  ),
);
const count = fc.nat({ max: 1000 });
const bulkOperation = fc.record(
  {
    __typename: fc.constant('BulkOperation'),
    id: fc.uuid(),
    name: fc.constantFrom('users.identify', 'objects.set'),
    status: fc.constantFrom('queued', 'processing', 'completed', 'failed', 'done'),
    estimated_total_rows: count,
    processed_rows: count,
    success_count: count,
    error_count: count,
    error_items: fc.array(fc.record({ id, collection: fc.oneof(id, fc.constant(null)) }, { requiredKeys: ['id'] }), { maxLength: 2 }),
    progress_path: fc.oneof(fc.webUrl(), fc.constant('/v1/bulk_operations/x')),
    inserted_at: date,
    updated_at: date,
    started_at: fc.oneof(date, fc.constant(null)),
    completed_at: fc.oneof(date, fc.constant(null)),
    failed_at: fc.oneof(date, fc.constant(null)),
  },
  {
    requiredKeys: [
      '__typename',
      'id',
      'name',
      'status',
      'estimated_total_rows',
      'processed_rows',
      'success_count',
      'inserted_at',
      'updated_at',
    ],
  },
);
const pageInfo = fc.record({
  __typename: fc.constant('PageInfo'),
  page_size: fc.integer({ min: 1, max: 50 }),
  after: fc.oneof(fc.string(), fc.constant(null)),
  before: fc.constant(null),
});
const list = <T>(entry: fc.Arbitrary<T>) => fc.record({ entries: fc.array(entry, { maxLength: 3 }), page_info: pageInfo });
const member = fc.record({
  __typename: fc.constant('AudienceMember'),
  added_at: date,
  user_id: id,
  user,
  tenant: fc.oneof(id, fc.constant(null)),
});
const empty = fc.constant(undefined);

/** Arbitrary success bodies per endpoint (for its documented success status). */
const responses: Record<KnockOperation, fc.Arbitrary<unknown>> = {
  identifyUser: user,
  getUser: user,
  deleteUser: empty,
  listUsers: list(user),
  mergeUser: user,
  bulkIdentifyUsers: bulkOperation,
  bulkDeleteUsers: bulkOperation,
  setObject: object,
  getObject: object,
  deleteObject: empty,
  listObjects: list(object),
  bulkSetObjects: bulkOperation,
  bulkDeleteObjects: bulkOperation,
  setTenant: tenant,
  getTenant: tenant,
  deleteTenant: empty,
  listTenants: list(tenant),
  bulkSetTenants: bulkOperation,
  bulkDeleteTenants: bulkOperation,
  addAudienceMembers: empty,
  removeAudienceMembers: empty,
  listAudienceMembers: list(member),
  getBulkOperation: bulkOperation,
  triggerWorkflow: fc.record({ workflow_run_id: fc.oneof(fc.uuid(), fc.string()) }),
};

const pathOf = (template: string, params: Record<string, string>): string =>
  template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));

/** Examples from knock-api.md, each accepted by our schemas and checked against Knock's document too. */
const fixtures: Array<{ method: string; path: string; status: number; body: unknown }> = [
  {
    method: 'GET',
    path: '/v1/users/user_1',
    status: 200,
    body: {
      __typename: 'User',
      id: 'user_1',
      name: 'Dr. Ian Malcolm',
      email: 'ian.malcolm@chaos.theory',
      created_at: null,
      updated_at: '2024-05-22T12:00:00Z',
      plan: 'pro',
    },
  },
  {
    method: 'GET',
    path: '/v1/objects/assets/specimen_25',
    status: 200,
    body: {
      __typename: 'Object',
      id: 'specimen_25',
      collection: 'assets',
      created_at: null,
      updated_at: '2024-05-22T12:00:00Z',
      properties: { name: 'Velociraptor', classification: 'Theropod', config: { foo: 'bar' } },
    },
  },
  {
    method: 'GET',
    path: '/v1/bulk_operations/0f5b6a3e-1d7c-4a8e-9f2b-3c4d5e6f7a8b',
    status: 200,
    body: {
      __typename: 'BulkOperation',
      id: '0f5b6a3e-1d7c-4a8e-9f2b-3c4d5e6f7a8b',
      name: 'users.identify',
      status: 'processing',
      processed_rows: 0,
      success_count: 0,
      error_count: 0,
      error_items: [],
      estimated_total_rows: 1000,
      progress_path: 'https://api.switchboard.com/v1/bulk_operations/0f5b6a3e-1d7c-4a8e-9f2b-3c4d5e6f7a8b',
      inserted_at: '2024-05-22T12:00:00Z',
      updated_at: '2024-05-22T12:00:00Z',
    },
  },
  {
    method: 'GET',
    path: '/v1/users/u1',
    status: 404,
    body: { code: 'resource_missing', message: 'The resource you requested does not exist', status: 404, type: 'api_error' },
  },
  {
    method: 'POST',
    path: '/v1/users/bulk/identify',
    status: 422,
    body: {
      code: 'invalid_params',
      message: 'Invalid params',
      status: 422,
      type: 'invalid_request_error',
      errors: [{ field: 'users[3].id', message: "can't be blank", type: 'required' }],
    },
  },
];

if (!present) {
  test.skip(`@syncline/knock-wire vs Knock's OpenAPI: skipped, ${fileURLToPath(KNOCK_OPENAPI_URL)} is not next to the repository`, () => {});
} else {
  describe("@syncline/knock-wire vs Knock's OpenAPI document", () => {
    const openapi = knockOpenApi();
    const operations = Object.keys(KNOCK_ENDPOINTS) as KnockOperation[];

    test('every endpoint exists in the document: same operation, path template and rate tier', () => {
      for (const operation of operations) {
        const e = KNOCK_ENDPOINTS[operation];
        const found = openapi.match(e.method, e.path.replace(/\{\w+\}/g, 'x'));
        expect({ operationId: found?.operationId, template: found?.template, tier: found?.tier }, operation).toEqual({
          operationId: e.operationId,
          template: e.path,
          tier: e.tier,
        });
        const documented = Object.keys((found?.operation['responses'] ?? {}) as object);
        for (const status of Object.keys(e.responses)) expect(documented, `${operation} ${status}`).toContain(status);
      }
    });

    test.each(operations)('%s: every request our schemas accept is valid per the document', (operation) => {
      const e = KNOCK_ENDPOINTS[operation];
      let accepted = 0;
      fc.assert(
        fc.property(requests[operation], ({ params, query, body }) => {
          const request = {
            method: e.method,
            path: pathOf(e.path, params),
            ...(query ? { query } : {}),
            ...(body === undefined ? {} : { body }),
          };
          fc.pre(validateRequest(request).length === 0);
          accepted++;
          expect(openapi.validateRequest(request)).toEqual([]);
        }),
        { numRuns: RUNS },
      );
      expect(accepted, 'samples our schemas accepted').toBeGreaterThan(RUNS / 10);
    });

    test.each(operations)('%s: every response our schemas accept is valid per the document', (operation) => {
      const e = KNOCK_ENDPOINTS[operation];
      const status = Number(Object.keys(e.responses)[0]);
      let accepted = 0;
      fc.assert(
        fc.property(requests[operation], responses[operation], ({ params }, body) => {
          const response = { method: e.method, path: pathOf(e.path, params), status, body };
          fc.pre(validateResponse(response).length === 0);
          accepted++;
          expect(openapi.validateResponse(response)).toEqual([]);
        }),
        { numRuns: RUNS },
      );
      expect(accepted, 'samples our schemas accepted').toBeGreaterThan(RUNS / 10);
    });

    test('the reference examples pass both', () => {
      for (const f of fixtures) {
        expect(validateResponse(f), `${f.method} ${f.path}`).toEqual([]);
        expect(openapi.validateResponse(f), `${f.method} ${f.path}`).toEqual([]);
      }
    });

    test("Knock's document, like our schemas, rejects the classic mistakes", () => {
      const cases = [
        { method: 'POST', path: '/v1/users/bulk/identify', body: { users: [{ name: 'x' }] } },
        { method: 'POST', path: '/v1/users/bulk/identify' },
        { method: 'GET', path: '/v1/users', query: { page_size: 'ten' } },
        { method: 'GET', path: '/v1/users?colour=red' },
        { method: 'POST', path: '/v1/tenants/bulk/delete' },
        { method: 'GET', path: '/v1/users/u1', body: {} },
        { method: 'POST', path: '/v1/audiences/vips/members', body: { members: [{ user: 'u1' }] } },
      ];
      for (const c of cases) {
        expect(validateRequest(c), `ours: ${c.method} ${c.path}`).not.toEqual([]);
        expect(openapi.validateRequest(c), `Knock's: ${c.method} ${c.path}`).not.toEqual([]);
      }
    });
  });
}
