import { KNOCK_ENDPOINTS } from '@syncline/knock-wire';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { compileCheck } from '../src/compiled-check.js';

const date = fc
  .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
/** Values of every kind for typed fields, near-misses included, so that both answers are exercised. */
const value = fc.oneof(
  fc.string({ maxLength: 5 }),
  fc.constant(null),
  fc.integer(),
  fc.boolean(),
  date,
  fc.constantFrom('2024-05-22T12:00:00+02:00', '2024-05-22 12:00:00Z', '2024-02-30T00:00:00Z', '2024-05-22T12:00:00', '2024-05-22'),
  fc.constant(undefined),
  fc.anything({ maxDepth: 1 }),
);
const channelData = fc.dictionary(
  fc.constantFrom('97c5a1f0-3f9b-4e3c-8a51-6f0f2b1e9d10', 'x'),
  fc.oneof(
    fc.record({ tokens: fc.array(value, { maxLength: 2 }) }),
    fc.record({ player_ids: fc.array(fc.oneof(fc.uuid(), fc.string({ maxLength: 4 })), { maxLength: 2 }) }),
    fc.record({ devices: fc.array(fc.record({ token: value }, { requiredKeys: [] }), { maxLength: 2 }) }),
    fc.record({ connections: fc.array(fc.record({ incoming_webhook: fc.record({ url: value }) }), { maxLength: 1 }) }),
    value,
  ),
  { maxKeys: 2 },
);
const preferences = fc.dictionary(
  fc.constantFrom('default', 't1'),
  fc.oneof(
    fc.record(
      { channel_types: fc.record({ email: value }), workflows: fc.dictionary(fc.string({ maxLength: 3 }), value) },
      { requiredKeys: [] },
    ),
    value,
  ),
  { maxKeys: 2 },
);
const user = fc.oneof(
  fc.record(
    {
      id: fc.oneof(fc.string({ maxLength: 6 }), value),
      name: value,
      email: value,
      phone_number: value,
      locale: value,
      timezone: value,
      created_at: value,
      channel_data: fc.oneof(channelData, value),
      preferences: fc.oneof(preferences, value),
      plan: fc.jsonValue({ maxDepth: 2 }),
    },
    { requiredKeys: [] },
  ),
  value,
);
const body = fc.oneof(
  fc.record({ users: fc.array(user, { maxLength: 4 }) }),
  fc.record({ users: fc.oneof(value, fc.constant(Array.from({ length: 1001 }, (_, i) => ({ id: `u${i}` })))) }, { requiredKeys: [] }),
);

describe('compileCheck', () => {
  test('answers what zod answers for bulk identify bodies (the fast path and the route agree)', () => {
    const schema = KNOCK_ENDPOINTS.bulkIdentifyUsers.body;
    const valid = compileCheck(schema);
    let accepted = 0;
    fc.assert(
      fc.property(body, (b) => {
        const zod = schema.safeParse(b).success;
        if (zod) accepted++;
        expect(valid(b), JSON.stringify(b)).toBe(zod);
      }),
      { numRuns: 3000 },
    );
    // Both answers must have been exercised.
    expect(accepted).toBeGreaterThan(100);
    expect(accepted).toBeLessThan(2900);
  });

  test('the same compiled check is reused', () => {
    const schema = KNOCK_ENDPOINTS.bulkIdentifyUsers.body;
    expect(compileCheck(schema)).toBe(compileCheck(schema));
  });
});
