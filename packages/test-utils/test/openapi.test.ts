import { describe, expect, test } from 'vitest';
import { createOpenApiValidator, knockOpenApi, toJsonSchema, validateKnockRequest, validateKnockResponse } from '../src/index.js';

const user = { __typename: 'User', id: 'u1', created_at: null, updated_at: '2024-05-22T12:00:00Z', email: null, plan: 'pro' };

describe('toJsonSchema', () => {
  test.each([
    [{ type: 'string', nullable: true }, { type: ['string', 'null'] }],
    [
      { type: 'string', enum: ['a'], nullable: true },
      { type: ['string', 'null'], enum: ['a', null] },
    ],
    [{ nullable: true }, { type: 'null' }],
    [{ type: 'object', oneOf: [{ type: 'boolean' }, { type: 'object' }] }, { oneOf: [{ type: 'boolean' }, { type: 'object' }] }],
    [{ $ref: '#/components/schemas/X', nullable: true }, { anyOf: [{ type: 'null' }, { $ref: 'b#/components/schemas/X' }] }],
    [
      { type: 'object', 'x-struct': null, example: 1, properties: { a: { type: 'integer', nullable: true } } },
      { type: 'object', properties: { a: { type: ['integer', 'null'] } } },
    ],
  ])('converts %j', (input, output) => {
    expect(toJsonSchema(input, 'b')).toEqual(output);
  });
});

describe('Knock operations', () => {
  test('matches literal segments before path parameters', () => {
    expect(knockOpenApi().match('POST', '/v1/objects/projects/bulk/set')?.operationId).toBe('bulkSetObjects');
    expect(knockOpenApi().match('PUT', '/v1/objects/projects/p1')).toMatchObject({
      template: '/v1/objects/{collection}/{id}',
      params: { collection: 'projects', id: 'p1' },
      tier: 3,
    });
    expect(knockOpenApi().match('GET', '/v1/nothing/here')).toBeUndefined();
  });

  test('accepts a valid request and reports each kind of invalid one', () => {
    expect(validateKnockRequest({ method: 'POST', path: '/v1/users/bulk/identify', body: { users: [{ id: 'u1', email: null }] } })).toEqual(
      [],
    );
    expect(validateKnockRequest({ method: 'POST', path: '/v1/users/bulk/identify', body: { users: [{ name: 'x' }] } })).toEqual([
      "body/users/0: must have required property 'id'",
    ]);
    expect(validateKnockRequest({ method: 'POST', path: '/v1/users/bulk/identify' })).toEqual(['body: is required']);
    expect(validateKnockRequest({ method: 'GET', path: '/v1/users', query: { page_size: 'ten', after: 'x' } })).toEqual([
      'query.page_size: must be integer',
    ]);
    expect(validateKnockRequest({ method: 'GET', path: '/v1/users?include[]=preferences&colour=red' })).toEqual([
      'query.colour: is not a parameter of listUsers',
    ]);
    expect(validateKnockRequest({ method: 'POST', path: '/v1/tenants/bulk/delete', query: 'tenant_ids[]=a&tenant_ids[]=b' })).toEqual([]);
    expect(validateKnockRequest({ method: 'POST', path: '/v1/tenants/bulk/delete' })).toEqual(['query.tenant_ids: is required']);
    expect(validateKnockRequest({ method: 'GET', path: '/v1/users/u1', body: {} })).toEqual(['body: getUser takes no body']);
  });

  test('validates response bodies, nullable fields, 204s and undocumented errors', () => {
    expect(validateKnockResponse({ method: 'GET', path: '/v1/users/u1', status: 200, body: user })).toEqual([]);
    expect(validateKnockResponse({ method: 'GET', path: '/v1/users/u1', status: 200, body: { ...user, updated_at: 'yesterday' } })).toEqual(
      ['body/updated_at: must match format "date-time"'],
    );
    expect(validateKnockResponse({ method: 'GET', path: '/v1/users/u1', status: 200, body: { ...user, email: 3 } })[0]).toMatch(
      /^body\/email: must be string,null/,
    );
    expect(validateKnockResponse({ method: 'DELETE', path: '/v1/users/u1', status: 204, body: '' })).toEqual([]);
    expect(validateKnockResponse({ method: 'DELETE', path: '/v1/users/u1', status: 204, body: { a: 1 } })).toHaveLength(1);
    expect(validateKnockResponse({ method: 'GET', path: '/v1/users/u1', status: 201, body: user })).toEqual([
      'status 201 is not documented for getUser',
    ]);
    const notFound = { code: 'resource_missing', message: 'The resource you requested does not exist', status: 404, type: 'api_error' };
    expect(validateKnockResponse({ method: 'GET', path: '/v1/users/u1', status: 404, body: notFound })).toEqual([]);
    expect(validateKnockResponse({ method: 'GET', path: '/v1/users/u1', status: 502, body: '<html>' })).toContain('body: is not JSON');
  });

  test('works on any OpenAPI 3.0 document', () => {
    const v = createOpenApiValidator({
      paths: {
        '/things/{id}': {
          get: {
            operationId: 'getThing',
            responses: { '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } } },
          },
        },
      },
      components: {
        schemas: {
          Thing: { type: 'object', required: ['id'], properties: { id: { type: 'string' }, tag: { type: 'string', nullable: true } } },
        },
      },
    });
    expect(v.validateResponse({ method: 'GET', path: '/things/1', status: 200, body: { id: '1', tag: null } })).toEqual([]);
    expect(v.validateResponse({ method: 'GET', path: '/things/1', status: 200, body: { tag: 1 } })).toHaveLength(2);
  });
});
