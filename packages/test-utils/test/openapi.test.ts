import { describe, expect, test } from 'vitest';
import { createOpenApiValidator, toJsonSchema } from '../src/index.js';

// Tested on inline documents; Knock's own document is used by knock-wire-openapi.test.ts, when present.

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

describe('createOpenApiValidator', () => {
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
