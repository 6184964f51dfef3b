import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { alertsSchema, type AlertChannelConfig } from '@syncline/alerts';
import type { LoadedConfig } from './load-config.js';
import { readYamlConfig } from './yaml-config.js';

/** The workspace file every sync config in its folder inherits from. */
export const WORKSPACE_FILE = 'syncline.yaml';

/** `syncline.yaml`: settings shared by the syncs of a folder. */
export const workspaceSchema = z.strictObject({
  /** Alerts for every sync in the folder that has no `alerts:` of its own. */
  alerts: alertsSchema.optional(),
});

/**
 * Reads `<dir>/syncline.yaml` if there is one (`${VAR}` interpolated; errors name `file:line:col`).
 * @example const workspace = loadWorkspace('syncs', process.env)
 */
export function loadWorkspace(dir: string, env: NodeJS.ProcessEnv): z.output<typeof workspaceSchema> | undefined {
  const file = join(dir, WORKSPACE_FILE);
  if (!existsSync(file)) return undefined;
  // Errors show the path relative to the working directory when it is below it, else the absolute path.
  const shown = relative(process.cwd(), file);
  return readYamlConfig(shown.startsWith('..') ? file : shown, workspaceSchema, env).data;
}

/**
 * The alerts of a sync: its own `alerts:` when it has the key (`alerts: []` turns the folder's off), else the
 * folder's `syncline.yaml` alerts.
 * @example const alerts = syncAlerts(config, env)
 */
export function syncAlerts(config: LoadedConfig, env: NodeJS.ProcessEnv): AlertChannelConfig[] {
  return config.alerts ?? loadWorkspace(config.dir, env)?.alerts ?? [];
}
