import { describe, expect, test } from 'vitest';
import { freshHarness, until } from './helpers.js';

const start = freshHarness();

describe('objects', () => {
  test('set upserts with deep merge and nests properties under `properties`', async () => {
    const { knock } = await start();
    const first = await knock.objects.set('projects', 'p1', { name: 'Apollo', config: { a: 1 } } as never);
    expect(first).toMatchObject({
      __typename: 'Object',
      id: 'p1',
      collection: 'projects',
      properties: { name: 'Apollo', config: { a: 1 } },
      created_at: null,
    });
    expect(first).not.toHaveProperty('name');
    const second = await knock.objects.set('projects', 'p1', { config: { b: 2 }, name: null } as never);
    expect(second.properties).toEqual({ name: null, config: { a: 1, b: 2 } });
    expect(await knock.objects.get('projects', 'p1')).toEqual(second);
  });

  test('get of a missing object is 404; delete is 204 with an empty body', async () => {
    const { knock, http } = await start();
    await expect(knock.objects.get('projects', 'nope')).rejects.toMatchObject({ status: 404 });
    await knock.objects.set('projects', 'p1', {});
    const res = await http('DELETE', '/v1/objects/projects/p1');
    expect([res.status, res.text]).toEqual([204, '']);
    await expect(knock.objects.get('projects', 'p1')).rejects.toMatchObject({ status: 404 });
  });

  test('collections are separate and list pages through one collection', async () => {
    const { knock } = await start();
    for (const id of ['b', 'a', 'c']) await knock.objects.set('teams', id, { n: id } as never);
    await knock.objects.set('projects', 'x', {});
    const ids: string[] = [];
    for await (const o of knock.objects.list('teams', { page_size: 2 })) ids.push(o.id);
    expect(ids).toEqual(['a', 'b', 'c']);
  });

  test('bulk set and bulk delete run as bulk operations and report error_items with the collection', async () => {
    const { knock, emulator } = await start();
    emulator.control.setBulkFaults({ failItemIds: ['o3'] });
    const op = await knock.objects.bulk.set('teams', { objects: [{ id: 'o1', name: 'One' }, { id: 'o2' }, { id: 'o3' }] });
    expect(op.status).toBe('queued');
    const done = await until(async () => {
      const current = await knock.bulkOperations.get(op.id);
      return current.status === 'completed' && current;
    });
    expect(done).toMatchObject({ success_count: 2, error_count: 1, error_items: [{ id: 'o3', collection: 'teams' }] });
    expect((await knock.objects.get('teams', 'o1')).properties).toEqual({ name: 'One' });
    const del = await knock.objects.bulk.delete('teams', { object_ids: ['o1', 'o2'] });
    emulator.control.flushBulk();
    expect((await knock.bulkOperations.get(del.id)).status).toBe('completed');
    expect((await knock.objects.list('teams')).entries).toEqual([]);
  });

  test.each([
    ['/v1/objects/teams/bulk/set', {}, 'objects'],
    ['/v1/objects/teams/bulk/set', { objects: [{ name: 'no id' }] }, 'objects[0].id'],
    ['/v1/objects/teams/bulk/delete', {}, 'object_ids'],
    ['/v1/objects/teams/bulk/delete', { object_ids: Array.from({ length: 1001 }, (_, i) => `o${i}`) }, 'object_ids'],
  ])('POST %s → 422 on %#', async (path, body, field) => {
    const { http } = await start();
    const res = await http('POST', path, { body });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'invalid_params', errors: [{ field }] });
  });
});

describe('tenants', () => {
  test('set, get, list (with filters) and delete', async () => {
    const { knock, http } = await start();
    const acme = await knock.tenants.set('acme', { name: 'Acme', settings: { branding: { primary_color: '#f00' } } });
    expect(acme).toMatchObject({ __typename: 'Tenant', id: 'acme', name: 'Acme', settings: { branding: { primary_color: '#f00' } } });
    await knock.tenants.set('acme', { settings: { branding: { icon_url: 'https://example.com/i.png' } } });
    expect((await knock.tenants.get('acme')).settings?.branding).toEqual({ primary_color: '#f00', icon_url: 'https://example.com/i.png' });
    await knock.tenants.set('beta', { name: 'Beta' });
    expect((await knock.tenants.list()).entries.map((t) => t.id)).toEqual(['acme', 'beta']);
    expect((await knock.tenants.list({ name: 'Beta' })).entries.map((t) => t.id)).toEqual(['beta']);
    expect((await knock.tenants.list({ tenant_id: 'acme' })).entries.map((t) => t.id)).toEqual(['acme']);
    // Tenants are objects in the $tenants collection.
    expect((await knock.objects.get('$tenants', 'acme')).properties).toMatchObject({ name: 'Acme' });
    const res = await http('DELETE', '/v1/tenants/acme');
    expect([res.status, res.text]).toEqual([204, '']);
    await expect(knock.tenants.get('acme')).rejects.toMatchObject({ status: 404 });
  });

  test('bulk set accepts ids and objects; bulk delete takes tenant_ids[] in the query', async () => {
    const { knock, emulator } = await start();
    const set = await knock.tenants.bulk.set({ tenants: ['t1', { id: 't2', name: 'Two' }] });
    emulator.control.flushBulk();
    expect((await knock.bulkOperations.get(set.id)).success_count).toBe(2);
    expect((await knock.tenants.get('t2')).name).toBe('Two');
    const del = await knock.tenants.bulk.delete({ tenant_ids: ['t1', 't2'] });
    expect(emulator.control.requests().at(-1)?.query).toBe('tenant_ids%5B%5D=t1&tenant_ids%5B%5D=t2');
    emulator.control.flushBulk();
    expect((await knock.bulkOperations.get(del.id)).status).toBe('completed');
    expect((await knock.tenants.list()).entries).toEqual([]);
  });

  test('bulk delete without tenant_ids[] or with more than 1,000 is 422', async () => {
    const { http } = await start();
    expect((await http('POST', '/v1/tenants/bulk/delete')).body).toMatchObject({
      status: 422,
      errors: [{ field: 'tenant_ids', type: 'required' }],
    });
    const many = Array.from({ length: 1001 }, (_, i) => `tenant_ids[]=t${i}`).join('&');
    expect((await http('POST', `/v1/tenants/bulk/delete?${many}`)).body).toMatchObject({
      status: 422,
      errors: [{ field: 'tenant_ids', type: 'length' }],
    });
    expect((await http('POST', '/v1/tenants/bulk/set', { body: { tenants: [{ name: 'x' }] } })).body).toMatchObject({
      status: 422,
      errors: [{ field: 'tenants[0].id' }],
    });
  });
});
