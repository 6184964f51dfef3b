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

/**
 * Starts the sync process lazily and hands it plans and runs; their events and log lines come back as
 * they happen. One process serves every job (its start-up is paid once); a crash fails the jobs in flight
 * with a clear error, and the next job starts a new process.
 * @example const runner = createSyncRunner({ dir, env, knock: undefined, log }); const h = runner.start(job, {});
 */
export function createSyncRunner(init: Omit<SyncProcessInit, 'type'> & { log: (line: string) => void }): SyncRunner {
  let child: ChildProcess | undefined;
  let nextId = 1;
  const jobs = new Map<
    number,
    { child: ChildProcess; listener: SyncJobListener; resolve(v: SyncJobValue): void; reject(e: Error): void }
  >();

  const spawn = (): ChildProcess => {
    const { file, execArgv } = childEntry('sync-process');
    const c = fork(file, [], { execArgv, env: childEnv(), stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
    let stderr = '';
    c.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    c.on('message', (m: SyncReply) => {
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
      const failed = [...jobs].filter(([, j]) => j.child === c);
      if (!failed.length) return;
      const last = stderr.trim().split('\n').pop();
      const reason = `the sync process stopped (${signal ?? `exit ${code}`})${last ? `: ${redact(last)}` : ''}; a new one starts with the next plan or run`;
      init.log(reason);
      for (const [id, j] of failed) {
        jobs.delete(id);
        j.reject(new ApiError('sync_crashed', reason, 500));
      }
    });
    const { log: _log, ...shared } = init;
    c.send({ type: 'init', ...shared } satisfies SyncProcessInit);
    return c;
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
      return { done, stop: (kind) => send(c, { type: kind, id }) };
    },
    pid: () => child?.pid,
    async close() {
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
