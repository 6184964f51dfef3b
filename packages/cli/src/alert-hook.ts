import { sendRunAlerts, type AlertLedger, type AlertRunInput } from '@syncline/alerts';
import { redact } from '@syncline/core';
import type { LoadedConfig } from './load-config.js';
import { syncAlerts } from './load-workspace.js';
import type { Io } from './program.js';

/**
 * After `syncline run` saved its run record: sends the sync's alerts (its own or its folder's `syncline.yaml`)
 * when its status changed, and records the deliveries with the run. Never throws and never changes the exit
 * code: a bad workspace file or a receiver that is down is reported on stderr only.
 * @example await runAlerts({ config, file, result, ledger, io, env })
 */
export async function runAlerts(options: {
  config: LoadedConfig;
  /** The config path as given on the command line (for `syncline runs show` in the alert). */
  file: string;
  result: AlertRunInput & { dryRun?: boolean };
  ledger: AlertLedger;
  io: Io;
  env: NodeJS.ProcessEnv;
}): Promise<void> {
  if (options.result.dryRun) return;
  const say = (line: string): void => void options.io.stderr.write(`${line}\n`);
  try {
    const alerts = syncAlerts(options.config, options.env);
    if (alerts.length === 0) return;
    await sendRunAlerts({ alerts, run: options.result, configFile: options.file, ledger: options.ledger, log: say });
  } catch (e) {
    say(`Alerts not sent: ${redact(String((e as Error)?.message ?? e))}`);
  }
}
