import { describe, expect, test } from 'vitest';
import { freshHarness } from './helpers.js';

const start = freshHarness();

/** 422 `invalid_params` whose errors name exactly these fields and types. */
const invalid = (...errors: Array<[string, string]>) => ({
  status: 422,
  body: { code: 'invalid_params', status: 422, errors: errors.map(([field, type]) => expect.objectContaining({ field, type })) },
});

describe('incoming bodies are validated with @syncline/knock-wire', () => {
  test('identify, set object, merge: typed fields of the schema, Knock-shaped 422s, nothing stored', async () => {
    const { http } = await start();
    expect(await http('PUT', '/v1/users/u1', { body: { email: 3, created_at: 'yesterday', plan: 'pro' } })).toMatchObject(
      invalid(['email', 'string'], ['created_at', 'invalid_format']),
    );
    expect((await http('GET', '/v1/users/u1')).status).toBe(404);
    expect(await http('PUT', '/v1/objects/projects/p1', { body: { channel_data: null } })).toMatchObject(
      invalid(['channel_data', 'required']),
    );
    expect(await http('POST', '/v1/users/u1/merge', { body: {} })).toMatchObject(invalid(['from_user_id', 'required']));
    expect((await http('PUT', '/v1/users/u1', { body: { email: null, created_at: '2024-05-22T12:00:00Z', plan: 3 } })).status).toBe(200);
  });

  test('bulk identify answers the same 422 through the fast path and through Hono', async () => {
    const { http, emulator } = await start();
    const bad = { users: [{ id: 'u1' }, { id: 'u2', phone_number: 5 }, { name: 'no id' }] };
    const expected = invalid(['users[1].phone_number', 'string'], ['users[2].id', 'required']);
    const fast = await http('POST', '/v1/users/bulk/identify', { body: bad });
    expect(fast).toMatchObject(expected);
    // A fault rule on another route closes the fast path: Hono's route answers.
    emulator.control.addFault({ match: 'GET /v1/tenants', status: 500, count: null });
    const hono = await http('POST', '/v1/users/bulk/identify', { body: bad });
    expect(hono).toMatchObject(expected);
    expect(hono.body).toEqual(fast.body);
    emulator.control.clearFaults();
    emulator.control.flushBulk({ force: true });
    expect((await http('GET', '/v1/users')).body).toMatchObject({ entries: [] });
    expect(
      (await http('POST', '/v1/users/bulk/identify', { body: { users: [{ id: 'u1', created_at: null, plan: { tier: 1 } }] } })).status,
    ).toBe(200);
  });

  test('bulk set, bulk delete, tenants, audience members, trigger', async () => {
    const { http } = await start();
    expect(await http('POST', '/v1/objects/c/bulk/set', { body: { objects: [{ id: 'o1', name: 1 }] } })).toMatchObject(
      invalid(['objects[0].name', 'string']),
    );
    expect(await http('POST', '/v1/users/bulk/delete', { body: { user_ids: ['a', ''] } })).toMatchObject(
      invalid(['user_ids[1]', 'required']),
    );
    expect(await http('POST', '/v1/tenants/bulk/set', { body: { tenants: ['t1', { name: 'x' }] } })).toMatchObject(
      invalid(['tenants[1].id', 'required']),
    );
    const members = { members: [{ user: { id: 'u1', email: 5 } }, { user: { id: 'u2' }, tenant: 7 }] };
    expect(await http('POST', '/v1/audiences/vips/members?create_audience=true', { body: members })).toMatchObject(
      invalid(['members[0].user.email', 'string'], ['members[1].tenant', 'string']),
    );
    expect(await http('DELETE', '/v1/audiences/vips/members', { body: {} })).toMatchObject(invalid(['members', 'required']));
    expect(await http('POST', '/v1/workflows/welcome/trigger', { body: { recipients: [{ name: 'no id' }] } })).toMatchObject({
      status: 422,
    });
  });
});
