import { z } from 'zod';
import { configSchema } from './load-config.js';
import { workspaceSchema } from './load-workspace.js';

/**
 * The JSON Schema of a sync config (`sync.yaml`) or of a folder's `syncline.yaml`, generated from the zod
 * schemas the CLI validates with, so editors complete and check the same rules. Shipped as
 * `schema/sync.schema.json` and `schema/syncline.schema.json` (`npm run schema -w @syncline/cli` rewrites them).
 * @example writeFileSync('sync.schema.json', JSON.stringify(configJsonSchema('sync'), null, 2))
 */
export function configJsonSchema(which: 'sync' | 'workspace'): Record<string, unknown> {
  const schema = z.toJSONSchema(which === 'sync' ? configSchema : workspaceSchema, { io: 'input', target: 'draft-2020-12' });
  return {
    ...withoutUriFormat(schema),
    title:
      which === 'sync'
        ? 'Syncline sync config (sync.yaml)'
        : 'Syncline workspace file (syncline.yaml), inherited by every sync of its folder',
  };
}

/** URLs are often `${SLACK_WEBHOOK_URL}` in the file (interpolated when loaded): an editor must not flag them. */
function withoutUriFormat<T>(node: T): T {
  if (Array.isArray(node)) return node.map(withoutUriFormat) as T;
  if (node && typeof node === 'object')
    return Object.fromEntries(
      Object.entries(node)
        .filter(([k, v]) => !(k === 'format' && v === 'uri'))
        .map(([k, v]) => [k, withoutUriFormat(v)]),
    ) as T;
  return node;
}
