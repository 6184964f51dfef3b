import { describe, expect, test } from 'vitest';
import { BulkOperation, KNOCK_ENDPOINTS, knockFieldErrors, matchEndpoint, validateRequest, validateResponse } from '../src/index.js';

const user = { __typename: 'User', id: 'u1', created_at: null, updated_at: '2024-05-22T12:00:00Z', email: null, plan: 'pro' };
const notFound = { code: 'resource_missing', message: 'The resource you requested does not exist', status: 404, type: 'api_error' };

describe('matchEndpoint', () => {
  test('prefers literal segments to path parameters and decodes parameters', () => {
    expect(matchEndpoint('POST', '/v1/objects/projects/bulk/set')?.operation).toBe('bulkSetObjects');
    expect(matchEndpoint('PUT', '/v1/objects/projects/p%2F1?x=1')).toMatchObject({
      operation: 'setObject',
      params: { collection: 'projects', id: 'p/1' },
      endpoint: { tier: 3 },
    });
    expect(matchEndpoint('POST', '/v1/users/bulk/identify')?.operation).toBe('bulkIdentifyUsers');
    expect(matchEndpoint('GET', '/v1/nothing/here')).toBeUndefined();
    expect(matchEndpoint('PATCH', '/v1/users/u1')).toBeUndefined();
  });

  test('every endpoint of the table is found by its own template', () => {
    for (const [operation, e] of Object.entries(KNOCK_ENDPOINTS))
      expect(matchEndpoint(e.method, e.path.replace(/\{\w+\}/g, 'x'))?.operation, operation).toBe(operation);
  });
});

describe('validateRequest', () => {
  test('accepts valid requests', () => {
    expect(
      validateRequest({ method: 'POST', path: '/v1/users/bulk/identify', body: { users: [{ id: 'u1', email: null, plan: 'pro' }] } }),
    ).toEqual([]);
    expect(validateRequest({ method: 'POST', path: '/v1/tenants/bulk/delete', query: 'tenant_ids[]=a&tenant_ids[]=b' })).toEqual([]);
    expect(validateRequest({ method: 'GET', path: '/v1/users?include[]=preferences&page_size=10' })).toEqual([]);
    expect(validateRequest({ method: 'PUT', path: '/v1/users/u1', body: {} })).toEqual([]);
    expect(
      validateRequest({
        method: 'POST',
        path: '/v1/audiences/vips/members',
        query: { create_audience: 'true' },
        body: { members: [{ user: { id: 'u1', name: 'A' }, tenant: null }] },
      }),
    ).toEqual([]);
  });

  test('reports each kind of invalid request with the field at fault', () => {
    expect(validateRequest({ method: 'POST', path: '/v1/users/bulk/identify', body: { users: [{ name: 'x' }] } })).toEqual([
      'body.users[0].id: Invalid input: expected string, received undefined',
    ]);
    expect(validateRequest({ method: 'POST', path: '/v1/users/bulk/identify' })).toEqual(['body: is required']);
    expect(
      validateRequest({
        method: 'POST',
        path: '/v1/users/bulk/identify',
        body: { users: Array.from({ length: 1001 }, (_, i) => ({ id: `u${i}` })) },
      }),
    ).toEqual(['body.users: Too big: expected array to have <=1000 items']);
    expect(validateRequest({ method: 'PUT', path: '/v1/users/u1', body: { email: 3, created_at: 'yesterday' } })).toEqual([
      'body.email: Invalid input: expected string, received number',
      'body.created_at: Invalid ISO datetime',
    ]);
    expect(validateRequest({ method: 'GET', path: '/v1/users', query: { page_size: 'ten', after: 'x' } })).toEqual([
      'query.page_size: must be an integer',
    ]);
    expect(validateRequest({ method: 'GET', path: '/v1/users?include[]=preferences&colour=red' })).toEqual([
      'query.colour: is not a parameter of listUsers',
    ]);
    expect(validateRequest({ method: 'POST', path: '/v1/tenants/bulk/delete' })).toEqual([
      'query.tenant_ids: Invalid input: expected array, received undefined',
    ]);
    expect(validateRequest({ method: 'GET', path: '/v1/users/u1', body: {} })).toEqual(['body: getUser takes no body']);
    expect(validateRequest({ method: 'GET', path: '/v1/bulk_operations/not-a-uuid' })).toEqual(['path.id: Invalid GUID']);
    expect(validateRequest({ method: 'GET', path: '/v1/nothing' })).toEqual(['no operation for GET /v1/nothing']);
  });
});

describe('validateResponse', () => {
  test('checks bodies, nullable fields, 204s and error bodies', () => {
    expect(validateResponse({ method: 'GET', path: '/v1/users/u1', status: 200, body: user })).toEqual([]);
    expect(validateResponse({ method: 'GET', path: '/v1/users/u1', status: 200, body: { ...user, updated_at: 'yesterday' } })).toEqual([
      'body.updated_at: Invalid ISO datetime',
    ]);
    expect(validateResponse({ method: 'GET', path: '/v1/users/u1', status: 200, body: { ...user, email: 3 } })).toEqual([
      'body.email: Invalid input: expected string, received number',
    ]);
    expect(validateResponse({ method: 'DELETE', path: '/v1/users/u1', status: 204, body: '' })).toEqual([]);
    expect(validateResponse({ method: 'DELETE', path: '/v1/users/u1', status: 204, body: { a: 1 } })).toEqual([
      'body: status 204 of deleteUser has no body',
    ]);
    expect(validateResponse({ method: 'GET', path: '/v1/users/u1', status: 201, body: user })).toEqual([
      'status 201 is not documented for getUser',
    ]);
    expect(validateResponse({ method: 'GET', path: '/v1/users/u1', status: 404, body: notFound })).toEqual([]);
    expect(validateResponse({ method: 'GET', path: '/v1/users/u1', status: 404, body: { code: 'x' } })).toHaveLength(3);
    expect(validateResponse({ method: 'GET', path: '/v1/users/u1', status: 502, body: '<html>' })).toEqual(['body: is not JSON']);
  });

  test('a BulkOperation as Knock documents it (knock-api.md §5)', () => {
    const op = {
      __typename: 'BulkOperation',
      id: '0f5b6a3e-1d7c-4a8e-9f2b-3c4d5e6f7a8b',
      name: 'users.identify',
      status: 'completed',
      estimated_total_rows: 3,
      processed_rows: 3,
      success_count: 1,
      error_count: 2,
      error_items: [{ id: '1' }, { id: '2', collection: null }],
      progress_path: 'https://api.knock.app/v1/bulk_operations/0f5b6a3e-1d7c-4a8e-9f2b-3c4d5e6f7a8b',
      inserted_at: '2024-05-22T12:00:00Z',
      updated_at: '2024-05-22T12:00:01.123Z',
      started_at: '2024-05-22T12:00:00Z',
      completed_at: '2024-05-22T12:00:01Z',
      failed_at: null,
    };
    expect(BulkOperation.safeParse(op).success).toBe(true);
    expect(validateResponse({ method: 'GET', path: `/v1/bulk_operations/${op.id}`, status: 200, body: { ...op, status: 'done' } })).toEqual(
      ['body.status: Invalid option: expected one of "queued"|"processing"|"completed"|"failed"'],
    );
  });
});

describe('knockFieldErrors', () => {
  test('turns zod issues into the errors[] of a Knock 422', () => {
    const schema = KNOCK_ENDPOINTS.bulkIdentifyUsers.body;
    const body = { users: [{ id: '' }, { name: 'x' }, { id: 7 }, 'u4'] };
    expect(knockFieldErrors(schema.safeParse(body).error!, body)).toEqual([
      { field: 'users[0].id', message: "can't be blank", type: 'required' },
      { field: 'users[1].id', message: "can't be blank", type: 'required' },
      { field: 'users[2].id', message: 'must be a string', type: 'string' },
      { field: 'users[3]', message: 'must be an object', type: 'object' },
    ]);
    const many = { users: Array.from({ length: 1001 }, (_, i) => ({ id: `u${i}` })) };
    expect(knockFieldErrors(schema.safeParse(many).error!, many)).toEqual([
      { field: 'users', message: 'should have at most 1000 item(s)', type: 'length' },
    ]);
    expect(knockFieldErrors(schema.safeParse({}).error!, {})).toEqual([{ field: 'users', message: "can't be blank", type: 'required' }]);
  });

  test('a value matching no branch of a union is reported by the branch of its own type', () => {
    const schema = KNOCK_ENDPOINTS.bulkSetTenants.body;
    const body = { tenants: ['t1', { name: 'x' }, 3] };
    expect(knockFieldErrors(schema.safeParse(body).error!, body)).toEqual([
      { field: 'tenants[1].id', message: "can't be blank", type: 'required' },
      { field: 'tenants[2]', message: 'Invalid input', type: 'invalid_union' },
    ]);
  });
});
