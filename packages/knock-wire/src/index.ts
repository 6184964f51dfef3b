export { AudienceMember, AudienceMemberRequest, AudienceMembersRequest } from './audiences.js';
export { BulkOperation, BulkOperationStatus } from './bulk-operation.js';
export {
  DiscordChannelData,
  InlineChannelData,
  MsTeamsChannelData,
  OneSignalChannelData,
  PushDevicesChannelData,
  PushTokensChannelData,
  SlackChannelData,
  SnsDevicesChannelData,
  SnsTargetArnsChannelData,
} from './channel-data.js';
export {
  KNOCK_ENDPOINTS,
  type KnockEndpoint,
  type KnockOperation,
  type KnockRequestBody,
  type KnockResponseBody,
  type RateTier,
} from './endpoints.js';
export { FieldError, KnockError } from './knock-error.js';
export { knockFieldErrors } from './knock-field-errors.js';
export { listOf, PageInfo, PageQuery, QueryBoolean, QueryInt } from './lists.js';
export { matchEndpoint, type EndpointMatch } from './match-endpoint.js';
export { Condition, InlinePreferences, PreferenceSet, PreferenceSetRequest } from './preferences.js';
export {
  BulkSetObjectRequest,
  DateTime,
  Id,
  IdentifyUserRequest,
  InlineIdentifyObjectRequest,
  InlineIdentifyUserRequest,
  InlineTenantRequest,
  KnockObject,
  MAX_BATCH,
  SetObjectRequest,
  SetTenantRequest,
  Tenant,
  TenantRequest,
  User,
} from './recipients.js';
export {
  fieldPath,
  queryEntries,
  schemaProblems,
  validateRequest,
  validateResponse,
  type WireRequest,
  type WireResponse,
} from './validate-wire.js';
export { RecipientRequest, TriggerWorkflowRequest, TriggerWorkflowResponse } from './workflows.js';
