import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AlertDelivery, AlertRunInput, AlertLedger } from '@syncline/alerts';
import type { LoadedConfig } from './load-config.js';

/**
 * After `syncline run` (or a run the server started) saved its run record: sends the sync's alerts (its own
 * or its folder's `syncline.yaml`) when its status changed, records the deliveries with the run and returns them. Never throws and never changes the exit
 * code: a bad workspace file or a receiver that is down is reported on stderr only. A sync without alerts
 * costs one `existsSync` (nothing else loads), so runs without alerts end as fast as before.
 * @example await runAlerts({ config, file, result, ledger, io, env })
 */
export async function runAlerts(options: {
  config: LoadedConfig;
  /** The config path as given on the command line (for `syncline runs show` in the alert). */
  file: string;
  result: AlertRunInput & { dryRun?: boolean };
  ledger: AlertLedger;
  /** Where delivery problems are reported (the CLI's stderr, the server's log). */
  io: { stderr: { write(text: string): unknown } };
  env: NodeJS.ProcessEnv;
}): Promise<AlertDelivery[]> {
  const { config } = options;
  if (options.result.dryRun) return [];
  if (config.alerts ? config.alerts.length === 0 : !existsSync(join(config.dir, 'syncline.yaml'))) return [];
  const say = (line: string): void => void options.io.stderr.write(`${line}\n`);
  try {
    const [{ sendRunAlerts }, { syncAlerts }] = await Promise.all([import('@syncline/alerts'), import('./load-workspace.js')]);
    const alerts = syncAlerts(config, options.env);
    if (alerts.length === 0) return [];
    return await sendRunAlerts({ alerts, run: options.result, configFile: options.file, ledger: options.ledger, log: say });
  } catch (e) {
    const { redact } = await import('@syncline/core');
    say(`Alerts not sent: ${redact(String((e as Error)?.message ?? e))}`);
    return [];
  }
}
