import { z } from 'zod';
import { DateTime } from './recipients.js';

/** The states of a bulk job; `completed` may still carry `error_items` (knock-api.md §5). */
export const BulkOperationStatus = z.enum(['queued', 'processing', 'completed', 'failed']);

/**
 * Knock's `BulkOperation` (OpenAPI `BulkOperation`, knock-api.md §5): what every bulk endpoint returns
 * at once (HTTP 200) and `GET /v1/bulk_operations/{id}` returns on each poll. `error_items` carry ids only.
 */
export const BulkOperation = z.object({
  __typename: z.literal('BulkOperation'),
  id: z.guid(),
  name: z.string(),
  status: BulkOperationStatus,
  estimated_total_rows: z.int(),
  processed_rows: z.int(),
  success_count: z.int(),
  error_count: z.int().optional(),
  error_items: z.array(z.object({ id: z.string(), collection: z.string().nullable().optional() })).optional(),
  progress_path: z.url().optional(),
  inserted_at: DateTime,
  updated_at: DateTime,
  started_at: DateTime.nullable().optional(),
  completed_at: DateTime.nullable().optional(),
  failed_at: DateTime.nullable().optional(),
});
