import { z } from 'zod';
import { configSchema, moduleConfigSchema } from './load-config.js';
import { workspaceSchema } from './load-workspace.js';

/**
 * The JSON Schema of a sync config (`sync.yaml`) or of a folder's `syncline.yaml`, generated from the zod
 * schemas the CLI validates with, so editors complete and check the same rules. Shipped as
 * `schema/sync.schema.json` and `schema/syncline.schema.json` (`npm run schema -w @syncline/cli` rewrites them).
 * @example writeFileSync('sync.schema.json', JSON.stringify(configJsonSchema('sync'), null, 2))
 */
export function configJsonSchema(which: 'sync' | 'workspace'): Record<string, unknown> {
  const json = (schema: z.ZodType): Record<string, unknown> => z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' });
  const schema = which === 'sync' ? bySyncDestination(json(configSchema), json(moduleConfigSchema)) : json(workspaceSchema);
  return {
    ...withoutUriFormat(schema),
    title:
      which === 'sync'
        ? 'Syncline sync config (sync.yaml)'
        : 'Syncline workspace file (syncline.yaml), inherited by every sync of its folder',
  };
}

/**
 * The `sync:` block is the destination's (see `configSchemaFor`): Knock's keys, checked strictly, unless
 * `destination.type` is `module`, whose block holds core's keys and the module's own (its `targetSchema`,
 * which is code: the CLI checks it when it loads the module). JSON Schema's `if`/`then`/`else` says so;
 * `properties.sync` stays (as `true`) because `additionalProperties: false` sees only its own level.
 */
function bySyncDestination(knock: Record<string, unknown>, module: Record<string, unknown>): Record<string, unknown> {
  const properties = knock.properties as Record<string, unknown>;
  const syncOf = (s: Record<string, unknown>): unknown => (s.properties as Record<string, unknown>).sync;
  return {
    ...knock,
    properties: { ...properties, sync: true },
    if: {
      properties: { destination: { properties: { type: { const: 'module' } }, required: ['type'] } },
      required: ['destination'],
    },
    then: { properties: { sync: syncOf(module) } },
    else: { properties: { sync: syncOf(knock) } },
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
