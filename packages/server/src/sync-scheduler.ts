import { basename, extname } from 'node:path';
import { startScheduler, type Scheduler } from '@syncline/alerts';
import { scheduledConfigs } from '@syncline/cli';
import type { RunManager } from './run-manager.js';
import type { Workspace } from './workspace.js';

/**
 * The workspace's scheduled syncs (`schedule:` in `syncs/*.yaml`), run by the server's own run manager, so
 * each scheduled run shows in the run history and the live debugger like one started from the browser. A
 * tick that comes while a run of the sync is going (scheduled or not) is skipped and logged; a run missed
 * while the server was down runs once at start. Undefined when no sync has a schedule.
 * @example const scheduler = await startSyncScheduler({ ws, runs, env, log })
 */
export async function startSyncScheduler(opts: {
  ws: Workspace;
  runs: RunManager;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}): Promise<Scheduler | undefined> {
  const configs = scheduledConfigs(opts.ws.syncsDir, opts.env);
  if (configs.length === 0) return undefined;
  const jobs = configs.map(({ file, config }) => {
    // The server names a sync by its file (syncs/<name>.yaml).
    const name = basename(file, extname(file));
    return {
      name,
      schedule: config.schedule!,
      lastRunAt: async () => {
        const [last] = await opts.runs.history(name, 1);
        return last ? new Date(last.startedAt) : undefined;
      },
      run: async (signal: AbortSignal) => {
        const run = opts.runs.start(name, {});
        const stop = (): void =>
          void Promise.resolve()
            .then(() => opts.runs.cancel(run.runId))
            .catch(() => undefined);
        signal.addEventListener('abort', stop, { once: true });
        await run.finished;
        signal.removeEventListener('abort', stop);
        return `${run.status} (run ${run.runId})`;
      },
    };
  });
  opts.log(`Scheduling ${jobs.length} sync${jobs.length > 1 ? 's' : ''}: ${jobs.map((j) => j.name).join(', ')}`);
  return startScheduler({ jobs, log: opts.log });
}
