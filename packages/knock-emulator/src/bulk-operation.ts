import { randomUUID } from 'node:crypto';

/** An item a bulk job rejected: ids only, no reason (reference §5). */
export interface BulkErrorItem {
  id: string;
  collection: string | null;
}

/** What applying a bulk job produced. */
export interface BulkApplyResult {
  success: number;
  errors: BulkErrorItem[];
}

/** Applies a job's items; `fail` holds the item ids a fault forces into `error_items` (none when undefined). */
export type BulkApply = (fail: ReadonlySet<string> | undefined) => BulkApplyResult;

/** A bulk job as stored: the `BulkOperation` fields plus scheduling state (§5). */
export interface BulkOperationRecord {
  id: string;
  name: string;
  status: 'queued' | 'processing' | 'completed' | 'failed';
  estimated_total_rows: number;
  processed_rows: number;
  success_count: number;
  error_count: number;
  error_items: BulkErrorItem[];
  inserted_at: string;
  updated_at: string;
  started_at: string | null;
  completed_at: string | null;
  failed_at: string | null;
  /** Set while the job has not applied yet. */
  apply?: BulkApply | undefined;
  /** Set while the job's items are in the store eagerly (see eager-apply.ts): undoes them and returns the ordinary apply. */
  rollback?: (() => BulkApply) | undefined;
  /** The job's time has come but a fault holds it in `processing`. */
  due?: boolean;
  /** Held in `processing` until the bulk faults stop stalling (or a forced flush). */
  stalled?: boolean;
  /** Held in `processing` for this many more polls. */
  holdPolls?: number;
  /** Ends `failed` instead of applying. */
  failJob?: boolean;
  timer?: NodeJS.Timeout | undefined;
}

/**
 * Bulk-operation faults (see the README "Fault API"). They apply to jobs created while set, except
 * `failItemIds`, which applies when a job applies.
 */
export interface BulkFaults {
  /** Jobs stay `processing` until this is turned off or a forced flush. */
  stall?: boolean;
  /** Each new job stays `processing` for this many `GET /v1/bulk_operations/{id}` polls, then completes. */
  holdPolls?: number;
  /** These item ids land in `error_items` instead of applying. */
  failItemIds?: string[];
  /** The next N jobs end `failed` and apply nothing. */
  failJobs?: number;
}

/** The JSON shape of `BulkOperation` ([SPEC] `BulkOperation`). */
export function bulkOperationJson(op: BulkOperationRecord, progressBase: string): Record<string, unknown> {
  return {
    __typename: 'BulkOperation',
    id: op.id,
    name: op.name,
    status: op.status,
    estimated_total_rows: op.estimated_total_rows,
    processed_rows: op.processed_rows,
    success_count: op.success_count,
    error_count: op.error_count,
    error_items: op.error_items,
    progress_path: `${progressBase}/v1/bulk_operations/${op.id}`,
    inserted_at: op.inserted_at,
    updated_at: op.updated_at,
    started_at: op.started_at,
    completed_at: op.completed_at,
    failed_at: op.failed_at,
  };
}

/**
 * Runs bulk jobs asynchronously: `queued` at once, `processing` after half the delay, applied and
 * `completed` (or `failed`) after the full delay, as Knock's bulk endpoints do (§5).
 * @example const queue = new BulkQueue({ delayMs: 150, onApplied: save })
 */
export class BulkQueue {
  private readonly pending = new Set<BulkOperationRecord>();
  private faults: BulkFaults = {};
  private failIds: Set<string> | undefined;
  private failJobsLeft = 0;
  private eager = 0;
  /** After a rollback, jobs take the ordinary path for a while: reads mixed with bulk writes would roll back every job. */
  private eagerPausedUntil = 0;
  private delay: number;
  private readonly onApplied: () => void;

  constructor(options: { delayMs: number; onApplied: () => void }) {
    this.delay = options.delayMs;
    this.onApplied = options.onApplied;
  }

  /** Delay of jobs created from now on. Setting it settles eager jobs, so jobs keep applying in order. */
  get delayMs(): number {
    return this.delay;
  }

  set delayMs(ms: number) {
    this.settle();
    this.delay = ms;
  }

  /**
   * Whether a new job may apply eagerly: no bulk faults (they act at apply time), no ordinary job
   * pending (an eager job must not overtake one) and no rollback in the last second.
   */
  canApplyEagerly(): boolean {
    return (
      this.eager === this.pending.size &&
      performance.now() >= this.eagerPausedUntil &&
      !this.faults.stall &&
      !this.faults.holdPolls &&
      this.failIds === undefined &&
      this.failJobsLeft === 0
    );
  }

  /**
   * Rolls back every pending eager job (newest first) and makes it an ordinary job again. Called before
   * anything can observe stored data (every route but bulk upserts and bulk-operation polls, the control
   * API, snapshots); free when no eager job is pending.
   */
  settle(): void {
    if (this.eager === 0) return;
    this.eagerPausedUntil = performance.now() + 1000;
    for (const op of [...this.pending].reverse()) {
      if (!op.rollback) continue;
      op.apply = op.rollback();
      op.rollback = undefined;
    }
    this.eager = 0;
  }

  /** How many jobs have not applied yet. */
  get size(): number {
    return this.pending.size;
  }

  /** Creates a job in `queued` and schedules it. */
  enqueue(name: string, rows: number, apply: BulkApply, rollback?: () => BulkApply): BulkOperationRecord {
    const now = new Date().toISOString();
    const op: BulkOperationRecord = {
      id: randomUUID(),
      name,
      status: 'queued',
      estimated_total_rows: rows,
      processed_rows: 0,
      success_count: 0,
      error_count: 0,
      error_items: [],
      inserted_at: now,
      updated_at: now,
      started_at: null,
      completed_at: null,
      failed_at: null,
      apply,
    };
    if (rollback) {
      op.rollback = rollback;
      this.eager++;
    }
    if (this.faults.stall) op.stalled = true;
    if (this.faults.holdPolls) op.holdPolls = this.faults.holdPolls;
    if (this.failJobsLeft > 0) {
      this.failJobsLeft--;
      op.failJob = true;
    }
    this.pending.add(op);
    const half = this.delay / 2;
    op.timer = setTimeout(() => {
      this.start(op);
      op.timer = setTimeout(() => this.due(op), half);
      op.timer.unref();
    }, half);
    op.timer.unref();
    return op;
  }

  /** A poll of `GET /v1/bulk_operations/{id}`: counts down `holdPolls`. */
  poll(op: BulkOperationRecord): void {
    if (!op.apply) return;
    if (op.holdPolls && op.holdPolls > 0) {
      this.start(op);
      op.holdPolls--;
      return;
    }
    if (op.due && !op.stalled) this.finish(op);
  }

  /** Sets the bulk faults (replacing earlier ones). Turning `stall` off releases stalled jobs. */
  setFaults(faults: BulkFaults): void {
    this.settle();
    this.faults = { ...faults };
    this.failIds = faults.failItemIds?.length ? new Set(faults.failItemIds) : undefined;
    this.failJobsLeft = faults.failJobs ?? 0;
    if (!faults.stall) {
      for (const op of [...this.pending]) {
        op.stalled = false;
        if (op.due && !op.holdPolls) this.finish(op);
      }
    }
  }

  /** The current bulk faults. */
  getFaults(): BulkFaults {
    return { ...this.faults, failJobs: this.failJobsLeft };
  }

  /** Applies every pending job now (stalled ones only with `force`); returns how many finished. */
  flush(force = false): number {
    let n = 0;
    for (const op of [...this.pending]) {
      if (op.stalled && !force) continue;
      this.start(op);
      this.finish(op);
      n++;
    }
    return n;
  }

  /** Drops pending jobs without applying them (reset). */
  clear(): void {
    this.settle();
    for (const op of this.pending) clearTimeout(op.timer);
    this.pending.clear();
    this.setFaults({});
  }

  private start(op: BulkOperationRecord): void {
    if (op.status !== 'queued') return;
    op.status = 'processing';
    op.started_at = op.updated_at = new Date().toISOString();
  }

  private due(op: BulkOperationRecord): void {
    op.timer = undefined;
    op.due = true;
    if (op.stalled || (op.holdPolls ?? 0) > 0) return;
    this.finish(op);
  }

  private finish(op: BulkOperationRecord): void {
    const apply = op.apply;
    if (!apply) return;
    clearTimeout(op.timer);
    this.pending.delete(op);
    op.apply = undefined;
    if (op.rollback) {
      op.rollback = undefined;
      this.eager--;
    }
    op.holdPolls = 0;
    const now = new Date().toISOString();
    op.updated_at = now;
    if (op.failJob) {
      op.status = 'failed';
      op.failed_at = now;
      return;
    }
    const result = apply(this.failIds);
    op.success_count = result.success;
    op.error_items = result.errors;
    op.error_count = result.errors.length;
    op.processed_rows = result.success + result.errors.length;
    op.status = 'completed';
    op.completed_at = now;
    this.onApplied();
  }
}
