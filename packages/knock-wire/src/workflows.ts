import { z } from 'zod';
import { InlineIdentifyObjectRequest, InlineIdentifyUserRequest, InlineTenantRequest, MAX_BATCH } from './recipients.js';

/** A recipient or actor: a user id, or a user or object identified inline (OpenAPI `RecipientRequest`). */
export const RecipientRequest = z.union([z.string(), InlineIdentifyUserRequest, InlineIdentifyObjectRequest]);

/** `POST /v1/workflows/{key}/trigger` body (OpenAPI `TriggerWorkflowRequest`): at most 1,000 recipients. */
export const TriggerWorkflowRequest = z.object({
  recipients: z.array(RecipientRequest).max(MAX_BATCH),
  actor: RecipientRequest.nullable().optional(),
  cancellation_key: z.string().nullable().optional(),
  data: z.record(z.string(), z.unknown()).nullable().optional(),
  settings: z
    .object({ sandbox_mode: z.boolean().nullable().optional(), skip_delay: z.boolean().nullable().optional() })
    .nullable()
    .optional(),
  tenant: InlineTenantRequest.nullable().optional(),
});

/** `POST /v1/workflows/{key}/trigger` response (OpenAPI `TriggerWorkflowResponse`). */
export const TriggerWorkflowResponse = z.object({ workflow_run_id: z.guid() });
