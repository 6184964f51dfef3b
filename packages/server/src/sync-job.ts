import {
  redact,
  remoteBefore,
  runSync,
  type Destination,
  type Ledger,
  type HttpExchange,
  type RunEvent,
  type RunResult,
  type RunSyncOptions,
  type Source,
} from '@syncline/core';
import { duckdbSource, type DuckdbSourceOptions } from '@syncline/source-duckdb';
import { knockDestination } from '@syncline/destination-knock';
import { loadConfig, openLedger, openSource, runAlerts, sendEta, type DiffCounts, type LoadedConfig } from '@syncline/cli';
import { ApiError } from './api-error.js';
import { sandboxRefusal } from './check-statement.js';
import { lockDown } from './lock-down.js';
import type { SyncEventMessage, SyncJob, SyncJobValue, SyncProcessInit } from './sync-protocol.js';

/** What a job tells the server while it works, and the signals that stop it. */
export interface SyncJobHooks {
  /** A debugger event, redacted. */
  event(event: SyncEventMessage['event'], data: Record<string, unknown>): void;
  log(line: string): void;
  /** The clean stop: no new calls; calls in flight finish and their confirmed rows are committed. */
  signal: AbortSignal;
  /** The second stop: calls in flight are abandoned too. */
  hardSignal: AbortSignal;
}

/**
 * One plan or run of a workspace sync, as the sync process runs it (off the server's event loop): the model
 * runs in the sync's DuckDB ledger locked down like the SQL sandbox (one read statement, workspace files only,
 * settings locked), the Knock destination gets the key from the job, and every exchange is reported,
 * carrying the keys of the rows its call sent, so the debugger can be searched by key.
 * @example const { result } = await runSyncJob(init, { type: 'plan', id: 1, file, apiKey, baseUrl, options: {} }, hooks)
 */
export async function runSyncJob(init: SyncProcessInit, job: SyncJob, hooks: SyncJobHooks): Promise<SyncJobValue> {
  const c = loadConfig(job.file, init.env);
  const source = c.source.type === 'postgres' ? openSource(c, init.env) : sandboxed(init.dir, c, c.source.tables);
  const destination = knockFor(init, c, job);
  const o = job.options;
  const dryRun = job.type === 'plan';
  let ledger: Ledger | undefined;
  try {
    // The sync's ledger as the CLI opens it: its DuckDB file (a plan of a sync that never ran diffs against an
    // empty throwaway one, creating no file), or its tables in Postgres with `source.ledger: warehouse`.
    ledger = await openLedger(c, dryRun, init.env);
    const result = await syncOnce(
      { spec: c.spec, source, destination, ledger },
      { dryRun, fullResync: o.fullResync ?? false, allowMassDelete: o.allowMassDelete ?? false },
      dryRun
        ? { previewLimit: o.previewLimit ?? 10 }
        : { runId: job.runId, signal: hooks.signal, hardSignal: hooks.hardSignal, onEvent: reporter(c, destination, job, hooks) },
    );
    if (dryRun) {
      if (o.remote && !destination.read)
        throw new ApiError('invalid_request', `remote: the ${destination.name} destination cannot read its records`, 400);
      const remote = o.remote && !result.error ? await remoteBefore(destination, ledger, c.spec.target, result.preview) : undefined;
      return { result, remote };
    }
    // Alerts as `syncline run` sends them, while the ledger (which keeps the alert state) is still open.
    const alerts = await runAlerts({
      config: c,
      file: `syncs/${c.spec.name}.yaml`,
      result,
      ledger,
      io: { stderr: { write: (text: string) => hooks.log(text.trimEnd()) } },
      env: init.env,
    });
    return { result, alerts };
  } finally {
    await destination.close?.().catch(() => undefined);
    await ledger?.close().catch(() => undefined);
  }
}

/** The one `runSync` call of plans and runs: what differs is the dry-run flag and the extra options. */
async function syncOnce(
  parts: Pick<RunSyncOptions, 'spec' | 'source' | 'destination' | 'ledger'>,
  flags: { dryRun: boolean; fullResync: boolean; allowMassDelete: boolean },
  extra: Partial<RunSyncOptions>,
): Promise<RunResult> {
  const result = await runSync({ ...extra, ...flags, ...parts });
  // A model that reads a file outside the workspace fails in DuckDB with a Permission Error; the API says it
  // in the SQL sandbox's words, as `/api/query` does (`model: refused: "/etc/passwd" is outside the workspace; …`).
  const refusal = result.error?.code === 'model_failed' ? sandboxRefusal(result.error.message) : undefined;
  return refusal ? { ...result, error: { ...result.error!, message: `model: ${refusal}` } } : result;
}

/** A workspace's DuckDB source, locked down once attached, its model checked as one read statement. */
function sandboxed(dir: string, c: LoadedConfig, tables: DuckdbSourceOptions['tables']): Source {
  const inner = duckdbSource({ tables, baseDir: c.dir });
  return {
    ...inner,
    name: inner.name,
    async attach(connection) {
      await inner.attach!(connection);
      // Locked before runSync checks the model (core's checkReadStatement, the one check of user SQL):
      // preparing the statement already opens the files it names.
      await lockDown(connection, { dir });
    },
  };
}

/** The Knock destination with the job's key; each exchange carries the keys of the rows its call sent. */
function knockFor(init: SyncProcessInit, c: LoadedConfig, job: SyncJob): Destination {
  // The sync's own `destination.tiers` (raised limits, `off` for an emulator without them) as the CLI uses it.
  const knock = knockDestination({
    ...init.knock,
    ...(c.destination.tiers ? { tiers: c.destination.tiers } : {}),
    apiKey: job.apiKey,
    baseUrl: job.baseUrl,
  });
  return {
    ...knock,
    apply: (op, ctx) =>
      knock.apply(op, {
        ...ctx,
        ...(ctx.log ? { log: (x: HttpExchange) => ctx.log!(Object.assign(x, { keys: op.changes.map((ch) => ch.key) })) } : {}),
      }),
  };
}

/** A run's events as the debugger shows them; the server's log gets the send's ETA at Knock's rate limits. */
function reporter(c: LoadedConfig, destination: Destination, job: SyncJob, hooks: SyncJobHooks): (e: RunEvent) => void {
  // Redaction by construction: whatever a destination logged, no key-shaped text leaves the process.
  const event = (name: SyncEventMessage['event'], data: Record<string, unknown>): void =>
    hooks.event(name, JSON.parse(redact(JSON.stringify(data))) as Record<string, unknown>);
  return (e) => {
    if (e.type === 'phase' && e.name === 'diff' && e.status === 'end' && e.detail) {
      const eta = sendEta(destination, c.spec.target, e.detail as DiffCounts, undefined, c.destination.tiers).line.trim();
      if (eta) hooks.log(`run ${job.runId} of ${c.spec.name}: ${eta}`);
    }
    if (e.type === 'phase') event('phase', { name: e.name, status: e.status, ms: e.ms, detail: e.detail });
    else if (e.type === 'progress') event('progress', { done: e.done, total: e.total, requests: e.requests });
    else if (e.type === 'request') event('exchange', { ...e.exchange });
    else if (e.type === 'row_failed') event('row_failed', { key: e.key, code: e.code, message: e.message });
  };
}
