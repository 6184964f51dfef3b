export type SyncErrorCode =
  | 'config_invalid'
  | 'invalid_option'
  | 'source_failed'
  | 'model_failed'
  | 'mapping_invalid'
  | 'null_keys'
  | 'duplicate_keys'
  | 'guard_empty_model'
  | 'guard_mass_delete'
  | 'locked'
  | 'ledger_failed'
  | 'ledger_damaged'
  | 'auth_failed'
  | 'destination_failed'
  | 'aborted'
  /** A saved plan no longer matches the model, the config or the ledger (`run --plan`). */
  | 'plan_stale';

const brand = Symbol.for('syncline.SyncError');

/**
 * The one error class of Syncline. Messages are stable and never hold secrets or row values;
 * keys and reasons go in `details` and the run record.
 * @example throw new SyncError('invalid_option', '[knock] option "apiKey": required', { adapter: 'knock' })
 */
export class SyncError extends Error {
  readonly code: SyncErrorCode;
  readonly adapter: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly [brand] = true;

  constructor(code: SyncErrorCode, message: string, opts: { adapter?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'SyncError';
    this.code = code;
    this.adapter = opts.adapter;
    this.details = opts.details;
  }
}

/** True for a SyncError, also across duplicate installs of @syncline/core. */
export function isSyncError(e: unknown): e is SyncError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[brand] === true;
}
