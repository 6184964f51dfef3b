/** Messages between the server and its sync process (sync-runner.ts ⇄ sync-process.ts). */
import type { AlertDelivery } from '@syncline/alerts';
import type { KnockOptions } from '@syncline/destination-knock';
import type { RemoteRow, RunResult } from '@syncline/core';

/** What a plan or run may ask for besides the sync. */
export interface RunOptions {
  fullResync?: boolean | undefined;
  allowMassDelete?: boolean | undefined;
  previewLimit?: number | undefined;
  /** Plan only: read the sample rows' current records from the destination (remote before, drift). */
  remote?: boolean | undefined;
}

/** Sent once when the process starts: what every job shares. */
export interface SyncProcessInit {
  type: 'init';
  /** The workspace: the only directory a sync's model may read. */
  dir: string;
  /** Variables for `${NAME}` in configs (the server's `env` option). */
  env: NodeJS.ProcessEnv;
  /** Knock destination options besides the key and base URL. */
  knock: Omit<KnockOptions, 'apiKey' | 'baseUrl'> | undefined;
  /** How often the process says it is alive (from its event loop), in ms. */
  heartbeatMs: number;
}

/** One plan or run of the sync in `file`. The key travels here, never in argv or the environment. */
export interface SyncJob {
  type: 'plan' | 'run';
  id: number;
  file: string;
  /** Runs only: the id the server already answered with. */
  runId?: string | undefined;
  apiKey: string;
  baseUrl: string;
  options: RunOptions;
}

/** Parent → process. `stop` is the clean stop (Ctrl-C), `hard` the second one (calls in flight too). */
export type SyncRequest = SyncJob | { type: 'stop' | 'hard'; id: number };

/** A run's event for the debugger, already redacted: it leaves the server as it is. */
export interface SyncEventMessage {
  type: 'event';
  id: number;
  event: 'phase' | 'progress' | 'exchange' | 'row_failed';
  data: Record<string, unknown>;
}

/** A line for the server's log. */
export interface SyncLogMessage {
  type: 'log';
  id: number;
  line: string;
}

/** What a job ends with. */
export interface SyncJobValue {
  result: RunResult;
  /** Plans with `remote`: the sample rows as the destination holds them now. */
  remote?: RemoteRow[] | undefined;
  /** Runs: the sync's alerts sent after the run. */
  alerts?: AlertDelivery[] | undefined;
}

/** A job's end: its value, or the error it threw (rebuilt as the same kind of error in the server). */
export interface SyncDoneMessage {
  type: 'done';
  id: number;
  ok: boolean;
  value?: SyncJobValue;
  error?: SerializedError;
}

/** An error across the process boundary: ApiError and SyncError keep their code, status and details. */
export interface SerializedError {
  kind: 'api' | 'sync' | 'other';
  code: string;
  message: string;
  status?: number | undefined;
  details?: Record<string, unknown> | undefined;
}

/** Sent every `heartbeatMs` from the process's event loop: a loop that stops sending it is blocked. */
export interface SyncHeartbeat {
  type: 'heartbeat';
}

export type SyncReply = SyncEventMessage | SyncLogMessage | SyncDoneMessage | SyncHeartbeat;
