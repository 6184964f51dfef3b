import type { RegisterRoute } from '../app-types.js';

/** TODO */
export function registerAudienceRoutes(_route: RegisterRoute): void {}
