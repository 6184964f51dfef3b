import { z } from 'zod';
import { AudienceMember, AudienceMembersRequest } from './audiences.js';
import { BulkOperation } from './bulk-operation.js';
import { listOf, PageQuery, QueryBoolean } from './lists.js';
import {
  BulkSetObjectRequest,
  Id,
  IdentifyUserRequest,
  InlineIdentifyUserRequest,
  InlineTenantRequest,
  KnockObject,
  MAX_BATCH,
  SetObjectRequest,
  SetTenantRequest,
  Tenant,
  User,
} from './recipients.js';
import { TriggerWorkflowRequest, TriggerWorkflowResponse } from './workflows.js';

/** Knock's rate tiers: 1/5/60/200/1,000 requests per second (knock-api.md §1.6). */
export type RateTier = 1 | 2 | 3 | 4 | 5;

/** One Knock v1 endpoint: how to call it and the shape of everything that crosses the wire. */
export interface KnockEndpoint {
  /** Knock's OpenAPI `operationId`. */
  operationId: string;
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Path template, `{name}` for each path parameter. */
  path: string;
  /** `x-ratelimit-tier`. */
  tier: RateTier;
  /** Path parameters (decoded). */
  params: z.ZodObject;
  /** Query parameters as text (arrays as `name[]=…`); undefined: none. */
  query?: z.ZodObject;
  /** The JSON body; undefined: the endpoint takes none. */
  body?: z.ZodType;
  /** Status → JSON body schema, or `null` for an empty body (204). Other statuses carry {@link KnockError}. */
  responses: Record<number, z.ZodType | null>;
}

/** Keeps each endpoint's own schema types (for `z.infer`) while checking it is a {@link KnockEndpoint}. */
const endpoint = <const E extends KnockEndpoint>(e: E): E => e;

const userId = z.object({ user_id: Id });
const objectPath = z.object({ collection: Id, id: Id });
const collection = z.object({ collection: Id });
const tenantId = z.object({ id: Id });
const audienceKey = z.object({ key: Id });
const idList = z.array(Id).max(MAX_BATCH);
const none = z.object({});
const include = z.array(z.enum(['preferences'])).optional();

/**
 * Every Knock endpoint Syncline's destination or emulator uses: the one table the emulator, the
 * destination and the tests validate against. Written from knock-api.md; compared with Knock's OpenAPI
 * document by test/openapi-comparison.test.ts when that document is next to the repository.
 */
export const KNOCK_ENDPOINTS = {
  identifyUser: endpoint({
    operationId: 'identifyUser',
    method: 'PUT',
    path: '/v1/users/{user_id}',
    tier: 3,
    params: userId,
    body: IdentifyUserRequest,
    responses: { 200: User },
  }),
  getUser: endpoint({
    operationId: 'getUser',
    method: 'GET',
    path: '/v1/users/{user_id}',
    tier: 4,
    params: userId,
    responses: { 200: User },
  }),
  deleteUser: endpoint({
    operationId: 'deleteUser',
    method: 'DELETE',
    path: '/v1/users/{user_id}',
    tier: 2,
    params: userId,
    responses: { 204: null },
  }),
  listUsers: endpoint({
    operationId: 'listUsers',
    method: 'GET',
    path: '/v1/users',
    tier: 4,
    params: none,
    query: z.object({ ...PageQuery, include }),
    responses: { 200: listOf(User) },
  }),
  mergeUser: endpoint({
    operationId: 'mergeUser',
    method: 'POST',
    path: '/v1/users/{user_id}/merge',
    tier: 2,
    params: userId,
    body: z.object({ from_user_id: Id }),
    responses: { 200: User },
  }),
  bulkIdentifyUsers: endpoint({
    operationId: 'bulkIdentifyUsers',
    method: 'POST',
    path: '/v1/users/bulk/identify',
    tier: 1,
    params: none,
    body: z.object({ users: z.array(InlineIdentifyUserRequest).max(MAX_BATCH) }),
    responses: { 200: BulkOperation },
  }),
  bulkDeleteUsers: endpoint({
    operationId: 'bulkDeleteUsers',
    method: 'POST',
    path: '/v1/users/bulk/delete',
    tier: 1,
    params: none,
    body: z.object({ user_ids: idList }),
    responses: { 200: BulkOperation },
  }),
  setObject: endpoint({
    operationId: 'setObject',
    method: 'PUT',
    path: '/v1/objects/{collection}/{id}',
    tier: 3,
    params: objectPath,
    body: SetObjectRequest,
    responses: { 200: KnockObject },
  }),
  getObject: endpoint({
    operationId: 'getObject',
    method: 'GET',
    path: '/v1/objects/{collection}/{id}',
    tier: 4,
    params: objectPath,
    responses: { 200: KnockObject },
  }),
  deleteObject: endpoint({
    operationId: 'deleteObject',
    method: 'DELETE',
    path: '/v1/objects/{collection}/{id}',
    tier: 3,
    params: objectPath,
    responses: { 204: null },
  }),
  listObjects: endpoint({
    operationId: 'listObjects',
    method: 'GET',
    path: '/v1/objects/{collection}',
    tier: 4,
    params: collection,
    query: z.object({ ...PageQuery, include }),
    responses: { 200: listOf(KnockObject) },
  }),
  bulkSetObjects: endpoint({
    operationId: 'bulkSetObjects',
    method: 'POST',
    path: '/v1/objects/{collection}/bulk/set',
    tier: 1,
    params: collection,
    body: z.object({ objects: z.array(BulkSetObjectRequest).max(MAX_BATCH) }),
    responses: { 200: BulkOperation },
  }),
  bulkDeleteObjects: endpoint({
    operationId: 'bulkDeleteObjects',
    method: 'POST',
    path: '/v1/objects/{collection}/bulk/delete',
    tier: 1,
    params: collection,
    body: z.object({ object_ids: idList }),
    responses: { 200: BulkOperation },
  }),
  setTenant: endpoint({
    operationId: 'setTenant',
    method: 'PUT',
    path: '/v1/tenants/{id}',
    tier: 3,
    params: tenantId,
    query: z.object({ resolve_full_preference_settings: QueryBoolean.optional() }),
    body: SetTenantRequest,
    responses: { 200: Tenant },
  }),
  getTenant: endpoint({
    operationId: 'getTenant',
    method: 'GET',
    path: '/v1/tenants/{id}',
    tier: 4,
    params: tenantId,
    query: z.object({ resolve_full_preference_settings: QueryBoolean.optional() }),
    responses: { 200: Tenant },
  }),
  deleteTenant: endpoint({
    operationId: 'deleteTenant',
    method: 'DELETE',
    path: '/v1/tenants/{id}',
    tier: 2,
    params: tenantId,
    responses: { 204: null },
  }),
  listTenants: endpoint({
    operationId: 'listTenants',
    method: 'GET',
    path: '/v1/tenants',
    tier: 4,
    params: none,
    query: z.object({ ...PageQuery, tenant_id: z.string().optional(), name: z.string().optional() }),
    responses: { 200: listOf(Tenant) },
  }),
  bulkSetTenants: endpoint({
    operationId: 'bulkSetTenants',
    method: 'POST',
    path: '/v1/tenants/bulk/set',
    tier: 1,
    params: none,
    body: z.object({ tenants: z.array(InlineTenantRequest).max(MAX_BATCH) }),
    responses: { 200: BulkOperation },
  }),
  // Surprising: the ids travel in the query string and there is no body (knock-api.md §7).
  bulkDeleteTenants: endpoint({
    operationId: 'bulkDeleteTenants',
    method: 'POST',
    path: '/v1/tenants/bulk/delete',
    tier: 1,
    params: none,
    query: z.object({ tenant_ids: idList }),
    responses: { 200: BulkOperation },
  }),
  addAudienceMembers: endpoint({
    operationId: 'addAudienceMembers',
    method: 'POST',
    path: '/v1/audiences/{key}/members',
    tier: 3,
    params: audienceKey,
    query: z.object({ create_audience: QueryBoolean.optional() }),
    body: AudienceMembersRequest,
    responses: { 204: null },
  }),
  removeAudienceMembers: endpoint({
    operationId: 'removeAudienceMembers',
    method: 'DELETE',
    path: '/v1/audiences/{key}/members',
    tier: 3,
    params: audienceKey,
    body: AudienceMembersRequest,
    responses: { 204: null },
  }),
  listAudienceMembers: endpoint({
    operationId: 'listAudienceMembers',
    method: 'GET',
    path: '/v1/audiences/{key}/members',
    tier: 4,
    params: audienceKey,
    responses: { 200: listOf(AudienceMember) },
  }),
  getBulkOperation: endpoint({
    operationId: 'getBulkOperation',
    method: 'GET',
    path: '/v1/bulk_operations/{id}',
    tier: 4,
    params: z.object({ id: z.guid() }),
    responses: { 200: BulkOperation },
  }),
  triggerWorkflow: endpoint({
    operationId: 'triggerWorkflow',
    method: 'POST',
    path: '/v1/workflows/{key}/trigger',
    tier: 5,
    params: z.object({ key: Id }),
    body: TriggerWorkflowRequest,
    responses: { 200: TriggerWorkflowResponse },
  }),
} as const;

/** The name of one endpoint of {@link KNOCK_ENDPOINTS}. */
export type KnockOperation = keyof typeof KNOCK_ENDPOINTS;

/** The JSON body an endpoint takes. @example type Body = KnockRequestBody<'bulkIdentifyUsers'> */
export type KnockRequestBody<O extends KnockOperation> = (typeof KNOCK_ENDPOINTS)[O] extends { body: infer B extends z.ZodType }
  ? z.infer<B>
  : never;

/** The JSON body an endpoint answers with a given status. @example type Op = KnockResponseBody<'getBulkOperation', 200> */
export type KnockResponseBody<O extends KnockOperation, S extends number> =
  (typeof KNOCK_ENDPOINTS)[O]['responses'] extends Record<S, infer R> ? (R extends z.ZodType ? z.infer<R> : undefined) : never;
