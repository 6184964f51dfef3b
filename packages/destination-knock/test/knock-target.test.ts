import { createHash } from 'node:crypto';
import { configHash, syncSpecFieldsSchema, toSyncSpec } from '@syncline/core';
import { expect, test } from 'vitest';
import { knockDestination, knockSendsRemovals, knockTargetSchema } from '../src/index.js';

const knock = knockDestination({ apiKey: 'sk_test_target', baseUrl: 'http://127.0.0.1:9' });
const spec = (sync: Record<string, unknown>) =>
  toSyncSpec(syncSpecFieldsSchema.parse({ name: 's', model: 'select 1', key: 'id', sync: { fields: { email: 'email' }, ...sync } }), knock);

test("the Knock target: mode filled per type, Knock's rules at their key", () => {
  expect(knockTargetSchema.parse({ type: 'users' })).toEqual({ type: 'users', mode: 'upsert' });
  expect(knockTargetSchema.parse({ type: 'audiences', audience: 'vip' })).toEqual({ type: 'audiences', mode: 'add', audience: 'vip' });
  const issues = (t: unknown) => knockTargetSchema.safeParse(t).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  expect(issues({ type: 'objects' })).toEqual(['collection: required for objects']);
  expect(issues({ type: 'users', mode: 'add' })).toEqual([
    'mode: mode "add" is not valid for users (users/objects: upsert; audiences: add | remove)',
  ]);
  expect(issues({ type: 'users', audience: 'vip' })).toEqual(['audience: only for audiences, not users']);
});

test('removals: a delete only with onDelete: delete; an audience in add mode always removes leavers', () => {
  expect(knockSendsRemovals(spec({ type: 'users' }).target)).toBe(false);
  expect(knockSendsRemovals(spec({ type: 'users', onDelete: 'delete' }).target)).toBe(true);
  expect(knockSendsRemovals(spec({ type: 'audiences', audience: 'vip' }).target)).toBe(true);
  expect(knockSendsRemovals(spec({ type: 'audiences', audience: 'vip', mode: 'remove' }).target)).toBe(false);
});

test('the row-hash salt of a Knock sync is what it was before the target moved out of core: no synced row is resent', () => {
  // The formula core used while it knew Knock's target (until issue 15's refactor), written out.
  const before = (s: ReturnType<typeof spec>) => {
    const t = s.target;
    const shape = {
      key: s.key,
      fields: Object.entries(s.fields).sort(),
      type: t.type,
      mode: t.mode,
      collection: t.collection ?? null,
      audience: t.audience ?? null,
      nulls: t.nulls,
    };
    return createHash('md5').update(JSON.stringify(shape)).digest('hex');
  };
  for (const s of [
    spec({ type: 'users' }),
    spec({ type: 'objects', collection: 'projects', nulls: 'send' }),
    spec({ type: 'audiences', audience: 'vip', createAudience: true }),
  ])
    expect(configHash(s, knock)).toBe(before(s));
  // createAudience and onDelete do not shape payloads: changing them resends nothing.
  expect(configHash(spec({ type: 'users', onDelete: 'delete' }), knock)).toBe(configHash(spec({ type: 'users' }), knock));
});
