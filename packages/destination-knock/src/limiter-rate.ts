/**
 * The rate an endpoint's limiter sends at: its tier's rate cut by `rateSafety`, except for endpoints spaced by
 * their answers (see {@link spacedByAnswer}), whose spacing already is the margin.
 * @example limiterRate(60, 0.97) // 58.2; limiterRate(1, 0.97) // 1
 */
export function limiterRate(tierRate: number, rateSafety: number): number {
  return spacedByAnswer(tierRate) ? tierRate : tierRate * rateSafety;
}

/**
 * Endpoints of under 2 requests/s (Knock's tier 1: bulk jobs) are spaced by their answers: the next request
 * leaves a full interval after the previous one was answered. Knock may count a request anywhere between its
 * arrival and its answer, and a 1,000-row body's arrival jitters; counted either way, two requests then stay
 * a full interval apart.
 */
export function spacedByAnswer(rate: number): boolean {
  return rate < 2;
}
