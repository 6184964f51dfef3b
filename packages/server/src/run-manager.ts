import { existsSync } from 'node:fs';
import {
  SyncError,
  ledgerExists,
  newRunId,
  openDuckdbLedger,
  redact,
  remoteBefore,
  runSync,
  type Destination,
  type DuckdbLedger,
  type HttpExchange,
  type RunEvent,
  type RunRecord,
  type RemoteRow,
  type RunResult,
  type Source,
} from '@syncline/core';
import { duckdbSource, type DuckdbSourceOptions } from '@syncline/source-duckdb';
import { knockDestination, type KnockOptions } from '@syncline/destination-knock';
import type { AlertDelivery } from '@syncline/alerts';
import { loadConfig, openSource, runAlerts, sendEta, type DiffCounts, type LoadedConfig } from '@syncline/cli';
import { ApiError } from './api-error.js';
import { sandboxRefusal } from './check-statement.js';
import { lockDown } from './lock-down.js';
import type { KnockTarget } from './knock-target.js';
import { listSyncNames, syncFile, type Workspace } from './workspace.js';

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
  /** The sync's alerts sent after the run (its own `alerts:` or the workspace's `syncline.yaml`). */
  alerts: AlertDelivery[];
  progress: { done: number; total: number; requests: number };
  subscribe(fn: (e: RunStreamEvent) => void): () => void;
  stop: AbortController;
  hard: AbortController;
  finished: Promise<void>;
}

export interface RunOptions {
  fullResync?: boolean | undefined;
  allowMassDelete?: boolean | undefined;
  previewLimit?: number | undefined;
  /** Plan only: read the sample rows' current records from the destination (remote before, drift). */
  remote?: boolean | undefined;
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
}) {
  const { ws, target } = opts;
  const live = new Map<string, LiveRun>();
  const activeBySync = new Map<string, string>();
  const KEEP = 50;

  const config = (name: string): LoadedConfig => {
    const file = syncFile(ws, name);
    if (!existsSync(file)) throw new ApiError('not_found', `no sync named "${name}" (syncs/${name}.yaml)`, 404);
    return loadConfig(file, opts.env);
  };

  /** A workspace's DuckDB source, locked down once attached, its model checked as one read statement. */
  const sandboxed = (c: LoadedConfig, tables: DuckdbSourceOptions['tables']): Source => {
    const inner = duckdbSource({ tables, baseDir: c.dir });
    return {
      ...inner,
      name: inner.name,
      async attach(connection) {
        await inner.attach!(connection);
        // Locked before runSync checks the model (core's checkReadStatement, the one check of user SQL):
        // preparing the statement already opens the files it names.
        await lockDown(connection, { dir: ws.dir });
      },
    };
  };

  /**
   * The sync's parts: its source (DuckDB locked down in the workspace; Postgres runs the model read-only in
   * the database), the Knock destination with the server's key.
   */
  const parts = (c: LoadedConfig): { source: Source; destination: Destination } => {
    const source = c.source.type === 'postgres' ? openSource(c, opts.env) : sandboxed(c, c.source.tables);
    const { apiKey, baseUrl } = target.credentials();
    // The sync's own `destination.tiers` (raised limits, `off` for an emulator without them) as the CLI uses it.
    const knock = knockDestination({ ...opts.knock, ...(c.destination.tiers ? { tiers: c.destination.tiers } : {}), apiKey, baseUrl });
    // Each exchange carries the keys of the rows its call sent, so the debugger can be searched by key.
    const destination: Destination = {
      ...knock,
      apply: (op, ctx) =>
        knock.apply(op, {
          ...ctx,
          ...(ctx.log ? { log: (x: HttpExchange) => ctx.log!(Object.assign(x, { keys: op.changes.map((ch) => ch.key) })) } : {}),
        }),
    };
    return { source, destination };
  };

  const claim = (sync: string): void => {
    const active = activeBySync.get(sync);
    if (active)
      throw new ApiError('run_active', `sync "${sync}" has a run in progress (${active}); wait for it or cancel it`, 409, {
        runId: active,
      });
  };

  const openLedgerFor = (c: LoadedConfig, dryRun: boolean): Promise<DuckdbLedger> =>
    openDuckdbLedger({ path: dryRun && !ledgerExists(c.ledgerPath) ? ':memory:' : c.ledgerPath, ...c.ledger });

  /** The dry run: counts, sample rows field by field, invalid rows, the calls and Knock's rate-limit time. */
  async function plan(name: string, o: RunOptions): Promise<{ config: LoadedConfig; result: RunResult; remote?: RemoteRow[] }> {
    const c = config(name);
    claim(c.spec.name);
    activeBySync.set(c.spec.name, 'plan');
    try {
      const { source, destination } = parts(c);
      await using ledger = await openLedgerFor(c, true);
      const result = inSandboxWords(
        await runSync({
          spec: c.spec,
          source,
          destination,
          ledger,
          dryRun: true,
          fullResync: o.fullResync ?? false,
          allowMassDelete: o.allowMassDelete ?? false,
          previewLimit: o.previewLimit ?? 10,
        }),
      );
      if (o.remote && !destination.read)
        throw new ApiError('invalid_request', `remote: the ${destination.name} destination cannot read its records`, 400);
      const remote = o.remote && !result.error ? await remoteBefore(destination, ledger, c.spec.target, result.preview) : undefined;
      await destination.close?.();
      return { config: c, result, ...(remote ? { remote } : {}) };
    } finally {
      activeBySync.delete(c.spec.name);
    }
  }

  /** Starts a run and returns at once; its events stream to subscribers and replay to late ones. */
  function start(name: string, o: RunOptions): LiveRun {
    const c = config(name);
    claim(c.spec.name);
    const { source, destination } = parts(c);
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
    const push = (event: RunStreamEvent['event'], data: Record<string, unknown>): void => {
      // Redaction by construction: whatever a destination logged, no key-shaped text leaves the server.
      const e: RunStreamEvent = {
        id: run.events.length + 1,
        event,
        data: JSON.parse(redact(JSON.stringify(data))) as Record<string, unknown>,
      };
      run.events.push(e);
      for (const fn of listeners) fn(e);
    };
    const onEvent = (e: RunEvent): void => {
      // The server's log says what the run will send and how long Knock's rate limits make it take.
      if (e.type === 'phase' && e.name === 'diff' && e.status === 'end' && e.detail) {
        const eta = sendEta(destination, c.spec.target, e.detail as DiffCounts, undefined).line.trim();
        if (eta) opts.log(`run ${runId} of ${c.spec.name}: ${eta}`);
      }
      if (e.type === 'phase') push('phase', { name: e.name, status: e.status, ms: e.ms, detail: e.detail });
      else if (e.type === 'progress') {
        run.progress = { done: e.done, total: e.total, requests: e.requests };
        push('progress', run.progress);
      } else if (e.type === 'request') {
        const x = { ...e.exchange, seq: run.exchanges.length + 1 } as DebugExchange;
        run.exchanges.push(x);
        push('exchange', x as unknown as Record<string, unknown>);
      } else push('row_failed', { key: e.key, code: e.code, message: e.message });
    };
    live.set(runId, run);
    for (const old of [...live.keys()].slice(0, Math.max(0, live.size - KEEP))) if (live.get(old)!.finishedAt) live.delete(old);
    run.finished = (async () => {
      let ledger: DuckdbLedger | undefined;
      try {
        ledger = await openLedgerFor(c, false);
        const result = inSandboxWords(
          await runSync({
            spec: c.spec,
            source,
            destination,
            ledger,
            runId,
            fullResync: o.fullResync ?? false,
            allowMassDelete: o.allowMassDelete ?? false,
            signal: run.stop.signal,
            hardSignal: run.hard.signal,
            onEvent,
          }),
        );
        run.result = result;
        run.status = result.status;
        push('end', { status: result.status, rows: result.rows, requests: result.requests, error: result.error ?? null });
        // Alerts as `syncline run` sends them, while the ledger (which keeps the alert state) is still open.
        run.alerts = await runAlerts({
          config: c,
          file: `syncs/${c.spec.name}.yaml`,
          result,
          ledger,
          io: { stderr: { write: (text: string) => opts.log(text.trimEnd()) } },
          env: opts.env,
        });
      } catch (e) {
        run.status = 'failed';
        const error = { code: (e as SyncError).code ?? 'internal', message: redact(String((e as Error).message)) };
        opts.log(`run ${runId} of ${c.spec.name} failed: ${error.message}`);
        push('end', { status: 'failed', error });
      } finally {
        run.finishedAt = new Date().toISOString();
        await destination.close?.().catch(() => undefined);
        await ledger?.close().catch(() => undefined);
        activeBySync.delete(c.spec.name);
        listeners.clear();
      }
    })();
    return run;
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

  /** Runs recorded in a sync's ledger (none while a run of that sync holds it: those come from memory). */
  async function withLedger<T>(sync: string, fn: (l: DuckdbLedger) => Promise<T>): Promise<T | undefined> {
    if (activeBySync.has(sync)) return undefined;
    let c: LoadedConfig;
    try {
      c = config(sync);
    } catch {
      return undefined;
    }
    if (!ledgerExists(c.ledgerPath)) return undefined;
    await using ledger = await openDuckdbLedger({ path: c.ledgerPath, ...c.ledger });
    // `return await`: the ledger must stay open until fn's queries finish (it is disposed at scope exit).
    return await fn(ledger);
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
    /** Waits for every run in flight (tests, shutdown). */
    async settle(): Promise<void> {
      await Promise.all([...live.values()].map((r) => r.finished));
    },
    async close(): Promise<void> {
      for (const r of live.values()) if (!r.finishedAt) r.stop.abort();
      await Promise.all([...live.values()].map((r) => r.finished));
    },
  };
}

export type RunManager = ReturnType<typeof createRunManager>;

/**
 * "Remote before" for the plan's sample rows: reads them from the destination (through its rate limiter)
 * and sets each field's value there beside the ledger's last confirmed payload and the planned one. A field
 * whose destination value differs from what Syncline last sent is drift: someone else changed it.
 */
/**
 * A model that reads a file outside the workspace fails in DuckDB with a Permission Error; the API says it in the
 * SQL sandbox's words, as `/api/query` does (`model: refused: "/etc/passwd" is outside the workspace; …`).
 */
function inSandboxWords(result: RunResult): RunResult {
  const refusal = result.error?.code === 'model_failed' ? sandboxRefusal(result.error.message) : undefined;
  return refusal ? { ...result, error: { ...result.error!, message: `model: ${refusal}` } } : result;
}

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
    error: r.result?.error ? { code: r.result.error.code, message: r.result.error.message } : null,
  };
}
