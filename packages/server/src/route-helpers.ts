import type { z } from '@hono/zod-openapi';
import { ErrorBody } from './schemas.js';

/** A JSON response of a route definition. */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });

/** The error responses every token-guarded route may give. */
export const apiErrors = {
  400: json(ErrorBody, 'bad request; validation errors name the field'),
  401: json(ErrorBody, 'no or wrong token'),
  403: json(ErrorBody, 'wrong Host or cross-origin'),
  404: json(ErrorBody, 'not found'),
};
