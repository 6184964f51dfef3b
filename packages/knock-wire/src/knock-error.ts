import { z } from 'zod';

/** One `errors[]` item of a validation error: `{field, message, type}` (knock-api.md §1.5). */
export const FieldError = z.object({ field: z.string(), message: z.string(), type: z.string() });

/**
 * Knock's common error body (knock-api.md §1.5): `{code, message, status, type}`, plus `errors[]` on a
 * 422 `invalid_params`. Every error status of every endpoint uses it.
 */
export const KnockError = z.object({
  code: z.string(),
  message: z.string(),
  status: z.int(),
  type: z.string(),
  errors: z.array(FieldError).optional(),
});
