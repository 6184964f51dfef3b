export type * from './contract.js';
export { SyncError, isSyncError, type SyncErrorCode } from './sync-error.js';
export { redact, redactHeaders } from './redact.js';
export { createRateLimiter, sharedRateLimiter, sleep, type RateLimiter, type RateLimiterOptions } from './rate-limiter.js';
export { backoffDelay, retryAfterMs, isRetryableStatus, type BackoffOptions } from './retry-policy.js';
