import { existsSync } from 'node:fs';
import {
  ledgerExists,
  newRunId,
  redact,
  type HttpExchange,
  type Ledger,
  type RunRecord,
  type RemoteRow,
  type RunResult,
  type SyncError,
} from '@syncline/core';
import type { KnockOptions } from '@syncline/destination-knock';
import type { AlertDelivery } from '@syncline/alerts';
import { loadConfig, openLedger, type LoadedConfig } from '@syncline/cli';
import { ApiError } from './api-error.js';
import type { KnockTarget } from './knock-target.js';
import type { RunOptions } from './sync-protocol.js';
import { createSyncRunner, type SyncRunnerOptions } from './sync-runner.js';
import { listSyncNames, syncFile, type Workspace } from './workspace.js';

export type { RunOptions } from './sync-protocol.js';

/** One event of the live debugger (Server-Sent Events); `id` orders them and resumes a stream. */
export interface RunStreamEvent {
  id: number;
  event: 'phase' | 'progress' | 'exchange' | 'row_failed' | 'end';
  data: Record<string, unknown>;
}

/** An exchange as the debugger shows it: the redacted HTTP exchange plus the row keys its call carried. */
export type DebugExchange = HttpExchange & { seq: number; keys?: string[] };

/** A run this server started (kept in memory while the server lives; the ledger keeps it for good). */
export interface LiveRun {
  runId: string;
  sync: string;
  startedAt: string;
  finishedAt: string | null;
  status: 'running' | RunResult['status'];
  events: RunStreamEvent[];
  exchanges: DebugExchange[];
  result: RunResult | undefined;
  /** Why a run failed without a result (its process crashed, its ledger could not be opened…). */
  error?: { code: string; message: string } | undefined;
  /** The sync's alerts sent after the run (its own `alerts:` or the workspace's `syncline.yaml`). */
  alerts: AlertDelivery[];
  progress: { done: number; total: number; requests: number };
  subscribe(fn: (e: RunStreamEvent) => void): () => void;
  stop: AbortController;
  hard: AbortController;
  finished: Promise<void>;
}

/**
 * Starts plans and runs of the workspace's syncs in this process: the model runs in the sync's DuckDB
 * ledger, locked down like the SQL sandbox (one read statement, workspace files only, settings locked),
 * and every exchange is streamed to the debugger. One run (or plan) per sync at a time.
 */
export function createRunManager(opts: {
  ws: Workspace;
  target: KnockTarget;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  /** Knock destination options besides the key and base URL (e.g. `tiers` for an emulator without rate limits). */
  knock?: Omit<KnockOptions, 'apiKey' | 'baseUrl'> | undefined;
  /** The sync process's watchdog (and, for tests, its entry file): see {@link SyncRunnerOptions}. */
  syncProcess?: Pick<SyncRunnerOptions, 'hangTimeoutMs' | 'hardStopMs' | 'entry'> | undefined;
}) {
  const { ws, target } = opts;
  const live = new Map<string, LiveRun>();
  const activeBySync = new Map<string, string>();
  const KEEP = 50;
  // Plans and runs happen in the sync process, off this event loop (see sync-process.ts).
  const runner = createSyncRunner({ dir: ws.dir, env: opts.env, knock: opts.knock, log: opts.log, ...opts.syncProcess });

  const config = (name: string): LoadedConfig => {
    const file = syncFile(ws, name);
    if (!existsSync(file)) throw new ApiError('not_found', `no sync named "${name}" (syncs/${name}.yaml)`, 404);
    return loadConfig(file, opts.env);
  };

  // Ledger reads of this process, per sync (history, a finished run, its exchanges), one after another: DuckDB
  // refuses a second open of the file in the process ("is open") and locks it per process, so the sync process of
  // a plan or run that opened it during a read failed with "locked by another process". A claimed sync takes no
  // new read, and its plan or run starts once the reads already queued are closed.
  const reads = new Map<string, Promise<void>>();
  const readersDone = (sync: string): Promise<void> => reads.get(sync) ?? Promise.resolve();

  const claim = (sync: string): void => {
    const active = activeBySync.get(sync);
    if (active)
      throw new ApiError('run_active', `sync "${sync}" has a run in progress (${active}); wait for it or cancel it`, 409, {
        runId: active,
      });
  };

  /** The job of a plan or run: the sync's file and the key it uses, handed over in a message. */
  const job = (type: 'plan' | 'run', c: LoadedConfig, o: RunOptions, runId?: string) => ({
    type,
    file: c.file,
    runId,
    ...target.credentials(),
    options: o,
  });

  /** The dry run: counts, sample rows field by field, invalid rows, the calls and Knock's rate-limit time. */
  async function plan(name: string, o: RunOptions): Promise<{ config: LoadedConfig; result: RunResult; remote?: RemoteRow[] }> {
    const c = config(name);
    claim(c.spec.name);
    activeBySync.set(c.spec.name, 'plan');
    try {
      await readersDone(c.spec.name);
      const { result, remote } = await runner.start(job('plan', c, o), {}).done;
      return { config: c, result, ...(remote ? { remote } : {}) };
    } finally {
      activeBySync.delete(c.spec.name);
    }
  }

  /** Starts a run and returns at once; its events stream to subscribers and replay to late ones. */
  function start(name: string, o: RunOptions): LiveRun {
    const c = config(name);
    claim(c.spec.name);
    const runId = newRunId();
    activeBySync.set(c.spec.name, runId);
    const listeners = new Set<(e: RunStreamEvent) => void>();
    const run: LiveRun = {
      runId,
      sync: c.spec.name,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      status: 'running',
      events: [],
      exchanges: [],
      result: undefined,
      alerts: [],
      progress: { done: 0, total: 0, requests: 0 },
      subscribe(fn) {
        listeners.add(fn);
        return () => listeners.delete(fn);
      },
      stop: new AbortController(),
      hard: new AbortController(),
      finished: Promise.resolve(),
    };
    // Events come redacted from the sync process; here they get their ids and reach the subscribers.
    const push = (event: RunStreamEvent['event'], data: Record<string, unknown>): void => {
      const e: RunStreamEvent = { id: run.events.length + 1, event, data };
      run.events.push(e);
      for (const fn of listeners) fn(e);
    };
    const begin = () =>
      runner.start(job('run', c, o, runId), {
        log: opts.log,
        event(event, data) {
          if (event === 'progress') run.progress = data as LiveRun['progress'];
          else if (event === 'exchange') {
            const x = Object.assign(data, { seq: run.exchanges.length + 1 }) as unknown as DebugExchange;
            run.exchanges.push(x);
          }
          push(event, data);
        },
      });
    let handle: ReturnType<typeof begin> | undefined;
    const started = readersDone(c.spec.name).then(() => {
      handle = begin();
      // A cancel that came while the reads closed stops it at once.
      if (run.hard.signal.aborted) handle.stop('hard');
      else if (run.stop.signal.aborted) handle.stop('stop');
      return handle;
    });
    run.stop.signal.addEventListener('abort', () => handle?.stop('stop'), { once: true });
    run.hard.signal.addEventListener('abort', () => handle?.stop('hard'), { once: true });
    live.set(runId, run);
    for (const old of [...live.keys()].slice(0, Math.max(0, live.size - KEEP))) if (live.get(old)!.finishedAt) live.delete(old);
    run.finished = (async () => {
      try {
        const { result, alerts } = await (await started).done;
        run.result = result;
        run.status = result.status;
        run.alerts = alerts ?? [];
        push('end', { status: result.status, rows: result.rows, requests: result.requests, error: result.error ?? null });
      } catch (e) {
        const code: string = (e as SyncError | ApiError).code ?? 'internal';
        // `aborted`: a second cancel killed the process that did not stop the run (sync-runner.ts).
        const status = code === 'aborted' ? 'aborted' : 'failed';
        run.status = status;
        const error = { code, message: redact(String((e as Error).message)) };
        run.error = error;
        opts.log(`run ${runId} of ${c.spec.name} ${status === 'aborted' ? 'was stopped' : 'failed'}: ${error.message}`);
        if (code === 'sync_crashed' || code === 'sync_hung' || code === 'aborted') await closeKilledRun(c, runId, status, error);
        push('end', { status, error });
      } finally {
        run.finishedAt = new Date().toISOString();
        activeBySync.delete(c.spec.name);
        listeners.clear();
      }
    })();
    return run;
  }

  /**
   * The ledger's record of a run whose process died (crashed, or killed as hung) is left `running`: it is closed
   * here with what the run confirmed (core's closeCrashedRuns counts it), failed (or aborted, by a second cancel)
   * with the server's reason, so the run history says what the debugger said. The process is gone, so its ledger
   * is free.
   */
  async function closeKilledRun(
    c: LoadedConfig,
    runId: string,
    status: 'failed' | 'aborted',
    error: { code: string; message: string },
  ): Promise<void> {
    try {
      await using ledger = await openLedger(c, false, opts.env);
      await ledger.closeCrashedRuns();
      const record = await ledger.run(runId);
      if (record) await ledger.saveRun({ ...record, status, error });
    } catch (e) {
      opts.log(`run ${runId} of ${c.spec.name}: its ledger record could not be closed: ${redact(String((e as Error).message))}`);
    }
  }

  /** A clean stop, like Ctrl-C: no new calls, calls in flight finish and their confirmed rows are committed. */
  function cancel(runId: string): LiveRun {
    const run = live.get(runId);
    if (!run) throw new ApiError('not_found', `no run ${runId} is running in this server`, 404);
    if (run.finishedAt) throw new ApiError('conflict', `run ${runId} already finished (${run.status})`, 409);
    if (run.stop.signal.aborted) run.hard.abort();
    else run.stop.abort();
    return run;
  }

  /**
   * Reads a sync's ledger: its DuckDB file, or its tables in Postgres (`source.ledger: warehouse`), through
   * core's `Ledger` interface. Nothing while a run of that sync holds it (those come from memory), nor when a
   * DuckDB sync never ran (opening would create its file).
   */
  async function withLedger<T>(sync: string, fn: (l: Ledger) => Promise<T>): Promise<T | undefined> {
    if (activeBySync.has(sync)) return undefined;
    let c: LoadedConfig;
    try {
      c = config(sync);
    } catch {
      return undefined;
    }
    const warehouse = c.source.type === 'postgres' && c.source.ledger === 'warehouse';
    if (!warehouse && !ledgerExists(c.ledgerPath)) return undefined;
    const read = readersDone(sync).then(async () => {
      await using ledger = await openLedger(c, false, opts.env);
      // `return await`: the ledger must stay open until fn's queries finish (it is disposed at scope exit).
      return await fn(ledger);
    });
    const done = read.then(
      () => undefined,
      () => undefined,
    );
    reads.set(sync, done);
    try {
      return await read;
    } finally {
      if (reads.get(sync) === done) reads.delete(sync);
    }
  }

  async function history(sync: string, limit: number): Promise<RunRecord[]> {
    config(sync);
    const recorded = (await withLedger(sync, (l) => l.runs(limit))) ?? [];
    const mine = [...live.values()].filter((r) => r.sync === sync && !recorded.some((x) => x.runId === r.runId)).map(liveRecord);
    return [...mine.reverse(), ...recorded].slice(0, limit);
  }

  /** A finished run from any sync's ledger. */
  async function find(runId: string): Promise<{ sync: string; record: RunRecord } | undefined> {
    for (const sync of listSyncNames(ws)) {
      const record = await withLedger(sync, (l) => l.run(runId)).catch(() => undefined);
      if (record) return { sync, record };
    }
    return undefined;
  }

  return {
    plan,
    start,
    cancel,
    history,
    find,
    withLedger,
    live: (runId: string) => live.get(runId),
    /** The sync process's id while it runs (tests). */
    syncProcessPid: () => runner.pid(),
    /** Waits for every run in flight (tests, shutdown). */
    async settle(): Promise<void> {
      await Promise.all([...live.values()].map((r) => r.finished));
    },
    async close(): Promise<void> {
      for (const r of live.values()) if (!r.finishedAt) r.stop.abort();
      await Promise.all([...live.values()].map((r) => r.finished));
      await runner.close();
    },
  };
}

export type RunManager = ReturnType<typeof createRunManager>;

/** A live run as a run record (counts so far while it runs). */
export function liveRecord(r: LiveRun): RunRecord {
  return {
    runId: r.runId,
    sync: r.sync,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    status: r.status,
    counts: r.result ? { ...r.result.rows } : { done: r.progress.done, total: r.progress.total },
    phases: r.result?.phases ?? [],
    requests: r.result?.requests ?? r.progress.requests,
    error: r.result?.error ? { code: r.result.error.code, message: r.result.error.message } : (r.error ?? null),
  };
}
