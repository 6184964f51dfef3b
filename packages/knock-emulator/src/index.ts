export { startEmulator, type RunningEmulator } from './start-emulator.js';
export { createEmulator, createEmulatorApp, type Emulator, type EmulatedRoute } from './create-emulator.js';
export type { EmulatorControl } from './emulator-control.js';
export {
  defaultSwitches,
  resolveOptions,
  type EmulatorOptions,
  type KnockSwitches,
  type RateLimitHeaderMode,
  type ResolvedOptions,
} from './options.js';
export type { FaultRule, ActiveFault, RandomFaults } from './fault-injector.js';
export type { BulkFaults, BulkErrorItem } from './bulk-operation.js';
export type { RequestLogEntry } from './request-log.js';
export type { AudienceEntryEvent, TriggerRecord } from './environment.js';
export { KnockHttpError, type KnockErrorBody, type FieldError } from './knock-http-error.js';
export { TIER_RPS } from './tier-limiter.js';
