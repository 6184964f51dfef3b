/**
 * When to send the first poll of a bulk job: about when jobs of the same endpoint have been taking to
 * complete, rather than `pollIntervalMs` after the POST. Knock processes jobs of one endpoint in similar
 * times, so most jobs then need one `GET /v1/bulk_operations/{id}` (tier 4) instead of several, and the
 * server is not asked again and again while it is still busy with the POSTs of the same run.
 *
 * The estimate is the median of the last jobs seen done (so one stalled job does not delay the next ones):
 * a job still pending at its first poll counts as done when it was seen done; a job done at its first poll
 * counts a little earlier (it may have been done before), so the first poll settles around the real
 * processing time. Until a job was seen done, and never below it, the first poll comes after
 * `pollIntervalMs` as before; never later than half of `pollTimeoutMs`.
 */
export interface PollPace {
  /** Ms to wait after the POST was answered before the first poll of a job of `route`. */
  first(route: string): number;
  /**
   * A job of `route` was seen done by a poll sent `doneAfterMs` after its POST was answered; `early`: an
   * earlier poll of the job had seen it still pending.
   */
  done(route: string, doneAfterMs: number, early: boolean): void;
}

/** Jobs per endpoint the estimate is the median of. */
const WINDOW = 9;
/** A job done at its first poll counts as done at this share of the wait (it may have been done earlier). */
const PROBE_DOWN = 0.9;

/**
 * @example const pace = createPollPace({ pollIntervalMs: 250, pollTimeoutMs: 600_000 }); await sleep(pace.first(route)); … pace.done(route, 180, false)
 */
export function createPollPace(options: { pollIntervalMs: number; pollTimeoutMs: number }): PollPace {
  const recent = new Map<string, number[]>();
  const estimates = new Map<string, number>();
  return {
    first(route) {
      const e = Math.min(estimates.get(route) ?? 0, options.pollTimeoutMs / 2);
      return Math.max(options.pollIntervalMs, e);
    },
    done(route, doneAfterMs, early) {
      let samples = recent.get(route);
      if (!samples) recent.set(route, (samples = []));
      samples.push(early ? doneAfterMs : doneAfterMs * PROBE_DOWN);
      if (samples.length > WINDOW) samples.shift();
      const sorted = [...samples].sort((a, b) => a - b);
      estimates.set(route, sorted[sorted.length >> 1]!);
    },
  };
}
