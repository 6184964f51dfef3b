export { createServer, version, type ServerOptions, type AppType, type SynclineServer } from './create-server.js';
export { startServer, type StartServerOptions, type RunningServer } from './start-server.js';
export { ApiError, isApiError, type ApiErrorCode } from './api-error.js';
export { accessGuard, TOKEN_COOKIE } from './access-guard.js';
export { checkReadStatement } from './check-statement.js';
export { createSqlSandbox, type SqlSandbox, type SqlSandboxOptions } from './sql-sandbox.js';
export { knockTarget, checkBaseUrl, EMULATOR_KEY, KNOCK_API_URL, type KnockTarget } from './knock-target.js';
export { seedWorkspace, workspaceAt, type Workspace } from './workspace.js';
export { SYNC_ERROR_STATUS } from './error-handler.js';
