import { describe, expect, test } from 'vitest';
import { freshHarness, until } from './helpers.js';

const start = freshHarness();

describe('users', () => {
  test('identify upserts with deep merge, keeps null, flattens custom properties and returns 200', async () => {
    const { knock } = await start();
    const created = await knock.users.update('u1', {
      name: 'Ann',
      email: 'ann@example.com',
      plan: 'pro',
      address: { city: 'Oslo', zip: '0150' },
    } as never);
    expect(created).toMatchObject({ __typename: 'User', id: 'u1', name: 'Ann', plan: 'pro', address: { city: 'Oslo' }, created_at: null });
    const updated = await knock.users.update('u1', {
      address: { city: 'Bergen' },
      plan: null,
      created_at: '2024-01-02T03:04:05Z',
    } as never);
    expect(updated).toMatchObject({
      name: 'Ann',
      plan: null,
      address: { city: 'Bergen', zip: '0150' },
      created_at: '2024-01-02T03:04:05Z',
    });
    expect(Object.keys(updated)).toContain('plan');
    expect(Date.parse(updated.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.updated_at));
    expect(await knock.users.get('u1')).toEqual(updated);
  });

  test('channel_data and preferences are stored apart from properties', async () => {
    const { knock } = await start();
    const user = await knock.users.update('u1', {
      channel_data: { c1: { tokens: ['t'] } },
      preferences: { default: { workflows: { w: true } } },
    } as never);
    expect(user).not.toHaveProperty('channel_data');
    const page = await knock.users.list({ include: ['preferences'] });
    expect(page.entries[0]).toMatchObject({ id: 'u1', preferences: { default: { workflows: { w: true } } } });
  });

  test('get of an unknown user is 404 resource_missing', async () => {
    const { http } = await start();
    const res = await http('GET', '/v1/users/ghost');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      code: 'resource_missing',
      message: 'The resource you requested does not exist',
      status: 404,
      type: 'api_error',
    });
  });

  test('list walks cursor pages of at most page_size and ends with after = null', async () => {
    const { knock } = await start();
    for (const id of ['c', 'a', 'e', 'b', 'd']) await knock.users.update(id, { name: id });
    const first = await knock.users.list({ page_size: 2 });
    expect(first.entries.map((u) => u.id)).toEqual(['a', 'b']);
    expect(first.page_info).toMatchObject({ __typename: 'PageInfo', page_size: 2, before: null });
    const ids: string[] = [];
    for await (const user of knock.users.list({ page_size: 2 })) ids.push(user.id);
    expect(ids).toEqual(['a', 'b', 'c', 'd', 'e']);
    const last = await knock.users.list({ page_size: 2, after: (await knock.users.list({ page_size: 4 })).page_info.after! });
    expect(last.entries.map((u) => u.id)).toEqual(['e']);
    expect(last.page_info.after).toBeNull();
    const back = await knock.users.list({ page_size: 2, before: (last.page_info as { before?: string }).before! });
    expect(back.entries.map((u) => u.id)).toEqual(['c', 'd']);
  });

  test('delete answers 204 with an empty body, also for a missing user by default', async () => {
    const { knock, http } = await start();
    await knock.users.update('u1', { name: 'A' });
    const res = await http('DELETE', '/v1/users/u1');
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    await expect(knock.users.get('u1')).rejects.toMatchObject({ status: 404 });
    expect((await http('DELETE', '/v1/users/u1')).status).toBe(204);
  });

  test('merge deep-merges with the primary winning and deletes the secondary', async () => {
    const { knock } = await start();
    await knock.users.update('main', { name: 'Main', a: { x: 1 } } as never);
    await knock.users.update('dup', { name: 'Dup', email: 'd@example.com', a: { x: 2, y: 3 } } as never);
    const merged = await knock.users.merge('main', { from_user_id: 'dup' });
    expect(merged).toMatchObject({ id: 'main', name: 'Main', email: 'd@example.com', a: { x: 1, y: 3 } });
    await expect(knock.users.get('dup')).rejects.toMatchObject({ status: 404 });
  });

  test('bulk identify and bulk delete are asynchronous bulk operations', async () => {
    const { knock } = await start();
    const op = await knock.users.bulk.identify({
      users: [
        { id: 'b1', name: 'One' },
        { id: 'b2', email: 'two@example.com' },
      ],
    });
    expect(op).toMatchObject({ __typename: 'BulkOperation', status: 'queued', estimated_total_rows: 2, processed_rows: 0 });
    await expect(knock.users.get('b1')).rejects.toMatchObject({ status: 404 });
    const done = await until(async () => {
      const current = await knock.bulkOperations.get(op.id);
      return current.status === 'completed' && current;
    });
    expect(done).toMatchObject({ processed_rows: 2, success_count: 2, error_count: 0, error_items: [] });
    expect(done.started_at).not.toBeNull();
    expect(done.completed_at).not.toBeNull();
    expect((await knock.users.get('b1')).name).toBe('One');
    const del = await knock.users.bulk.delete({ user_ids: ['b1', 'b2'] });
    await until(async () => (await knock.bulkOperations.get(del.id)).status === 'completed');
    expect((await knock.users.list()).entries).toEqual([]);
  });
});

describe('user validation (422 invalid_params with errors[])', () => {
  const big = 'x'.repeat(256 * 1024);
  const many = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`);
  test.each([
    ['PUT', '/v1/users/' + 'a'.repeat(257), {}, 'user_id', 'length'],
    ['PUT', '/v1/users/a%2Fb', {}, 'user_id', 'format'],
    ['PUT', '/v1/users/a%23b', {}, 'user_id', 'format'],
    ['PUT', '/v1/users/u1', () => ({ blob: big }), 'properties', 'length'],
    ['POST', '/v1/users/bulk/identify', {}, 'users', 'required'],
    ['POST', '/v1/users/bulk/identify', { users: [{ id: 'ok' }, { name: 'no id' }] }, 'users[1].id', 'required'],
    ['POST', '/v1/users/bulk/identify', () => ({ users: many(1001).map((id) => ({ id })) }), 'users', 'length'],
    ['POST', '/v1/users/bulk/delete', {}, 'user_ids', 'required'],
    ['POST', '/v1/users/bulk/delete', () => ({ user_ids: many(1001) }), 'user_ids', 'length'],
    ['POST', '/v1/users/u1/merge', {}, 'from_user_id', 'required'],
    ['GET', '/v1/users?page_size=51', undefined, 'page_size', 'number'],
    ['GET', '/v1/users?page_size=0', undefined, 'page_size', 'number'],
  ] as Array<[string, string, unknown, string, string]>)('%s %s → 422 (%#)', async (method, path, make, field, type) => {
    const { http } = await start();
    const body = typeof make === 'function' ? (make as () => unknown)() : make;
    const res = await http(method, path.length > 100 ? path : path, body === undefined ? {} : { body });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'invalid_params', status: 422, type: 'invalid_request_error', errors: [{ field, type }] });
  });

  test('an oversize identify changes nothing', async () => {
    const { knock, http } = await start();
    await knock.users.update('u1', { keep: 'me' } as never);
    expect((await http('PUT', '/v1/users/u1', { body: { keep: 'changed', blob: 'y'.repeat(300_000) } })).status).toBe(422);
    expect(await knock.users.get('u1')).toMatchObject({ keep: 'me' });
  });

  test('a non-JSON body is 400', async () => {
    const { http } = await start();
    const res = await http('PUT', '/v1/users/u1', { rawBody: '{nope' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid_json', status: 400 });
  });
});
