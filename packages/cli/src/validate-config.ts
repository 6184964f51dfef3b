import { openDuckdbLedger, runSync } from '@syncline/core';
import { configSchemaFor, loadConfig } from './load-config.js';
import { syncAlerts } from './load-workspace.js';
import { openSyncParts } from './open-sync.js';
import { EXIT, type Io } from './program.js';
import { readYamlConfig } from './yaml-config.js';
import { describeSchedule } from '@syncline/alerts';

/** Shown per kind of problem; the count of the rest is summed up. */
const MAX_ROWS_SHOWN = 20;

/**
 * `syncline validate <config>`: the config (with its alerts, schedule and the folder's `syncline.yaml`), the
 * model's columns, the mapping, and every row against Knock's field rules — all locally: a dry run in a
 * throwaway ledger with the destination never called, so no API key is needed. Problems are printed as
 * `file:line:col path: message`; exit 2 when there is one.
 * @example process.exitCode = await validateConfig('sync.yaml', io, process.env)
 */
export async function validateConfig(file: string, io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  const config = loadConfig(file, env, { modules: true });
  const alerts = syncAlerts(config, env);
  // Nothing is sent: the key only has to satisfy the destination's options.
  const parts = await openSyncParts(config, { env: { ...env, KNOCK_API_KEY: env.KNOCK_API_KEY || 'sk_test_validate_offline' } });
  let result;
  try {
    await using ledger = await openDuckdbLedger({ path: ':memory:', ...config.ledger });
    result = await runSync({
      spec: config.spec,
      source: parts.source,
      destination: parts.destination,
      ledger,
      dryRun: true,
      allowMassDelete: true,
      previewLimit: 0,
    });
  } finally {
    await parts.destination.close?.();
  }
  const { doc, where } = readYamlConfig(file, configSchemaFor, env);
  const at = (path: string[]): string => {
    for (let i = path.length; i > 0; i--) {
      const node = doc.getIn(path.slice(0, i), true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return where(node.range[0]);
    }
    return where(undefined);
  };
  const problems: string[] = [];
  if (result.error) {
    const path = typeof result.error.details?.path === 'string' ? result.error.details.path.split('.') : [];
    const message = result.error.message.replace(/^[\w.]+: /, '');
    problems.push(`${at(path.length ? path : ['model'])} ${path.length ? `${path.join('.')}: ` : 'model: '}${message}`);
  }
  for (const i of result.invalid.slice(0, MAX_ROWS_SHOWN)) {
    const path = i.field in config.spec.fields ? ['sync', 'fields', i.field] : ['key'];
    problems.push(`${at(path)} ${path.join('.')}: ${i.row ? `row ${i.row} ` : ''}(${config.spec.key} ${i.key}): ${i.message}`);
  }
  const more = result.rows.invalid - Math.min(result.invalid.length, MAX_ROWS_SHOWN);
  if (more > 0) problems.push(`${file}: ${more} more invalid row${more > 1 ? 's' : ''} (syncline plan lists them)`);
  if (problems.length > 0) {
    io.stderr.write(problems.map((p) => `${p}\n`).join(''));
    return EXIT.usage;
  }
  const extras = [
    alerts.length ? `${alerts.length} alert channel${alerts.length > 1 ? 's' : ''}` : 'no alerts',
    config.schedule ? `schedule ${describeSchedule(config.schedule)}` : 'no schedule',
  ];
  io.stdout.write(
    `${file} is valid: ${result.rows.total} rows, key ${config.spec.key}, ${Object.keys(config.spec.fields).length} mapped fields, ${extras.join(', ')}. Nothing was sent.\n`,
  );
  return EXIT.ok;
}
