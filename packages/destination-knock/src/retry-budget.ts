/**
 * A retry budget (AWS SDK "standard" retry mode, Google SRE "retry budgets"): retries of server failures
 * are allowed up to `min` plus `ratio` × first attempts, so a long outage cannot multiply the traffic.
 */
export interface RetryBudget {
  /** A first attempt was sent. */
  attempt(): void;
  /** Takes one retry from the budget; false when it is spent. */
  tryRetry(): boolean;
  readonly retries: number;
  readonly attempts: number;
}

/** @example const budget = createRetryBudget({ ratio: 0.2, min: 20 }); if (budget.tryRetry()) retry(); */
export function createRetryBudget(options: { ratio: number; min: number }): RetryBudget {
  let attempts = 0;
  let retries = 0;
  return {
    get retries() {
      return retries;
    },
    get attempts() {
      return attempts;
    },
    attempt() {
      attempts += 1;
    },
    tryRetry() {
      if (retries + 1 > options.min + options.ratio * attempts) return false;
      retries += 1;
      return true;
    },
  };
}
