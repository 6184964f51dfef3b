import type { RegisterRoute } from '../app-types.js';

/** TODO */
export function registerTenantRoutes(_route: RegisterRoute): void {}
