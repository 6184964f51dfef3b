import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKSPACE_FILE } from './load-workspace.js';

/**
 * The sync configs of a folder, by name: YAML files with a top-level `sync:` (other YAML, such as a
 * docker-compose file or the workspace's `syncline.yaml`, is left alone). Used by `run --all` and `schedule`.
 * @example syncConfigFiles('syncs') // ['syncs/companies.yaml', 'syncs/users.yaml']
 */
export function syncConfigFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && f !== WORKSPACE_FILE)
    .sort()
    .map((f) => join(dir, f))
    .filter((f) => /^sync:/m.test(readFileSync(f, 'utf8')));
}
