import { SyncError } from '@syncline/core';
import type { ScheduledJob } from '@syncline/alerts';
import { loadConfig, type LoadedConfig } from './load-config.js';
import { syncAlerts } from './load-workspace.js';
import { syncConfigFiles } from './sync-config-files.js';
import { main, EXIT, type Io } from './program.js';

/** A run's exit code as words for the scheduler's log (a function, so EXIT is read when called). */
function outcome(code: number): string {
  const words: Record<number, string> = {
    [EXIT.ok]: 'succeeded',
    [EXIT.rowsFailed]: 'partial (some rows failed; they are sent again next run)',
    [EXIT.usage]: 'bad config',
    [EXIT.failed]: 'failed',
    [EXIT.resumeLater]: 'paused until Knock takes calls again',
    [EXIT.interrupted]: 'interrupted',
  };
  return words[code] ?? `exit ${code}`;
}

/**
 * The scheduled sync configs of a folder: YAML files with a top-level `sync:` (other YAML, such as a
 * docker-compose file, is left alone) and a `schedule:`. Each is validated, with its alerts.
 * @example const configs = scheduledConfigs('syncs', process.env)
 */
export function scheduledConfigs(dir: string, env: NodeJS.ProcessEnv): { file: string; config: LoadedConfig }[] {
  const out = syncConfigFiles(dir)
    .map((file) => ({ file, config: loadConfig(file, env, { modules: true }) }))
    .filter((c) => c.config.schedule !== undefined);
  for (const c of out) syncAlerts(c.config, env); // a bad syncline.yaml fails now, not after the first run
  return out;
}

/** Opens the sync's ledger for a moment to read when it last ran. */
async function lastRunAt(config: LoadedConfig): Promise<Date | undefined> {
  const { ledgerExists } = await import('@syncline/core');
  const warehouse = config.source.type === 'postgres' && config.source.ledger === 'warehouse';
  if (!warehouse && !ledgerExists(config.ledgerPath)) return undefined;
  // Opened as for a dry run: a missing file or schema is never created just to read the last run.
  await using ledger = await (await import('./open-sync.js')).openLedger(config, true);
  const [last] = await ledger.runs(1);
  return last ? new Date(last.startedAt) : undefined;
}

/**
 * The scheduler's jobs for scheduled configs: each runs `syncline run <file>` in this process (its output
 * goes to `io`) and reads its last run time from the sync's ledger. `syncline serve` can start these with
 * `startScheduler` from `@syncline/alerts`.
 * @example const scheduler = await startScheduler({ jobs: workspaceJobs(scheduledConfigs('syncs', env), io) })
 */
export function workspaceJobs(configs: { file: string; config: LoadedConfig }[], io: Io): ScheduledJob[] {
  return configs.map(({ file, config }) => ({
    name: config.spec.name,
    schedule: config.schedule!,
    lastRunAt: () => lastRunAt(config),
    run: async () => outcome(await main(['run', file], io)),
  }));
}

/**
 * Runs the scheduled syncs of `dir` until SIGINT or SIGTERM; resolves to the exit code (0 after a clean stop).
 * @example process.exitCode = await runSchedule('syncs', io, env)
 */
export async function runSchedule(dir: string, io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  const configs = scheduledConfigs(dir, env);
  if (configs.length === 0)
    throw new SyncError(
      'config_invalid',
      `${dir}: no scheduled syncs (add schedule: "*/15 * * * *" or schedule: { every: 15m } to a sync config)`,
    );
  const { startScheduler } = await import('@syncline/alerts');
  const say = (line: string): void => void io.stderr.write(`[${new Date().toISOString()}] ${line}\n`);
  const jobs = workspaceJobs(configs, io);
  say(`Scheduling ${jobs.length} sync${jobs.length > 1 ? 's' : ''} from ${dir} (Ctrl-C to stop)`);
  const scheduler = await startScheduler({ jobs, log: say });
  const stop = (signal: string) => (): void => {
    say(`${signal}: stopping; runs in progress finish their calls in flight and commit`);
    void scheduler.stop();
  };
  const onInt = stop('SIGINT');
  const onTerm = stop('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    await scheduler.stopped;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
  return EXIT.ok;
}
