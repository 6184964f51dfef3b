import { describeSchedule, nextTime, type Schedule } from './schedule-config.js';

/** One scheduled sync. */
export interface ScheduledJob {
  /** The sync's name, for the logs. */
  name: string;
  schedule: Schedule;
  /**
   * Runs the sync once; resolves to a short outcome for the log (e.g. `succeeded`). The signal aborts when
   * the scheduler stops (finish calls in flight and commit, as on Ctrl-C).
   */
  run(signal: AbortSignal): Promise<string | void>;
  /** When the sync last ran (from its ledger), to run a tick missed while the scheduler was down. */
  lastRunAt?(): Promise<Date | undefined>;
}

/** What the scheduler did, for logs and a server's status view. */
export type SchedulerEvent =
  | { type: 'next'; job: string; at: Date }
  | { type: 'start'; job: string; reason: 'scheduled' | 'missed'; due: Date }
  | { type: 'done'; job: string; ms: number; outcome: string }
  | { type: 'error'; job: string; ms: number; message: string }
  | { type: 'skipped'; job: string; due: Date; runningSince: Date }
  | { type: 'stopped' };

/** Options of {@link createScheduler}. */
export interface SchedulerOptions {
  jobs: readonly ScheduledJob[];
  /** One line per event, e.g. for stderr: never a secret. */
  log?: ((line: string) => void) | undefined;
  onEvent?: ((event: SchedulerEvent) => void) | undefined;
}

/** A started scheduler. */
export interface Scheduler {
  /** Each job's next run time (undefined once stopped or when its cron never fires again) and whether it is running. */
  status(): { job: string; next: Date | undefined; running: boolean }[];
  /** Stops ticking, aborts runs in progress (they finish their calls in flight) and waits for them. Idempotent. */
  stop(): Promise<void>;
  /** Resolves once stopped. */
  readonly stopped: Promise<void>;
}

// setTimeout's longest delay (about 24.8 days); longer waits re-arm.
const MAX_DELAY = 2 ** 31 - 1;

/**
 * Runs each job on its schedule, in the foreground of the process that calls it. A sync never runs twice at
 * once: a tick that comes while its run is still going is skipped and logged. On start, a job whose last run
 * (`lastRunAt`) is older than its schedule's next time after it has missed a tick while the scheduler was down:
 * it runs once now, not once per missed tick.
 * @example
 * const scheduler = await startScheduler({ jobs: [{ name: 'users', schedule: { every: '15m' }, run: (signal) => sync(signal) }], log: console.error });
 * process.once('SIGTERM', () => scheduler.stop());
 */
export async function startScheduler(options: SchedulerOptions): Promise<Scheduler> {
  const abort = new AbortController();
  const emit = (event: SchedulerEvent): void => {
    options.onEvent?.(event);
    const line = describe(event, options.jobs);
    if (line) options.log?.(line);
  };
  const state = options.jobs.map((job) => ({
    job,
    next: undefined as Date | undefined,
    timer: undefined as ReturnType<typeof setTimeout> | undefined,
    running: undefined as { since: Date; done: Promise<void> } | undefined,
  }));

  const runJob = (s: (typeof state)[number], reason: 'scheduled' | 'missed', due: Date): void => {
    if (s.running) {
      emit({ type: 'skipped', job: s.job.name, due, runningSince: s.running.since });
      return;
    }
    const since = new Date();
    emit({ type: 'start', job: s.job.name, reason, due });
    const done = (async () => {
      try {
        const outcome = await s.job.run(abort.signal);
        emit({ type: 'done', job: s.job.name, ms: Date.now() - since.getTime(), outcome: outcome || 'done' });
      } catch (e) {
        emit({ type: 'error', job: s.job.name, ms: Date.now() - since.getTime(), message: (e as Error)?.message ?? String(e) });
      } finally {
        s.running = undefined;
      }
    })();
    s.running = { since, done };
  };

  const arm = (s: (typeof state)[number], after: Date): void => {
    if (abort.signal.aborted) return;
    s.next = nextTime(s.job.schedule, after);
    if (!s.next) return;
    emit({ type: 'next', job: s.job.name, at: s.next });
    const due = s.next;
    const wait = (): void => {
      const ms = due.getTime() - Date.now();
      if (ms > 0) {
        s.timer = setTimeout(wait, Math.min(ms, MAX_DELAY));
        return;
      }
      // Arm the next tick before running, so a long run's ticks arrive (and are skipped, logged) on time.
      arm(s, new Date(Math.max(Date.now(), due.getTime())));
      runJob(s, 'scheduled', due);
    };
    wait();
  };

  for (const s of state) {
    const last = await s.job.lastRunAt?.().catch(() => undefined);
    const missed = last ? nextTime(s.job.schedule, last) : undefined;
    arm(s, new Date());
    if (missed && missed.getTime() <= Date.now()) runJob(s, 'missed', missed);
  }

  let stopping: Promise<void> | undefined;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  return {
    status: () =>
      state.map((s) => ({ job: s.job.name, next: abort.signal.aborted ? undefined : s.next, running: s.running !== undefined })),
    stop() {
      stopping ??= (async () => {
        abort.abort();
        for (const s of state) clearTimeout(s.timer);
        await Promise.all(state.map((s) => s.running?.done));
        emit({ type: 'stopped' });
        resolveStopped();
      })();
      return stopping;
    },
    stopped,
  };
}

function describe(event: SchedulerEvent, jobs: readonly ScheduledJob[]): string | undefined {
  const at = (d: Date): string => d.toISOString();
  switch (event.type) {
    case 'next': {
      const job = jobs.find((j) => j.name === event.job);
      return `${event.job}: next run at ${at(event.at)}${job ? ` (${describeSchedule(job.schedule)})` : ''}`;
    }
    case 'start':
      return event.reason === 'missed'
        ? `${event.job}: missed the run due at ${at(event.due)} while the scheduler was down; running once now`
        : `${event.job}: run started (due ${at(event.due)})`;
    case 'done':
      return `${event.job}: run finished in ${(event.ms / 1000).toFixed(1)}s: ${event.outcome}`;
    case 'error':
      return `${event.job}: run failed after ${(event.ms / 1000).toFixed(1)}s: ${event.message}`;
    case 'skipped':
      return `${event.job}: skipped the run due at ${at(event.due)}: the previous run (started ${at(event.runningSince)}) is still going`;
    case 'stopped':
      return 'Scheduler stopped.';
  }
}
