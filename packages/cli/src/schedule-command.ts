import type { Command } from 'commander';
import { withEnv, type Io } from './program.js';

/**
 * `syncline schedule [--dir DIR]`: runs every scheduled sync of a folder in the foreground, each as
 * `syncline run` would (alerts included). Ctrl-C or SIGTERM stops ticking and lets runs in progress finish
 * their calls in flight and commit. The work loads lazily (run-schedule.ts), so registering stays light.
 */
export function registerScheduleCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('schedule')
    .description('run the scheduled syncs of a folder (`schedule:` in each config) in the foreground')
    .option('--dir <dir>', 'the folder of sync configs', '.')
    .action(async (flags: { dir: string }) =>
      setExit(await withEnv(io, async (env) => (await import('./run-schedule.js')).runSchedule(flags.dir, io, env))),
    );
}
