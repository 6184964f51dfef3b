export {
  KNOCK_OPENAPI_URL,
  createOpenApiValidator,
  knockOpenApi,
  knockOpenApiPresent,
  toJsonSchema,
  type OpenApiOperationMatch,
  type OpenApiRequest,
  type OpenApiResponse,
  type OpenApiValidator,
} from './openapi.js';
/**
 * Request and response checks of every test: against the project's own description of Knock's wire
 * format (`@syncline/knock-wire`), which lives in the repository, not against Knock's OpenAPI file.
 */
export { validateRequest as validateKnockRequest, validateResponse as validateKnockResponse } from '@syncline/knock-wire';
