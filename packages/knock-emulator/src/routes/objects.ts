import type { RegisterRoute } from '../app-types.js';

/** TODO */
export function registerObjectRoutes(_route: RegisterRoute): void {}
