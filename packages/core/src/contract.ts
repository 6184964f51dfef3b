/**
 * The Syncline plugin contract. Sources produce rows, the ledger diffs them against what the destination
 * has confirmed, destinations turn changes into API calls. Everything else is optional.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { z } from 'zod';

/** What core itself knows of every sync's target, whatever the destination. */
export interface SyncBehaviour {
  /** What happens when a row leaves the model: leave the record at the destination, or delete it there. */
  onDelete: 'nothing' | 'delete';
  /** `skip` (default): a null column does not overwrite what the destination holds. */
  nulls: 'send' | 'skip';
}

/**
 * What a destination needs to know about a sync: its own part of the config's `sync:` block (`T`, validated
 * by its `targetSchema`: Knock's `type`, `collection`, `audience`…), carried by core unread, plus the generic
 * behaviour core applies.
 */
export type SyncTarget<T extends object = object> = T & SyncBehaviour;

/** A field of the destination's catalog, for mapping UIs and row validation. */
export interface FieldSpec {
  name: string;
  type: 'string' | 'datetime' | 'object' | 'any';
  rule?: 'id' | 'email' | 'e164' | 'timezone' | 'locale' | 'iso8601' | 'url' | undefined;
  description: string;
  required?: boolean;
}

/** One model row after mapping: the key and the destination fields (custom properties included). */
export interface Row {
  key: string;
  payload: Record<string, unknown>;
}

/** Why a row is invalid; it is recorded and not sent. Messages never contain the value. */
export interface RowIssue {
  key: string;
  field: string;
  rule: string;
  message: string;
}

export type ChangeAction = 'add' | 'change' | 'remove';

/** A row that differs from the snapshot. `payload`/`hash` are null for `remove`. */
export interface Change {
  action: ChangeAction;
  key: string;
  payload: Record<string, unknown> | null;
  hash: string | null;
  /** The last payload the destination confirmed (from the snapshot); null for `add`. */
  before?: Record<string, unknown> | null;
  /**
   * `payload` as JSON text, when the engine has it (the run loop reads changes as JSON): a destination may
   * send it as is instead of serialising `payload` again. Same content as `payload`; absent for removals.
   * It is the text the ledger records once the row is confirmed, so a destination must not change it.
   */
  payloadJson?: string;
}

/** One destination call (or one bulk job) carrying some changes. Opaque to core except these members. */
export interface Operation {
  /** Unique within a run. */
  id: string;
  /** For humans and estimates: `POST /v1/users/bulk/identify`. */
  endpoint: string;
  /** Knock rate tier of the endpoint, when known. */
  tier?: number;
  /** The changes this call carries; the ledger commits them by their own action. */
  changes: Change[];
  /** Destination-private data (request body, path…). */
  data?: unknown;
}

export interface RowFailure {
  key: string;
  code: string;
  message: string;
  status?: number;
  /**
   * The destination may have applied the row anyway (a timeout after sending, a job still processing, a
   * connection reset). Core keeps such rows in doubt and resends them whatever the model says next; a 5xx
   * or 408 `status` counts as in doubt too.
   */
  inDoubt?: boolean;
}

/** Per-row outcome of one operation: confirmed keys and failed keys. One bad row never fails the rest. */
export interface OpOutcome {
  ok: string[];
  failed: RowFailure[];
  /** HTTP requests made, retries and polls included. */
  requests: number;
  retryAfterMs?: number;
  /**
   * The destination takes no more calls for this long (e.g. Knock answered 429 with a `Retry-After` longer
   * than the destination waits): the run starts no further operation, lets those in flight finish, commits
   * what was confirmed and ends with status `resume_later` and `resumeAt`.
   */
  resumeAfterMs?: number;
  /**
   * Keys whose request never left because `ApplyContext.stop` was aborted first: neither confirmed nor
   * failed, they leave `in_doubt` again and the next run sends them.
   */
  notSent?: string[];
}

/** One HTTP exchange, for the run's debugger log. Headers are redacted; bodies truncated. */
export interface HttpExchange {
  opId?: string;
  method: string;
  path: string;
  status: number | null;
  attempt: number;
  startedAt: string;
  durationMs: number;
  requestHeaders: Record<string, string>;
  requestBody?: string;
  responseHeaders?: Record<string, string>;
  responseBody?: string;
  error?: string;
}

export interface PlanContext<T extends object = object> {
  target: SyncTarget<T>;
  /** Totals of the whole run, so a planner can pick endpoints by size while changes stream in chunks. */
  totals: { add: number; change: number; remove: number };
}

export interface Plan {
  operations: Operation[];
  /** Changes that need no call (e.g. a removal with `onDelete: nothing`); committed as confirmed. */
  skipped: Change[];
}

export interface ApplyContext<T extends object = object> {
  target: SyncTarget<T>;
  /** Aborts calls in flight too (a second Ctrl-C): requests are cancelled, rows stay in doubt. */
  signal?: AbortSignal;
  /**
   * The run is stopping (a first Ctrl-C, SIGTERM, `--max-duration`, a resume-later): a request that has not
   * left yet (waiting for a rate-limit slot, say) must not leave. Its rows go in `OpOutcome.notSent`;
   * requests already sent finish, retries included.
   */
  stop?: AbortSignal;
  log?: (exchange: HttpExchange) => void;
  /**
   * Called as each request leaves, before its answer: from its first request until `apply` returns, the
   * operation is a call in flight (what a stop waits for, and what the interrupt line counts).
   */
  onRequest?: () => void;
  /**
   * Called once the operation's requests were accepted and only their confirmation is pending (a Knock
   * bulk job being processed): the run loop may start more operations in the meantime.
   */
  onSent?: () => void;
}

/**
 * A destination: what a sync sends to. `T` is its own part of the config's `sync:` block (its target), which
 * it declares with `targetSchema`; core validates the block with it and carries the result unread.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a destination of any target plugs into runSync
export interface Destination<T extends object = any> {
  readonly name: string;
  /**
   * zod schema of the destination's keys of the `sync:` block (every key but core's `fields`, `onDelete` and
   * `nulls`), e.g. Knock's `type`, `collection`, `audience`. Its input should be an object (a `z.strictObject`,
   * optionally refined and transformed to fill defaults): config loaders merge its keys into the block so a
   * misspelt key is reported at its place in the file. Its issues carry paths relative to the block.
   */
  readonly targetSchema: z.ZodType<T>;
  /**
   * Whether a row leaving the model becomes a call. Default: `target.onDelete === 'delete'`; a destination
   * overrides it where removal means something else (Knock: an audience in `add` mode always removes members).
   */
  sendsRemovals?(target: SyncTarget<T>): boolean;
  /**
   * The target's parts that shape what is sent (they salt every row hash, so changing one resends every row).
   * Default: every key of the target but `onDelete` and `nulls`, sorted.
   */
  hashParts?(target: SyncTarget<T>): Record<string, unknown>;
  /**
   * Whether the planner reads `Change.before` for this target (e.g. an audience member's old tenant). Only then
   * does the diff join every change with the snapshot's payload (a full scan of the snapshot).
   */
  needsBefore?(target: SyncTarget<T>): boolean;
  fields(target: SyncTarget<T>): FieldSpec[];
  validate(row: Row, target: SyncTarget<T>): RowIssue[];
  plan(changes: Change[], ctx: PlanContext<T>): Plan;
  /**
   * SQL that is TRUE only for rows `validate` certainly accepts (a sufficient condition, never a guess:
   * rows it does not clear are validated in JavaScript). A large dry run checks every row inside DuckDB
   * with it instead of parsing each payload in JavaScript.
   */
  validSql?(target: SyncTarget<T>, row: RowSql): string;
  /**
   * The calls `plan` would make for chunks of valid changes, from their counts alone (a large dry run
   * estimates without building operations). `chunks[i]` counts chunk i's upserts (adds and changes) and
   * removals, in the order `plan` would receive them.
   */
  estimate?(chunks: { upserts: number; removes: number }[], ctx: PlanContext<T>): EndpointCalls[];
  apply(op: Operation, ctx: ApplyContext<T>): Promise<OpOutcome>;
  /**
   * Throws a SyncError (e.g. `auth_failed`) before anything is diffed, when the destination is unusable.
   * `dryRun` (a plan): only look; create nothing the run would create (e.g. a missing audience).
   */
  check?(target: SyncTarget<T>, opts?: { signal?: AbortSignal; dryRun?: boolean }): Promise<void>;
  /**
   * The destination's current records for these keys (`null`: it has none), for the dry run's "now" column
   * and drift (fields changed at the destination since the ledger's last confirmed send). Reads go through
   * the destination's rate limiter.
   */
  read?(keys: string[], target: SyncTarget<T>, opts?: { signal?: AbortSignal }): Promise<Map<string, Record<string, unknown> | null>>;
  close?(): Promise<void>;
}

/** SQL expressions of one staged row, for `Destination.validSql`. */
export interface RowSql {
  /** The key as text. */
  key: string;
  /** The payload as canonical JSON text. */
  payload: string;
  /** Each mapped field: its payload name, the SQL of its JSON value and the model column's DuckDB type. */
  fields: { name: string; value: string; type: string }[];
  /**
   * SQL of an upper bound of the payload text's length in bytes (`strlen(payload)`) computed from the
   * model's columns without building the payload, so a check of the payload's size need not build it for
   * every row. Absent when a mapped column's type has no cheap bound (lists, structs, JSON…).
   */
  payloadMaxLength?: string;
}

/** Calls to one endpoint, as a plan estimates them. */
export interface EndpointCalls {
  endpoint: string;
  tier: number | undefined;
  calls: number;
  rows: number;
}

export interface Column {
  name: string;
  type: string;
}

export interface Source {
  readonly name: string;
  /**
   * The model's columns. A source without `attach` gives each the DuckDB type its `read` values are stored
   * as in the ledger: `BOOLEAN`, `SMALLINT`, `INTEGER`, `BIGINT`, `DOUBLE`, `VARCHAR` or `JSON` (values are
   * then JSON text, kept exact). See `loadModel`.
   */
  describe(sql: string, opts?: { signal?: AbortSignal }): Promise<Column[]>;
  /**
   * Runs the model and yields its rows in batches of at most `batchSize`. Core uses it for a source without
   * `attach` (local-ledger mode): each batch is appended to the ledger before the next is pulled.
   */
  read(sql: string, opts?: { signal?: AbortSignal; batchSize?: number }): AsyncIterable<Record<string, unknown>[]>;
  /**
   * When the source can run inside the ledger's DuckDB connection, it makes its tables visible there
   * (temporary views) so the model runs next to the snapshot and no row crosses into JavaScript.
   */
  attach?(connection: DuckDBConnection): Promise<void>;
  close?(): Promise<void>;
}
