import type { RegisterRoute } from '../app-types.js';

/** TODO */
export function registerWorkflowRoutes(_route: RegisterRoute): void {}
