import type { Context } from 'hono';
import type { AppEnv } from './app-types.js';
import { isPlainObject } from './deep-merge.js';

/**
 * The ids a request carries, for fault rules with `ids`: path ids (`{user_id}`, `{id}`), bulk items
 * (`users[].id`, `objects[].id`, `user_ids[]`, `object_ids[]`) and audience members (`members[].user.id`,
 * in the body or the `?members=` query of a remove). Only read when such a rule exists; Hono caches the
 * body text, so the route handler still reads it.
 * @example const ids = await requestIds(c) // Set { 'u1', 'u2' }
 */
export async function requestIds(c: Context<AppEnv>): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const name of ['user_id', 'id']) {
    const v = c.req.param(name);
    if (v) ids.add(v);
  }
  const add = (value: unknown): void => {
    if (!isPlainObject(value)) return;
    for (const field of ['users', 'objects', 'user_ids', 'object_ids', 'members']) {
      const list = value[field];
      if (!Array.isArray(list)) continue;
      for (const item of list) {
        if (typeof item === 'string') ids.add(item);
        else if (isPlainObject(item)) {
          const user = item['user'];
          const id = isPlainObject(user) ? user['id'] : item['id'];
          if (typeof id === 'string') ids.add(id);
        }
      }
    }
  };
  const text = c.req.method === 'GET' ? '' : await c.req.text();
  add(parse(text));
  const members = c.req.query('members');
  if (members) add({ members: parse(members) });
  return ids;
}

function parse(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
