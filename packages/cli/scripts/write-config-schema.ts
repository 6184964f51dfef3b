// `npm run schema -w @syncline/cli`: writes the shipped JSON Schemas from the zod schemas (formatted as the
// repository's Prettier would, so `prettier --check` passes).
import { writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';
import { configJsonSchema } from '../src/config-json-schema.js';

for (const [which, file] of [
  ['sync', 'sync.schema.json'],
  ['workspace', 'syncline.schema.json'],
] as const) {
  const url = new URL(`../schema/${file}`, import.meta.url);
  const options = (await resolveConfig(url)) ?? {};
  writeFileSync(url, await format(JSON.stringify(configJsonSchema(which)), { ...options, parser: 'json' }));
}
