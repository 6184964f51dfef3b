import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { isSyncError, redact, type SyncErrorCode } from '@syncline/core';
import { isApiError } from './api-error.js';

/** HTTP status of each SyncError code (core's errors reach the API through here only). */
export const SYNC_ERROR_STATUS: Record<SyncErrorCode, number> = {
  config_invalid: 400,
  invalid_option: 400,
  mapping_invalid: 422,
  source_failed: 422,
  model_failed: 422,
  null_keys: 422,
  duplicate_keys: 422,
  guard_empty_model: 422,
  guard_mass_delete: 422,
  locked: 409,
  ledger_failed: 500,
  ledger_damaged: 500,
  auth_failed: 502,
  destination_failed: 502,
  aborted: 409,
  plan_stale: 409,
};

/**
 * The one `onError`: every failure becomes `{ error: { code, message } }` with a fitting status. Messages
 * pass through `redact`, so a key that slipped into an error never leaves the process.
 * @example app.onError(errorResponse(console.error))
 */
export function errorResponse(log: (line: string) => void) {
  return (e: Error, c: Context): Response => {
    if (isApiError(e)) return c.json({ error: { ...e.details, code: e.code, message: redact(e.message) } }, e.status as 400);
    if (isSyncError(e)) {
      const path = e.details?.path;
      return c.json(
        { error: { code: e.code, message: redact(e.message), ...(Array.isArray(path) ? { field: path.join('.') } : {}) } },
        (SYNC_ERROR_STATUS[e.code] ?? 500) as 400,
      );
    }
    if (e instanceof HTTPException)
      return c.json({ error: { code: e.status === 404 ? 'not_found' : 'http_error', message: redact(e.message) } }, e.status);
    log(`internal error: ${redact(String(e.stack ?? e.message))}`);
    return c.json({ error: { code: 'internal', message: redact(e.message || 'internal error') } }, 500);
  };
}
