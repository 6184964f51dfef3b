export {
  KNOCK_OPENAPI_URL,
  createOpenApiValidator,
  knockOpenApi,
  toJsonSchema,
  validateKnockRequest,
  validateKnockResponse,
  type OpenApiOperationMatch,
  type OpenApiRequest,
  type OpenApiResponse,
  type OpenApiValidator,
} from './openapi.js';
