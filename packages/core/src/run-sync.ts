import { createHash, randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createOperationPool } from './operation-pool.js';
import type { Change, Destination, EndpointCalls, HttpExchange, Operation, RowFailure, RowIssue, Source } from './contract.js';
import type { LedgerWrite, RowResult, RunRecord, StagedChange } from './duckdb-ledger.js';
import type { Ledger } from './ledger.js';
import { createLedgerWriter } from './ledger-writer.js';
import { ReadChange } from './read-change.js';
import { RUNNING } from './crashed-runs.js';
import type { DeleteWindow } from './delete-window.js';
import { checkReadStatement } from './read-statement.js';
import { LOCAL_MODEL_SQL, loadModel } from './load-model.js';
import { LEDGER_TABLES } from './ledger-file.js';
import type { KeyHealth } from './duckdb-diff.js';
import { closest, payloadProjection, rowSql, stagedRowSql } from './projection.js';
import { MODEL_TIMEOUT_MS, resolveTarget, sendsRemovals, type SyncSpec } from './sync-spec.js';
import { shortValue } from './short-value.js';
import { diffPreview, locateInvalid, summarizeDryRun, type PendingPreview } from './dry-run-summary.js';
import { sqlErrorPosition } from './sql-error-position.js';
import { SyncError, isSyncError } from './sync-error.js';
import type { FieldDiff } from './field-diff.js';

export type RunEvent =
  | { type: 'phase'; name: PhaseName; status: 'start' | 'end'; ms?: number; detail?: Record<string, unknown> }
  | { type: 'progress'; done: number; total: number; requests: number }
  /** Operations that sent a request and have not finished (a bulk job counts until it is confirmed). */
  | { type: 'calls'; inFlight: number }
  | { type: 'request'; exchange: HttpExchange }
  | { type: 'row_failed'; key: string; code: string; message: string };

export type PhaseName = 'query' | 'stage' | 'diff' | 'plan' | 'send' | 'commit';

export interface RunSyncOptions {
  spec: SyncSpec;
  source: Source;
  destination: Destination;
  ledger: Ledger;
  /** Compute everything, send nothing, change no state. */
  dryRun?: boolean;
  /** Resend every row of the model. */
  fullResync?: boolean;
  /** Let an empty model or a removal share above `maxDeleteShare` through. */
  allowMassDelete?: boolean;
  /** Stops scheduling new calls; calls in flight finish and their confirmed rows are committed. */
  signal?: AbortSignal;
  /** Aborts calls in flight too (a second Ctrl-C). */
  hardSignal?: AbortSignal;
  /** Operations of one endpoint sending requests at once (the destination's rate limiter paces them). Default 32. */
  concurrency?: number;
  /**
   * Operations queued or started but not yet confirmed, including those whose requests were accepted and that
   * only wait for confirmation (`ApplyContext.onSent`, e.g. a Knock bulk job). Bounds memory. Default 256.
   */
  maxPending?: number;
  /** Changes per chunk read from the ledger. Default 1,000. */
  chunkSize?: number;
  /**
   * Confirmed outcomes are written to the ledger at most this long after the confirmation, in one
   * transaction for all operations that finished meanwhile (a kill loses at most this window: its keys
   * stay in doubt and are resent). Default 200 ms.
   */
  commitWindowMs?: number;
  /** Confirmed rows that start a ledger write before the window ends. Default 5,000. */
  commitWindowRows?: number;
  /** Dry run: how many changes to show field by field. Default 10 per action. */
  previewLimit?: number;
  /**
   * Dry run: from this many changes on, and when the destination has `validSql` and `estimate`, the dry
   * run validates inside DuckDB and estimates calls from counts instead of reading every change into
   * JavaScript (see `summarizeDryRun`). Default 20,000.
   */
  summarizeFrom?: number;
  onEvent?: (event: RunEvent) => void;
  /** The run's id (e.g. one a server returned before the run started). Default: a new `r_…` id. */
  runId?: string;
  /** Dry run: also write every change to this file as NDJSON (see `exportStaged`) and fill `digests`. */
  planFile?: string;
  /** Run: refuse (SyncError `plan_stale`) unless the model, config and ledger still have these digests. */
  expectDigests?: PlanDigests;
  /** Run: send at most this many changes (in plan order), then end with status `stopped`. */
  maxRows?: number;
  /** Run: start no new call after this many ms from the start, then end with status `stopped`. */
  maxDurationMs?: number;
}

/**
 * Row counts of a run or plan. Model rows: `added + changed + unchanged + invalid = total`, always (an
 * invalid row is counted once, as invalid, never also as an add or a change). Rows that left the model are
 * either `removed` (a call deletes them or removes them from the audience) or `kept` (no call: the
 * destination keeps the record, e.g. `onDelete: nothing`); never both.
 */
export interface RunCounts {
  /** Rows of the model. */
  total: number;
  /** Valid model rows not in the snapshot. */
  added: number;
  /** Valid model rows whose payload differs from the snapshot's (or whose last send is in doubt). */
  changed: number;
  /** Rows that left the model and are deleted or removed from the audience by a call. */
  removed: number;
  /** Rows that left the model and are left at the destination (no call; the ledger forgets them). */
  kept: number;
  /** Model rows equal to the snapshot. */
  unchanged: number;
  /** Model rows the destination's `validate` refused: recorded, never sent. */
  invalid: number;
  /** Rows sent but not confirmed (resent on the next run). */
  failed: number;
  /** Rows sent and confirmed (adds, changes and removals). */
  synced: number;
}

/** An invalid row as a plan shows it: the destination's issue, the row's number in the model and the value. */
export interface InvalidRow extends RowIssue {
  /** 1-based position in the model's output (absent when the run stopped before it was looked up). */
  row?: number;
  /** The refused value as JSON text, redacted for secrets and cut at 40 characters (see `shortValue`). */
  value?: string;
}

/** Calls to one endpoint that a plan makes (a dry run) or made (a run). */
export type EndpointEstimate = EndpointCalls;

export interface PreviewChange {
  action: Change['action'];
  key: string;
  fields: FieldDiff[];
  unchangedFields: number;
  /**
   * The mapped payload the run would send for this row (adds and changes; absent for a removal), so that a
   * caller can shape the row's request (the playground's example calls) without reading the model again.
   */
  payload?: Record<string, unknown>;
}

export interface RunResult {
  runId: string;
  sync: string;
  /** `resume_later`: the destination asked for a pause longer than it waits (see `resumeAt`); run again then. */
  /** `stopped`: `maxRows` or `maxDuration` ended the run cleanly; the next run sends the rest (`remaining`). */
  status: 'succeeded' | 'partial' | 'failed' | 'aborted' | 'resume_later' | 'stopped';
  dryRun: boolean;
  mappingChanged: boolean;
  rows: RunCounts;
  requests: number;
  phases: { name: PhaseName; ms: number }[];
  endpoints: EndpointEstimate[];
  preview: PreviewChange[];
  /** The first 100 invalid rows' issues (one per refused field), in change order. */
  invalid: InvalidRow[];
  /** Every invalid row's issues counted by field and rule (most frequent first), for plans with many. */
  invalidByReason: { field: string; rule: string; message: string; count: number }[];
  failures: RowFailure[];
  /** Dry run: the guards a run would refuse on (empty model, mass delete), with their messages. */
  guards: { code: string; message: string }[];
  error?: { code: string; message: string; details?: Record<string, unknown> | undefined };
  /**
   * The rolling mass-delete guard: rows deleted in the last 24 h, the removals planned now, and their share
   * of the snapshot at the window's start (against `limit`, the sync's `maxDeleteShare`).
   */
  deleteWindow?: DeleteWindow & { planned: number; share: number; limit: number };
  /** Status `resume_later`: when the destination takes calls again (ISO 8601); the next run resumes. */
  resumeAt?: string;
  /** Status `stopped` (or aborted): changes of this run's diff not sent, left for the next run. */
  remaining?: number;
  /** With `planFile` or `expectDigests`: what the plan was computed from. */
  digests?: PlanDigests;
}

/** What a saved plan was computed from: the model's rows, the sync's config and the ledger's state. */
export interface PlanDigests {
  model: string;
  config: string;
  ledger: string;
}

/** md5 of the parts of a sync that shape payloads; it salts every row hash, so a mapping change resends all rows. */
export function configHash(spec: SyncSpec, destination?: Pick<Destination, 'name' | 'targetSchema' | 'hashParts'>): string {
  // The destination's defaults filled in first, so a spec as written and one runSync resolved hash alike.
  const target = destination ? resolveTarget(destination, spec.target) : spec.target;
  const { onDelete: _onDelete, nulls, ...own } = target;
  const parts = destination?.hashParts
    ? destination.hashParts(target)
    : Object.fromEntries(Object.entries(own).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const shape = { key: spec.key, fields: Object.entries(spec.fields).sort(), ...parts, nulls };
  return createHash('md5').update(JSON.stringify(shape)).digest('hex');
}

/** md5 of the whole sync spec (model SQL, key, mapping, target and guards): a saved plan's config digest. */
export function specDigest(spec: SyncSpec): string {
  return createHash('md5').update(JSON.stringify(spec)).digest('hex');
}

/** The ledger's record of a run (its outcome so far). */
function runRecordOf(result: RunResult, startedAt: string): RunRecord {
  return {
    runId: result.runId,
    sync: result.sync,
    startedAt,
    finishedAt: new Date().toISOString(),
    status: result.status,
    counts: { ...result.rows },
    phases: result.phases,
    requests: result.requests,
    // A paused run says until when in its record (`syncline runs`), as its result does.
    error: result.error
      ? { code: result.error.code, message: result.error.message }
      : result.resumeAt !== undefined
        ? { code: 'resume_later', message: `the destination asked to wait until ${result.resumeAt}; run again after that` }
        : null,
  };
}

export const newRunId = (): string => `r_${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;

/**
 * Runs one sync: stage the model in the ledger, check keys, diff against the snapshot, validate and plan
 * the changes, send them, and commit each confirmed batch. Never throws for run failures: the result
 * carries `status` and `error`, and (unless a dry run) the run is recorded in the ledger.
 * @example const result = await runSync({ spec, source, destination, ledger })
 */
export async function runSync(input: RunSyncOptions): Promise<RunResult> {
  // The destination validates its part of the target and fills its defaults; a refusal ends the run below.
  let options = input;
  let targetError: unknown;
  try {
    options = { ...input, spec: { ...input.spec, target: resolveTarget(input.destination, input.spec.target) } };
  } catch (e) {
    targetError = e;
  }
  const { spec, source, ledger } = options;
  const dryRun = options.dryRun ?? false;
  const emit = options.onEvent ?? (() => undefined);
  const chunkSize = options.chunkSize ?? 1000;
  const limit = options.previewLimit ?? 10;
  const startedAt = new Date().toISOString();
  const startMs = Date.now();
  const result: RunResult = {
    runId: options.runId ?? newRunId(),
    sync: spec.name,
    status: 'succeeded',
    dryRun,
    mappingChanged: false,
    rows: { total: 0, added: 0, changed: 0, removed: 0, kept: 0, unchanged: 0, invalid: 0, failed: 0, synced: 0 },
    requests: 0,
    phases: [],
    endpoints: [],
    preview: [],
    invalid: [],
    invalidByReason: [],
    failures: [],
    guards: [],
  };
  const phase = async <T>(name: PhaseName, fn: () => Promise<T>, detail?: (v: T) => Record<string, unknown>): Promise<T> => {
    emit({ type: 'phase', name, status: 'start' });
    const t0 = performance.now();
    const v = await fn();
    const ms = Math.round(performance.now() - t0);
    result.phases.push({ name, ms });
    emit({ type: 'phase', name, status: 'end', ms, ...(detail ? { detail: detail(v) } : {}) });
    return v;
  };

  // Before the first request, an abort means "stop now": nothing is diffed or sent.
  const stopIfAborted = (): void => {
    if (options.signal?.aborted)
      throw new SyncError('aborted', 'the run was aborted before anything was sent', { cause: options.signal.reason });
  };

  let snapshotAtStart: number | undefined;
  if (!dryRun) {
    // Runs killed hard left their record open: close them as crashed, then open this run's own record, so a
    // kill from here on is found by the next run too.
    await ledger.closeCrashedRuns();
    await ledger.saveRun({ ...runRecordOf(result, startedAt), finishedAt: null, status: RUNNING });
  }
  try {
    if (targetError) throw targetError;
    const salt = configHash(spec, options.destination);
    stopIfAborted();
    // A source without `attach` runs the model itself: its rows stream into the ledger (local-ledger mode, see
    // `loadModel`) and the ledger stages them from there.
    // A warehouse ledger (`runsModel`) runs the model in its own engine: no attach, no streaming.
    const inLedger = ledger.runsModel === true;
    const local = !inLedger && !source.attach;
    let modelSql = spec.model;
    const duckdb = (): NonNullable<Ledger['connection']> => {
      if (!ledger.connection)
        throw new SyncError('ledger_failed', `source ${source.name} needs a DuckDB ledger (this ledger has no connection)`);
      return ledger.connection;
    };
    const columns = await phase('query', async () => {
      if (inLedger) {
        try {
          return await ledger.describe(spec.model);
        } catch (e) {
          if (isSyncError(e)) throw e;
          throw new SyncError('model_failed', `model query failed: ${firstLine(e)}`, { cause: e });
        }
      }
      if (!source.attach) {
        try {
          return await source.describe(spec.model, options.signal ? { signal: options.signal } : {});
        } catch (e) {
          if (isSyncError(e)) throw e;
          throw new SyncError('model_failed', `model query failed: ${firstLine(e)}`, { cause: e });
        }
      }
      await source.attach(duckdb());
      // Exactly one read query, and none of the ledger's tables: parsed by DuckDB before anything runs.
      await checkReadStatement(duckdb(), spec.model, { what: 'model', forbidden: LEDGER_TABLES });
      try {
        return await ledger.describe(spec.model);
      } catch (e) {
        const message = String((e as Error)?.message ?? e);
        // `details.line`/`column`: where in the model (the CLI maps it into the config file).
        const at = sqlErrorPosition(message, spec.model, 2);
        // DuckDB's own did-you-mean (`Candidate bindings: "email"`) sits on the line after the first.
        const candidates = /^Candidate bindings: (.+)$/m.exec(message)?.[1];
        throw new SyncError('model_failed', `model query failed: ${firstLine(e)}${candidates ? ` (did you mean ${candidates}?)` : ''}`, {
          cause: e,
          ...(at ? { details: at } : {}),
        });
      }
    });
    checkMapping(
      spec,
      columns.map((c) => c.name),
    );

    // A dry run whose destination can validate in SQL and estimate from counts (see `summarizeDryRun`).
    const d = options.destination;
    const summarizeFrom = options.summarizeFrom ?? 20_000;
    const summarizable =
      dryRun && !inLedger && d.validSql && d.estimate ? { validSql: d.validSql.bind(d), estimate: d.estimate.bind(d) } : undefined;
    const changeRow = !inLedger && d.validSql ? stagedRowSql(spec.fields, columns) : undefined;
    const changeValidSql = changeRow ? d.validSql!(spec.target, changeRow) : undefined;
    let health: KeyHealth = { nullKeys: 0, duplicateKeys: 0, duplicateSamples: [] };
    const modelTimeoutMs = spec.modelTimeoutMs ?? MODEL_TIMEOUT_MS;
    const modelDeadline = AbortSignal.timeout(modelTimeoutMs);
    const modelSignal = options.signal ? AbortSignal.any([options.signal, modelDeadline]) : modelDeadline;
    const rows = await phase(
      'stage',
      async () => {
        try {
          const projection = payloadProjection(spec.fields, columns);
          // The destination's SQL twin of its row validation: rows it clears are neither parsed nor validated in
          // JavaScript (see `admit`). A run's first stage (every row a change) evaluates it on the model's
          // columns; after that the diff evaluates it on the changes alone (`changeValidSql`). DuckDB SQL, so
          // not for a warehouse ledger.
          const first = !dryRun && !inLedger && d.validSql !== undefined && (await ledger.knownSize()) === 0;
          const validSql = summarizable || first ? d.validSql!.call(d, spec.target, rowSql(spec.fields, columns)) : undefined;
          if (local) {
            await loadModel(duckdb(), source, spec.model, columns, { signal: modelSignal });
            modelSql = LOCAL_MODEL_SQL;
          }
          const n = await ledger.stage({
            validSql,
            modelSql,
            key: spec.key,
            projection,
            fields: spec.fields,
            columns,
            salt,
            fingerprint: ledger.fingerprintSql?.(spec.fields, columns, salt),
            refreshFingerprints: !dryRun,
            countOnly: dryRun && !options.planFile && !options.expectDigests,
            // A summarised dry run reads only the unsure rows and a preview (see `summarizeDryRun`); a smaller
            // first dry run keeps every payload, so its model is read once.
            unsurePayloadsAfter: summarizable ? summarizeFrom : undefined,
            forceAll: options.fullResync ?? false,
            signal: modelSignal,
          });
          health = await ledger.keyHealth({ signal: modelSignal });
          return n;
        } catch (e) {
          // A runaway model is interrupted (DuckDB's interrupt, re-sent until it takes) at model.timeout.
          if (modelDeadline.aborted)
            throw new SyncError(
              'model_failed',
              `the model ran longer than model.timeout (${Math.round(modelTimeoutMs / 1000)} s) and was interrupted; nothing was diffed or sent`,
              { details: { timeoutMs: modelTimeoutMs }, cause: e },
            );
          if (isSyncError(e)) throw e;
          throw new SyncError('model_failed', `model query failed: ${firstLine(e)}`, { cause: e });
        }
      },
      (n) => ({ rows: n }),
    );
    result.rows.total = rows;
    stopIfAborted();
    if (health.nullKeys > 0)
      throw new SyncError('null_keys', `${health.nullKeys} rows have a null or empty key "${spec.key}"; nothing was sent`, {
        details: { column: spec.key, count: health.nullKeys },
      });
    if (health.duplicateKeys > 0)
      throw new SyncError(
        'duplicate_keys',
        `${health.duplicateKeys} keys of "${spec.key}" appear more than once (e.g. ${health.duplicateSamples.map((s) => `${s.key} ×${s.count}`).join(', ')}); nothing was sent`,
        { details: { column: spec.key, count: health.duplicateKeys, samples: health.duplicateSamples } },
      );

    if (options.planFile || options.expectDigests) {
      const digests: PlanDigests = { ...(await ledger.digests()), config: specDigest(spec) };
      result.digests = digests;
      const expected = options.expectDigests;
      const moved = expected ? (['model', 'config', 'ledger'] as const).filter((k) => digests[k] !== expected[k]) : [];
      if (moved.length)
        throw new SyncError(
          'plan_stale',
          `the saved plan is out of date: the ${moved.join(' and the ')} changed since it was made; nothing was sent (make a new plan with \`syncline plan --out\`)`,
          { details: { moved } },
        );
      if (dryRun && options.planFile) await ledger.exportChanges(options.planFile);
    }
    const previous = await ledger.meta('config_hash');
    const snapshotSize = await ledger.snapshotSize();
    // Removals come from the snapshot and from keys left in doubt (see knownSize): weigh them against both.
    const known = await ledger.knownSize();
    snapshotAtStart = known;
    // A resend after a mapping change can take several runs (aborted, killed); each says so until one succeeds.
    result.mappingChanged = (previous !== null && previous !== salt && snapshotSize > 0) || (await ledger.meta('mapping_resend')) === salt;
    // Each change's `before` costs a scan of the snapshot's payloads: joined for a planner that reads it, or
    // for a preview of many rows; a short preview fetches its few (see `send`).
    const withBefore = (options.destination.needsBefore?.(spec.target) ?? false) || (dryRun && limit > PREVIEW_FETCH_MAX);
    let summarize = false;
    const counts = await phase(
      'diff',
      async () => {
        if (summarizable) {
          const c = await ledger.summary();
          summarize = c.add + c.change + c.remove >= summarizeFrom;
          if (summarize) return { add: c.add, change: c.change, remove: c.remove };
        }
        return ledger.diff({ before: withBefore, ...(changeValidSql ? { validSql: changeValidSql } : {}) });
      },
      // `remove`: removals a call will carry; `kept`: leavers the destination keeps (never called removals).
      (c) => ({
        add: c.add,
        change: c.change,
        remove: sendsRemovals(options.destination, spec.target) ? c.remove : 0,
        kept: sendsRemovals(options.destination, spec.target) ? 0 : c.remove,
      }),
    );
    // Invalid rows are moved from added/changed to invalid as they are validated (see `admit`).
    result.rows.added = counts.add;
    result.rows.changed = counts.change;
    const removalsSent = sendsRemovals(options.destination, spec.target) ? counts.remove : 0;
    result.rows.removed = removalsSent;
    result.rows.kept = counts.remove - removalsSent;
    result.rows.unchanged = rows - counts.add - counts.change;

    const refusals: SyncError[] = [];
    if (!options.allowMassDelete && rows === 0 && snapshotSize > 0)
      refusals.push(
        new SyncError(
          'guard_empty_model',
          `the model returned 0 rows but ${snapshotSize} were synced before; refusing (use --allow-mass-delete if intended)`,
          { details: { snapshot: snapshotSize } },
        ),
      );
    if (!options.allowMassDelete && known > 0 && removalsSent / known > spec.maxDeleteShare)
      refusals.push(
        new SyncError(
          'guard_mass_delete',
          `${removalsSent} removals = ${pct(removalsSent / known)} of the synced rows, above this sync's limit (${pct(spec.maxDeleteShare)}); refusing (use --allow-mass-delete if intended)`,
          { details: { removals: removalsSent, snapshot: known, maxDeleteShare: spec.maxDeleteShare } },
        ),
      );
    // The same limit over a rolling 24 h: small deletions run after run add up to a mass delete too.
    const window = await ledger.deleteWindow(known);
    const windowTotal = window.deleted + removalsSent;
    result.deleteWindow = {
      ...window,
      planned: removalsSent,
      share: window.base > 0 ? windowTotal / window.base : 0,
      limit: spec.maxDeleteShare,
    };
    if (
      !options.allowMassDelete &&
      refusals.length === 0 &&
      window.deleted > 0 &&
      window.base > 0 &&
      windowTotal / window.base > spec.maxDeleteShare
    )
      refusals.push(
        new SyncError(
          'guard_mass_delete',
          `${window.deleted} rows deleted in the last 24 h (since ${window.since}) + ${removalsSent} now = ${pct(windowTotal / window.base)} of the ${window.base} synced rows at the window's start, above this sync's limit (${pct(spec.maxDeleteShare)}); refusing (use --allow-mass-delete if intended)`,
          {
            details: {
              removals: removalsSent,
              deletedInWindow: window.deleted,
              since: window.since,
              base: window.base,
              maxDeleteShare: spec.maxDeleteShare,
            },
          },
        ),
      );
    // A dry run shows what a run would refuse (and still computes the plan); a run refuses before any call.
    if (refusals.length && !dryRun) throw refusals[0]!;
    result.guards = refusals.map((e) => ({ code: e.code, message: e.message }));
    if (!dryRun) {
      if (result.mappingChanged) await ledger.setMeta('mapping_resend', salt);
      await ledger.setMeta('config_hash', salt);
    }

    stopIfAborted();
    // Before the first call, and only when there is something to send (an unchanged run sends nothing):
    // the destination can refuse a rejected key or a missing target (e.g. an audience) with one clear error.
    if (!dryRun && counts.add + counts.change + counts.remove > 0 && options.destination.check)
      await options.destination.check(spec.target, options.hardSignal ? { signal: options.hardSignal } : {});
    const inner = { plan: 0, commit: 0 };
    // --max-rows: this run sends the first maxRows changes (add → change → remove); --max-duration: no new
    // call starts after the deadline. Both end like a first Ctrl-C: calls in flight finish and commit.
    const all = counts.add + counts.change + counts.remove;
    const cap = dryRun || options.maxRows === undefined ? all : Math.max(0, Math.min(all, Math.floor(options.maxRows)));
    const sendCounts = capCounts(counts, cap);
    if (cap < all) await ledger.keepChanges(cap);
    const deadline =
      !dryRun && options.maxDurationMs !== undefined
        ? AbortSignal.timeout(Math.max(1, startMs + options.maxDurationMs - Date.now()))
        : undefined;
    let processed = 0;
    const sendOptions: RunSyncOptions = {
      ...options,
      // Invalid rows are numbered from the staged model (the streamed copy in local-ledger mode).
      spec: { ...spec, model: modelSql },
      onEvent: (e) => {
        if (e.type === 'progress') processed = e.done;
        emit(e);
      },
      ...(deadline ? { signal: options.signal ? AbortSignal.any([options.signal, deadline]) : deadline } : {}),
    };
    await phase(
      'send',
      () =>
        summarize && summarizable
          ? summarizeDryRun({
              ledger,
              destination: d,
              estimate: summarizable.estimate,
              target: spec.target,
              result,
              totals: counts,
              limit,
              chunkSize,
              inner,
              recordInvalid: (s, issues, payload) => recordInvalid(result, s, issues, payload),
              spec: { ...spec, model: modelSql },
              signal: options.signal,
            })
          : send(sendOptions, result, sendCounts, chunkSize, limit, withBefore, inner, options.signal),
      () => ({ ...result.rows, requests: result.requests }),
    );
    // Time spent inside destination.plan (with row validation) and ledger.commit, accumulated over the
    // chunks of the send phase, so a slow planner or ledger shows up in the run record.
    result.phases.splice(result.phases.length - 1, 0, { name: 'plan', ms: Math.round(inner.plan) });
    if (!dryRun) result.phases.push({ name: 'commit', ms: Math.round(inner.commit) });
    if (!dryRun && processed < all) result.remaining = all - processed;
    if (options.signal?.aborted) result.status = 'aborted';
    else if (result.resumeAt !== undefined) result.status = 'resume_later';
    else if (!dryRun && processed < all && (cap < all || deadline?.aborted)) result.status = 'stopped';
    else if (result.rows.failed > 0) result.status = 'partial';
    if (result.status === 'succeeded' && result.mappingChanged && !dryRun) await ledger.setMeta('mapping_resend', '');
  } catch (e) {
    result.status = (options.signal?.aborted && !isSyncError(e)) || (isSyncError(e) && e.code === 'aborted') ? 'aborted' : 'failed';
    const err = isSyncError(e) ? e : new SyncError('destination_failed', firstLine(e), { cause: e });
    result.error = { code: err.code, message: err.message, details: err.details };
  }
  if (!dryRun) {
    await ledger.saveRun(runRecordOf(result, startedAt));
    // Counted from the committed row results, so only deletions Knock confirmed enter the rolling window.
    // A failure here must not turn a finished run into a failed one; the per-run guard still holds.
    if (snapshotAtStart !== undefined && result.rows.removed > 0)
      await ledger.recordDeletes(result.runId, snapshotAtStart).catch(() => undefined);
  }
  // Row results and exchanges grow with every run: keep the configured window (a failure here loses nothing).
  // A stopped run leaves that to the next run: a stop must be quick.
  if (!dryRun && !options.signal?.aborted) await ledger.pruneHistory().catch(() => undefined);
  return result;
}

async function send(
  options: RunSyncOptions,
  result: RunResult,
  totals: { add: number; change: number; remove: number },
  chunkSize: number,
  limit: number,
  withBefore: boolean,
  inner: { plan: number; commit: number },
  /** The caller's stop (Ctrl-C): the end-of-run fold is left to the next open, so the stop stays short. */
  userStop?: AbortSignal,
): Promise<void> {
  const { spec, destination, ledger } = options;
  const dryRun = options.dryRun ?? false;
  const emit = options.onEvent ?? (() => undefined);
  const target = spec.target;
  const total = totals.add + totals.change + totals.remove;
  const endpoints = new Map<string, EndpointEstimate>();
  const pool = createOperationPool({ sending: options.concurrency ?? 32, pending: options.maxPending ?? 256 });
  const shown = { add: 0, change: 0, remove: 0 };
  let done = 0;
  let fatal: unknown;
  // OpOutcome.resumeAfterMs (e.g. Knock's Retry-After longer than the destination waits) stops the run the
  // way a first Ctrl-C does: no new operation starts, those in flight finish, confirmed rows are committed.
  const resume = new AbortController();
  let resumeAt = 0;
  options = { ...options, signal: options.signal ? AbortSignal.any([options.signal, resume.signal]) : resume.signal };
  const internal = new AbortController();
  const hard = options.hardSignal ? AbortSignal.any([options.hardSignal, internal.signal]) : internal.signal;
  // Every operation in flight (up to `concurrency`) and its retries listen on this one signal.
  setMaxListeners(0, hard);

  // Ledger writes of all operations are grouped into few transactions (see ledger-writer.ts); their time
  // (one write at a time) is the run's `commit` phase.
  const windowMs = options.commitWindowMs ?? ledger.commitWindow.ms;
  const windowRows = options.commitWindowRows ?? ledger.commitWindow.rows;
  const writer = createLedgerWriter({
    ledger,
    runId: result.runId,
    ...(windowMs !== undefined ? { windowMs } : {}),
    ...(windowRows !== undefined ? { windowRows } : {}),
    onWrite: (ms) => (inner.commit += ms),
  });

  // `sent` is false for changes that need no call (a removal the destination keeps): they are committed
  // (the ledger forgets a kept removal) and recorded as `skipped`, never as synced.
  const commitOutcome = async (
    changes: Change[],
    ok: Set<string>,
    failed: Map<string, RowFailure>,
    exchanges: HttpExchange[],
    sent = true,
  ): Promise<void> => {
    const upserts: LedgerWrite['upserts'] = [];
    const removes: string[] = [];
    const results: LedgerWrite['results'] = [];
    // Confirmed and definitely rejected rows are settled; unconfirmed rows and failures that may have been
    // applied (inDoubt, 5xx, 408) stay in doubt, so they are resent even if the model returns to the snapshot.
    const settled: string[] = [];
    for (const c of changes) {
      const f = failed.get(c.key);
      if (ok.has(c.key) || (f && !mayHaveApplied(f))) settled.push(c.key);
      if (ok.has(c.key)) {
        if (c.action === 'remove') removes.push(c.key);
        else
          upserts.push({
            key: c.key,
            hash: c.hash!,
            payload: c.payloadJson!,
            added: c.action === 'add',
            fingerprint: ReadChange.fingerprintOf(c),
            seq: ReadChange.seqOf(c),
          });
        results.push(sent ? { key: c.key, action: c.action, status: 'synced', seq: ReadChange.seqOf(c) } : skippedResult(c));
      } else {
        const f = failed.get(c.key) ?? { key: c.key, code: 'unconfirmed', message: 'the destination did not confirm this row' };
        results.push({ key: c.key, action: c.action, status: 'failed', code: f.code, message: f.message });
        if (result.failures.length < 100) result.failures.push(f);
        emit({ type: 'row_failed', key: f.key, code: f.code, message: f.message });
      }
    }
    if (sent) result.rows.synced += upserts.length + removes.length;
    result.rows.failed += changes.length - upserts.length - removes.length;
    done += changes.length;
    emit({ type: 'progress', done, total, requests: result.requests });
    await writer.record({ upserts, removes, results, exchanges, settled });
  };

  // Operations whose keys were marked in doubt but that were not started (an abort or a fatal error
  // stopped the run first): their marks are withdrawn at the end.
  const unstarted = new Set<Operation>();
  /** Keys of started operations whose requests never left (`OpOutcome.notSent`): withdrawn like `unstarted`. */
  const notSent: string[] = [];
  /** Operations that sent a request and have not finished (`calls` events). */
  let inFlight = 0;
  const execute = async (op: Operation, onSent: () => void, marked: Promise<void>): Promise<void> => {
    const exchanges: HttpExchange[] = [];
    try {
      await marked;
    } catch (e) {
      // Not sent: the keys could not be marked in doubt.
      fatal ??= e;
      internal.abort(e);
      return;
    }
    if (!going()) return;
    unstarted.delete(op);
    let flying = false;
    try {
      const outcome = await destination
        .apply(op, {
          target,
          signal: hard,
          ...(options.signal ? { stop: options.signal } : {}),
          log: (x) => {
            exchanges.push(x);
            emit({ type: 'request', exchange: x });
          },
          onSent,
          onRequest: () => {
            if (flying) return;
            flying = true;
            emit({ type: 'calls', inFlight: ++inFlight });
          },
        })
        .finally(() => flying && emit({ type: 'calls', inFlight: --inFlight }));
      result.requests += outcome.requests;
      if (outcome.resumeAfterMs !== undefined) {
        resumeAt = Math.max(resumeAt, Date.now() + outcome.resumeAfterMs);
        result.resumeAt = new Date(resumeAt).toISOString();
        resume.abort();
      }
      const unsent = new Set(outcome.notSent ?? []);
      const settle = unsent.size ? op.changes.filter((c) => !unsent.has(c.key)) : op.changes;
      notSent.push(...unsent);
      if (settle.length || exchanges.length)
        await commitOutcome(settle, new Set(outcome.ok), new Map(outcome.failed.map((f) => [f.key, f])), exchanges);
    } catch (e) {
      fatal ??= e;
      internal.abort(e);
      result.requests += exchanges.length;
      // The call may or may not have been applied: its rows stay in doubt (resent next run); record why.
      const message = `the call failed before a confirmation: ${firstLine(e)}`;
      const results = op.changes.map((c): RowResult => ({ key: c.key, action: c.action, status: 'failed', code: 'in_doubt', message }));
      result.rows.failed += op.changes.length;
      await writer.record({ results, exchanges }).catch(() => undefined);
    }
  };

  // Changes are read READ_CHUNKS chunks at a time (a ledger query costs ~1 ms however small), and the next
  // block is read while this one is validated and planned, so DuckDB and JavaScript overlap. A read that
  // fails while nobody awaits it yet must not be an unhandled rejection; awaiting still throws.
  const block = chunkSize * READ_CHUNKS;
  const read = (from: number): Promise<StagedChange[]> => {
    const p = ledger.readChanges(from, from + block);
    p.catch(() => undefined);
    return p;
  };
  const going = (): boolean => fatal === undefined && !options.signal?.aborted;
  let next: Promise<StagedChange[]> | undefined = total > 0 ? read(1) : undefined;
  async function* chunks(): AsyncGenerator<StagedChange[]> {
    for (let from = 1; from <= total && going(); from += block) {
      const rows = await next!;
      next = from + block <= total ? read(from + block) : undefined;
      for (let at = 0; at < rows.length && going(); at += chunkSize) yield rows.slice(at, at + chunkSize);
    }
  }

  // The preview's field diffs are computed at the end: without `before` in the changes, its rows get
  // theirs in one query then.
  const previewed: PendingPreview[] = [];
  /**
   * The change for a staged row, or undefined when the destination finds it invalid (then recorded in
   * `invalidRows`). A row the destination's `validSql` cleared (`ok`) is certainly valid: it is not
   * validated, and its payload is parsed only if something reads it (see `ReadChange`).
   */
  const admit = (s: StagedChange, invalidRows: RowResult[]): Change | undefined => {
    let payload: Record<string, unknown> | null | undefined;
    if (s.payload !== null && s.ok !== true) {
      payload = JSON.parse(s.payload) as Record<string, unknown>;
      const issues = destination.validate({ key: s.key, payload }, target);
      if (issues.length > 0) {
        recordInvalid(result, s, issues, payload);
        const first = issues[0]!;
        invalidRows.push({ key: s.key, action: s.action, status: 'invalid', code: first.rule, field: first.field, message: first.message });
        return undefined;
      }
    }
    const before = s.before === null ? null : (JSON.parse(s.before) as Record<string, unknown>);
    const change = new ReadChange(s.action, s.key, s.hash, s.payload, before, s.seq, s.fingerprint ?? undefined, payload);
    if (dryRun && shown[s.action] < limit) {
      shown[s.action] += 1;
      const shownPayload = change.payload;
      const item: PreviewChange = {
        action: s.action,
        key: s.key,
        fields: [],
        unchangedFields: 0,
        ...(shownPayload ? { payload: shownPayload } : {}),
      };
      result.preview.push(item);
      previewed.push({ item, before, payload: shownPayload });
    }
    return change;
  };

  for await (const staged of chunks()) {
    const t0 = performance.now();
    const invalidRows: RowResult[] = [];
    const valid = staged.map((s) => admit(s, invalidRows)).filter((c): c is Change => c !== undefined);
    const plan = destination.plan(valid, { target, totals });
    inner.plan += performance.now() - t0;
    for (const op of plan.operations) {
      const e = endpoints.get(op.endpoint) ?? { endpoint: op.endpoint, tier: op.tier, calls: 0, rows: 0 };
      e.calls += 1;
      e.rows += op.changes.length;
      endpoints.set(op.endpoint, e);
    }
    if (dryRun) continue;
    try {
      if (invalidRows.length || plan.skipped.length) {
        done += invalidRows.length;
        await commitOutcome(plan.skipped, new Set(plan.skipped.map((c) => c.key)), new Map(), [], false);
        await writer.record({ results: invalidRows });
      }
    } catch (e) {
      fatal ??= e;
      break;
    }
    if (!going() || plan.operations.length === 0) continue;
    // Every key of the chunk is durably in doubt before the first of its requests leaves: one write per
    // chunk (or fewer: marks made while a write runs share the next one) instead of one per operation.
    // Its operations are queued meanwhile (one pool lane per endpoint) and wait for it; the loop goes on
    // reading and planning, so the next chunk's bulk job is marked and ready while this chunk's single
    // calls still wait for their endpoint's rate limit.
    // The attempted payload is kept only for adds: a changed or removed key's `before` is the snapshot's
    // payload (or, for a key only in doubt, the one its first attempt left there), so copying it again
    // would only double the bytes each write logs.
    const marked = writer.mark(
      plan.operations.flatMap((op) =>
        op.changes.map((c) => ({ key: c.key, payload: c.action === 'add' ? (c.payloadJson ?? null) : null, seq: ReadChange.seqOf(c) })),
      ),
    );
    marked.catch(() => undefined);
    for (const op of plan.operations) unstarted.add(op);
    for (const op of plan.operations) {
      if (!going()) break;
      // A queued operation may start only after an abort or a fatal error: then it is not sent.
      await pool.start((onSent) => (going() ? execute(op, onSent, marked) : Promise.resolve()), op.endpoint);
    }
  }
  await diffPreview(ledger, previewed, withBefore);
  await pool.drain();
  await next?.catch(() => undefined);
  if (going()) await locateInvalid(ledger, spec, result, inner, options.signal);
  if (!dryRun) {
    try {
      // Keys marked but never sent leave `in_doubt` again, unless an earlier run left them there (sticky).
      const withdrawn = [...unstarted].flatMap((op) => op.changes.map((c) => c.key)).concat(notSent);
      if (withdrawn.length) await writer.record({ settled: withdrawn });
      await writer.close();
      // After a Ctrl-C the logs stay unfolded: folding millions of logged rows (and checkpointing them) took
      // > 30 s after a big first sync, and the next open folds them anyway (crash-safe: what is logged
      // counts as committed).
      if (!(userStop?.aborted && (await ledger.deferMaintenance?.()))) {
        const t0 = performance.now();
        await ledger.fold();
        inner.commit += performance.now() - t0;
      }
    } catch (e) {
      fatal ??= e;
    }
  }
  result.endpoints = [...endpoints.values()];
  result.invalidByReason.sort((a, b) => b.count - a.count);
  if (dryRun) result.requests = result.endpoints.reduce((n, e) => n + e.calls, 0);
  if (fatal !== undefined) throw fatal;
}

/** The first `cap` changes of a diff by action, in the order they are numbered (add → change → remove). */
function capCounts(c: { add: number; change: number; remove: number }, cap: number): { add: number; change: number; remove: number } {
  const add = Math.min(c.add, cap);
  const change = Math.min(c.change, cap - add);
  return { add, change, remove: Math.min(c.remove, cap - add - change) };
}

function checkMapping(spec: SyncSpec, columns: string[]): void {
  const check = (where: string, column: string): void => {
    if (columns.includes(column)) return;
    const hint = closest(column, columns);
    throw new SyncError('mapping_invalid', `${where}: column "${column}" not in model${hint ? ` (did you mean "${hint}"?)` : ''}`, {
      details: { path: where, column, suggestion: hint ?? null, columns },
    });
  };
  check('key', spec.key);
  for (const [field, column] of Object.entries(spec.fields)) check(`sync.fields.${field}`, column);
}

/** Changes read from the ledger per query, in chunks (`chunkSize`, 1,000 by default). */
const READ_CHUNKS = 10;
/** Up to this preview limit, a dry run fetches its preview rows' `before` instead of joining every change's. */
const PREVIEW_FETCH_MAX = 1000;
/**
 * Counts an invalid row once (as invalid, no longer as an add or change), keeps its first 100 issues and
 * counts every issue by field and rule (up to 100 reasons; sorted by `sortReasons`).
 */
function recordInvalid(result: RunResult, s: StagedChange, issues: RowIssue[], payload: Record<string, unknown>): void {
  result.rows.invalid += 1;
  result.rows[s.action === 'add' ? 'added' : 'changed'] -= 1;
  for (const i of issues) {
    if (result.invalid.length < 100) result.invalid.push(invalidRow(i, payload));
    const reason = result.invalidByReason.find((r) => r.field === i.field && r.rule === i.rule);
    if (reason) reason.count += 1;
    else if (result.invalidByReason.length < 100)
      result.invalidByReason.push({ field: i.field, rule: i.rule, message: i.message, count: 1 });
  }
}

/** An issue of `validate`, with the refused value (for `key` issues, the key) shortened and redacted. */
function invalidRow(issue: RowIssue, payload: Record<string, unknown>): InvalidRow {
  const has = Object.hasOwn(payload, issue.field);
  if (!has && issue.field !== 'key') return { ...issue };
  return { ...issue, value: shortValue(has ? payload[issue.field] : issue.key) };
}
const skippedResult = (c: Change): RowResult => ({
  key: c.key,
  action: c.action,
  status: 'skipped',
  code: c.action === 'remove' ? 'kept' : 'no_call',
  message: c.action === 'remove' ? 'left at the destination: this sync sends no removals' : 'no call needed',
});
const mayHaveApplied = (f: RowFailure): boolean => f.inDoubt === true || (f.status !== undefined && (f.status >= 500 || f.status === 408));
const pct = (x: number): string => `${Math.round(x * 1000) / 10}%`;
const firstLine = (e: unknown): string => String((e as Error)?.message ?? e).split('\n')[0]!;
