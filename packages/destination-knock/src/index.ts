export { knockDestination, type KnockDestination } from './knock-destination.js';
export {
  knockTargetSchema,
  knockSendsRemovals,
  knockHashParts,
  type KnockTarget,
  type KnockTargetFields,
  type KnockSyncType,
} from './knock-target.js';
export {
  knockOptionsSchema,
  knockTiersSchema,
  KNOCK_TIERS,
  UNPACED_RATE,
  DEFAULT_RATE_SAFETY,
  parseKnockOptions,
  type KnockOptions,
  type ResolvedKnockOptions,
} from './knock-options.js';
export { tierRates, tierRate, limitsName, sendSeconds, endpointSeconds, type KnockTiersInput, type TierRates } from './tier-rates.js';
export { fieldCatalog } from './field-catalog.js';
export { validateRow } from './validate-row.js';
export { ROW_RULES, isTimeZone, isLocale, isIso8601, MAX_CUSTOM_BYTES, type RowRule } from './row-rules.js';
export { encodeId, idProblem } from './encode-id.js';
export {
  planOperations,
  chooseSplit,
  splitRates,
  RUN_LOOP_COST,
  MAX_BATCH,
  type KnockOpData,
  type BulkBody,
  type Member,
  type PlanOptions,
  type SplitChoice,
  type SplitRates,
} from './plan-operations.js';
export { createKnockHttp, type KnockHttp, type KnockRequest, type SendContext, type SendResult } from './knock-http.js';
export { createCircuitBreaker, type CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.js';
export { createRetryBudget, type RetryBudget } from './retry-budget.js';
