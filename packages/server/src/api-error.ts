/** Error codes the server itself raises (SyncError codes from @syncline/core are mapped too). */
export type ApiErrorCode =
  | 'invalid_request'
  | 'config_invalid'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'unsupported_type'
  | 'sql_refused'
  | 'query_failed'
  | 'query_timeout'
  | 'query_stopped'
  | 'sandbox_crashed'
  | 'sync_crashed'
  | 'sync_hung'
  | 'run_active'
  | 'target_refused'
  | 'internal';

const brand = Symbol.for('syncline.ApiError');

/**
 * An error with an HTTP status, answered as `{ error: { code, message, ...details } }` by the one `onError`.
 * Messages never hold secrets.
 * @example throw new ApiError('not_found', 'no sync named "users"', 404)
 */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly status: number;
  /** Extra JSON-safe fields of the error body, e.g. `{ line, column }` of a SQL error. */
  readonly details: Record<string, unknown> | undefined;
  readonly [brand] = true;

  constructor(code: ApiErrorCode, message: string, status: number, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

/** True for an ApiError, also across duplicate installs. */
export function isApiError(e: unknown): e is ApiError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[brand] === true;
}
