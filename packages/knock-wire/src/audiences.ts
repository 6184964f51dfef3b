import { z } from 'zod';
import { DateTime, InlineIdentifyUserRequest, MAX_BATCH, User } from './recipients.js';

/** One member to add or remove: the user (upserted on add) and an optional tenant (OpenAPI `AudienceMemberRequest`, §4.1). */
export const AudienceMemberRequest = z.object({ user: InlineIdentifyUserRequest, tenant: z.string().nullable().optional() });

/** `POST|DELETE /v1/audiences/{key}/members` body: at most 1,000 members (§4.1, §4.2). */
export const AudienceMembersRequest = z.object({ members: z.array(AudienceMemberRequest).max(MAX_BATCH) });

/** A member as listed (OpenAPI `AudienceMember`, §4.3). */
export const AudienceMember = z.object({
  __typename: z.literal('AudienceMember'),
  added_at: DateTime,
  user_id: z.string(),
  user: User,
  tenant: z.string().nullable().optional(),
});
