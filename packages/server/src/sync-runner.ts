import { fork, type ChildProcess } from 'node:child_process';
import { SyncError, redact, type SyncErrorCode } from '@syncline/core';
import { ApiError, type ApiErrorCode } from './api-error.js';
import { childEntry, childEnv } from './child-entry.js';
import type { SerializedError, SyncEventMessage, SyncJob, SyncJobValue, SyncProcessInit, SyncReply, SyncRequest } from './sync-protocol.js';

/** What the server hears from a job while it works. */
export interface SyncJobListener {
  event?(event: SyncEventMessage['event'], data: Record<string, unknown>): void;
  log?(line: string): void;
}

/** A job handed to the sync process. */
export interface SyncJobHandle {
  done: Promise<SyncJobValue>;
  /** The clean stop (Ctrl-C); again, or `hard`, stops the calls in flight too. */
  stop(kind: 'stop' | 'hard'): void;
}

/** Plans and runs in a child process (sync-process.ts), started on first use and replaced after a crash. */
export interface SyncRunner {
  start(job: Omit<SyncJob, 'id'>, listener: SyncJobListener): SyncJobHandle;
  /** The process id while one runs (tests: kill it, read its environment). */
  pid(): number | undefined;
  /** Ends the process (after the server stopped its runs). */
  close(): Promise<void>;
}

/** Options of {@link createSyncRunner}: what every job shares, and the watchdog's patience. */
export interface SyncRunnerOptions extends Omit<SyncProcessInit, 'type' | 'heartbeatMs'> {
  log: (line: string) => void;
  /**
   * A process with jobs in flight that sends nothing (no heartbeat, event or answer) for this long is hung:
   * its jobs fail with `sync_hung` and it is killed. Default 60 s (its heartbeat comes every second).
   */
  hangTimeoutMs?: number | undefined;
  /**
   * After a `hard` stop, how long the job may take to end before its process is killed (default 3 s): a
   * second cancel stops a run now even when its process does not answer.
   */
  hardStopMs?: number | undefined;
  /** Tests: another entry file that loads sync-process.ts (run through tsx as the sources are). */
  entry?: string | undefined;
}

/** How long a new process may take to load before its first heartbeat counts as late, on top of the timeout. */
const START_UP_MS = 30_000;

/**
 * Starts the sync process lazily and hands it plans and runs; their events and log lines come back as
 * they happen. One process serves every job (its start-up is paid once); a crash fails the jobs in flight
 * with a clear error, and the next job starts a new process. A watchdog ends a process that stops answering
 * (its event loop held: no heartbeat) with `sync_hung`, the same way.
 * @example const runner = createSyncRunner({ dir, env, knock: undefined, log }); const h = runner.start(job, {});
 */
export function createSyncRunner(options: SyncRunnerOptions): SyncRunner {
  const { log, hangTimeoutMs = 60_000, hardStopMs = 3_000, entry, ...init } = options;
  const heartbeatMs = Math.max(10, Math.min(1_000, Math.floor(hangTimeoutMs / 4)));
  let child: ChildProcess | undefined;
  let nextId = 1;
  const jobs = new Map<
    number,
    { child: ChildProcess; listener: SyncJobListener; resolve(v: SyncJobValue): void; reject(e: Error): void }
  >();
  /** When each process was last heard from (a heartbeat, an event, an answer). */
  const heard = new Map<ChildProcess, number>();
  /** Why a process was killed by this server (its jobs fail with that, not as a crash); `job` gets `own`. */
  const killed = new Map<ChildProcess, { error: Error; job?: number; own?: Error }>();

  const spawn = (): ChildProcess => {
    const where = childEntry('sync-process');
    const c = fork(entry ?? where.file, [], {
      execArgv: where.execArgv,
      env: childEnv(),
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    heard.set(c, Date.now() + START_UP_MS);
    let stderr = '';
    c.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    c.on('message', (m: SyncReply) => {
      heard.set(c, Date.now()); // once it has spoken, its start-up allowance is over
      if (m.type === 'heartbeat') return;
      const job = jobs.get(m.id);
      if (!job) return;
      if (m.type === 'event') job.listener.event?.(m.event, m.data);
      else if (m.type === 'log') job.listener.log?.(m.line);
      else {
        jobs.delete(m.id);
        if (m.ok) job.resolve(m.value!);
        else job.reject(rebuild(m.error!));
      }
    });
    c.on('exit', (code, signal) => {
      if (child === c) child = undefined;
      heard.delete(c);
      const why = killed.get(c);
      killed.delete(c);
      const failed = [...jobs].filter(([, j]) => j.child === c);
      if (!failed.length) return;
      const last = stderr.trim().split('\n').pop();
      const error =
        why?.error ??
        new ApiError(
          'sync_crashed',
          `the sync process stopped (${signal ?? `exit ${code}`})${last ? `: ${redact(last)}` : ''}; a new one starts with the next plan or run`,
          500,
        );
      if (!why) log(error.message);
      // Rejected once the process is gone: its ledger files and locks are free for what the server does next.
      for (const [id, j] of failed) {
        jobs.delete(id);
        j.reject(why?.job === id && why.own ? why.own : error);
      }
    });
    const shared: SyncProcessInit = { type: 'init', ...init, heartbeatMs };
    c.send(shared);
    return c;
  };

  /** Kills a process with jobs in flight that has not been heard from within the timeout. */
  const watchdog = setInterval(() => {
    const now = Date.now();
    for (const [c, at] of heard) {
      if (killed.has(c) || now - at <= hangTimeoutMs || ![...jobs.values()].some((j) => j.child === c)) continue;
      const seconds = Math.round((now - at) / 100) / 10;
      const error = new ApiError(
        'sync_hung',
        `the sync process stopped answering (no heartbeat for ${seconds} s, the limit is ${hangTimeoutMs / 1000} s); it was killed, and a new one starts with the next plan or run`,
        500,
      );
      log(error.message);
      kill(c, { error });
    }
  }, heartbeatMs);
  watchdog.unref();

  /** Ends a process now; its jobs fail (once it has exited) with the reason given. */
  function kill(c: ChildProcess, why: { error: Error; job?: number; own?: Error }): void {
    killed.set(c, why);
    if (child === c) child = undefined;
    c.kill('SIGKILL');
  }

  /** A second cancel: the job is told to stop now; a process that has not ended it within `hardStopMs` is killed. */
  const hardStop = (c: ChildProcess, id: number): void => {
    send(c, { type: 'hard', id });
    setTimeout(() => {
      if (!jobs.has(id) || killed.has(c) || c.exitCode !== null || c.signalCode !== null) return;
      const seconds = hardStopMs / 1000;
      log(`the sync process did not stop a cancelled run within ${seconds} s of the second cancel; it was killed`);
      kill(c, {
        job: id,
        own: new SyncError(
          'aborted',
          `stopped at once by a second cancel: the sync process did not stop within ${seconds} s and was killed; rows it confirmed are kept, the rest are sent again by the next run`,
        ),
        error: new ApiError(
          'sync_crashed',
          'the sync process was killed to stop a cancelled run at once; a new one starts with the next plan or run',
          500,
        ),
      });
    }, hardStopMs).unref();
  };

  const send = (c: ChildProcess, m: SyncRequest): void => {
    if (c.connected) c.send(m);
  };

  return {
    start(job, listener) {
      const c = (child ??= spawn());
      const id = nextId++;
      const done = new Promise<SyncJobValue>((resolve, reject) => jobs.set(id, { child: c, listener, resolve, reject }));
      send(c, { ...job, id });
      return { done, stop: (kind) => (kind === 'hard' ? hardStop(c, id) : send(c, { type: kind, id })) };
    },
    pid: () => child?.pid,
    async close() {
      clearInterval(watchdog);
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((r) => {
        c.once('exit', () => r());
        // Disconnecting ends the process (sync-process.ts); a process that does not go is killed.
        c.disconnect();
        setTimeout(() => c.kill('SIGKILL'), 2_000).unref();
      });
    },
  };
}

/** A job's error as the same kind of error it was in the sync process (the API's status follows from it). */
function rebuild(e: SerializedError): Error {
  if (e.kind === 'api') return new ApiError(e.code as ApiErrorCode, e.message, e.status ?? 500, e.details);
  if (e.kind === 'sync') return new SyncError(e.code as SyncErrorCode, e.message, e.details ? { details: e.details } : {});
  return new Error(e.message);
}
