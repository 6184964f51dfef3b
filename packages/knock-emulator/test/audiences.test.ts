import { describe, expect, test } from 'vitest';
import { freshHarness, withHarness } from './helpers.js';

const start = freshHarness();

describe('audiences', () => {
  test('adding to an unknown audience is 404 unless create_audience=true', async () => {
    const { knock, http } = await start();
    const members = [{ user: { id: 'u1' } }];
    expect((await http('POST', '/v1/audiences/vip/members', { body: { members } })).status).toBe(404);
    await knock.audiences.addMembers('vip', { members, create_audience: true });
    expect((await knock.audiences.listMembers('vip')).entries.map((m) => m.user_id)).toEqual(['u1']);
  });

  test('add answers 204, upserts user properties and lists members with their user and tenant', async () => {
    const { knock, http } = await start();
    await knock.users.update('u1', { name: 'Ann', plan: 'free' } as never);
    const res = await http('POST', '/v1/audiences/vip/members?create_audience=true', {
      body: {
        members: [
          { user: { id: 'u1', plan: 'pro' } },
          { user: { id: 'u1' }, tenant: 'acme' },
          { user: { id: 'u2', email: 'b@example.com' } },
        ],
      },
    });
    expect([res.status, res.text]).toEqual([204, '']);
    expect(await knock.users.get('u1')).toMatchObject({ name: 'Ann', plan: 'pro' });
    const list = await knock.audiences.listMembers('vip');
    expect(list.entries).toHaveLength(3);
    expect(list.entries.find((m) => m.tenant === 'acme')).toMatchObject({
      __typename: 'AudienceMember',
      user_id: 'u1',
      user: { id: 'u1', name: 'Ann' },
    });
    expect(list.page_info).toMatchObject({ after: null });
  });

  test('only new (user, tenant) tuples are entry events; re-adding is not', async () => {
    const { knock, http, emulator } = await start();
    const add = (members: Array<{ user: { id: string }; tenant?: string }>) =>
      knock.audiences.addMembers('vip', { members, create_audience: true });
    await add([{ user: { id: 'u1' } }]);
    await add([{ user: { id: 'u1' } }, { user: { id: 'u1' }, tenant: 't1' }]);
    await add([{ user: { id: 'u1' }, tenant: 't1' }]);
    const entries = emulator.control.audienceEntries('vip');
    expect(entries.map((e) => [e.user_id, e.tenant])).toEqual([
      ['u1', null],
      ['u1', 't1'],
    ]);
    const viaHttp = await http('GET', '/__emulator/audiences/vip/entries');
    expect((viaHttp.body as { entries: unknown[] }).entries).toHaveLength(2);
    const otherEnv = await http('GET', '/__emulator/audiences/vip/entries', { key: 'sk_test_other' });
    expect(otherEnv.body).toEqual({ entries: [] });
  });

  test('remove takes a JSON body or ?members=<JSON>; without tenant only the tenant-less membership goes', async () => {
    const { knock, http } = await start();
    await knock.audiences.addMembers('vip', {
      create_audience: true,
      members: [{ user: { id: 'u1' } }, { user: { id: 'u1' }, tenant: 't1' }, { user: { id: 'u2' } }, { user: { id: 'u3' } }],
    });
    await knock.audiences.removeMembers('vip', { members: [{ user: { id: 'u1' } }] });
    const query = encodeURIComponent(JSON.stringify([{ user: { id: 'u2' } }]));
    const res = await http('DELETE', `/v1/audiences/vip/members?members=${query}`);
    expect([res.status, res.text]).toEqual([204, '']);
    const left = (await knock.audiences.listMembers('vip')).entries.map((m) => [m.user_id, m.tenant]);
    expect(left).toEqual([
      ['u1', 't1'],
      ['u3', null],
    ]);
  });

  test('the removeWithoutTenant "all" switch removes every membership of the user', async () => {
    await withHarness({ switches: { removeWithoutTenant: 'all' } }, async ({ knock }) => {
      await knock.audiences.addMembers('vip', {
        create_audience: true,
        members: [{ user: { id: 'u1' } }, { user: { id: 'u1' }, tenant: 't1' }],
      });
      await knock.audiences.removeMembers('vip', { members: [{ user: { id: 'u1' } }] });
      expect((await knock.audiences.listMembers('vip')).entries).toEqual([]);
    });
  });

  test.each([
    [{}, 'members', 'required'],
    [{ members: [{ user: {} }] }, 'members[0].user.id', 'required'],
    [{ members: [{ tenant: 't' }] }, 'members[0].user', 'required'],
    [{ members: [{ user: { id: 'a/b' } }] }, 'members[0].user.id', 'format'],
    [{ members: Array.from({ length: 1001 }, (_, i) => ({ user: { id: `u${i}` } })) }, 'members', 'length'],
  ])('add with %# → 422 on %s', async (body, field, type) => {
    const { http } = await start();
    const res = await http('POST', '/v1/audiences/vip/members?create_audience=true', { body });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'invalid_params', errors: [{ field, type }] });
  });
});
