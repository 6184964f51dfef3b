import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SyncError, type Destination } from '@syncline/core';
import type { LoadedConfig, ModuleDestinationConfig } from './load-config.js';

/** Whether a value has the shape of a `Destination` (what the run loop calls). */
function isDestination(v: unknown): v is Destination {
  const d = v as Partial<Destination> | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    typeof d.name === 'string' &&
    typeof (d.targetSchema as { safeParse?: unknown } | undefined)?.safeParse === 'function' &&
    typeof d.plan === 'function' &&
    typeof d.apply === 'function' &&
    typeof d.fields === 'function' &&
    typeof d.validate === 'function'
  );
}

/**
 * Loads the destination a config names by module (`destination: { type: module, module: ./x.js }`), makes it
 * (a factory gets the block's other keys) and validates the config's `sync:` block with its `targetSchema`,
 * setting `config.spec`. Every failure is a `config_invalid` error at `file:line:col` of the config.
 * Importing the module runs its code, with the same trust as the config and its model.
 * @example const destination = await openModuleDestination(config)
 */
export async function openModuleDestination(config: LoadedConfig & { destination: ModuleDestinationConfig }): Promise<Destination> {
  const d = config.destination;
  const fail = (key: string, problem: string): SyncError =>
    new SyncError('config_invalid', `${config.locate(['destination', key])} destination.${key}: ${problem}`);
  const local = d.module.startsWith('.') || isAbsolute(d.module);
  let url: string;
  let shown: string;
  try {
    // A path is the config folder's; a package name resolves from the config folder's node_modules.
    const path = local ? resolve(config.dir, d.module) : createRequire(join(config.dir, 'syncline.config.cjs')).resolve(d.module);
    url = pathToFileURL(path).href;
    shown = path;
  } catch (e) {
    throw fail('module', `cannot find the package ${d.module} from ${config.dir} (${firstLine(e)})`);
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException)?.code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(shown);
    throw fail('module', missing ? `no such module ${d.module} (${shown})` : `cannot load ${d.module} (${shown}): ${firstLine(e)}`);
  }
  const usable = (v: unknown): boolean => isDestination(v) || typeof v === 'function';
  const candidates: [string, unknown][] = d.export
    ? [[d.export, mod[d.export]]]
    : 'default' in mod
      ? [['default', mod.default]]
      : Object.entries(mod).filter(([, v]) => usable(v));
  const exportsList = Object.keys(mod).join(', ') || 'nothing';
  const what = 'a Destination (an object with name, targetSchema, fields, validate, plan and apply) or a function returning one';
  if (candidates.length === 0) throw fail('module', `${d.module} exports no destination: expected ${what}; it exports ${exportsList}`);
  if (candidates.length > 1)
    throw fail(
      'module',
      `${d.module} exports several candidates (${candidates.map(([k]) => k).join(', ')}): name one with destination.export`,
    );
  const [name, value] = candidates[0]!;
  const at = d.export ? 'export' : 'module';
  if (value === undefined) throw fail(at, `${d.module} has no export "${name}"; it exports ${exportsList}`);
  let destination: unknown = value;
  if (!isDestination(value) && typeof value === 'function') {
    try {
      destination = await (value as (options: Record<string, unknown>) => unknown)(d.options);
    } catch (e) {
      throw fail(at, `${d.module}: ${name}(options) failed: ${firstLine(e)}`);
    }
  } else if (Object.keys(d.options).length > 0)
    throw fail(Object.keys(d.options)[0]!, `unknown key: ${d.module} exports a destination object (${name}), not a factory taking options`);
  if (!isDestination(destination)) throw fail(at, `${d.module}: ${name} is not ${what}`);
  config.useDestination(destination);
  return destination;
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0]!;
}
