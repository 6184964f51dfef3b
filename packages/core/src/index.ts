export type * from './contract.js';
export { SyncError, isSyncError, type SyncErrorCode } from './sync-error.js';
export { redact, redactHeaders } from './redact.js';
