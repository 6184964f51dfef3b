/** What a fault does to a matching request (see the README "Fault API"). */
export interface FaultRule {
  /**
   * Which requests: `"POST /v1/users/bulk/identify"` (method + Knock path template, as listed in
   * the README), `"* /v1/users/{user_id}"` (any method), `"POST *"` or `"*"` (any). Default `"*"`.
   */
  match?: string;
  /** How many matching requests it applies to; `null` = until cleared. Default 1. */
  count?: number | null;
  /**
   * Respond with this status instead of running the handler: 429 (rate-limit body and headers),
   * 500 (JSON), 502/503/504 (HTML, like a load balancer), 408, 409 or any other (JSON).
   */
  status?: number;
  /** With `status`: run the handler first (the write is applied), then answer with the fault. */
  afterApply?: boolean;
  /** Wait this long before answering (combinable with `status`). */
  delayMs?: number;
  /**
   * Destroy the connection: `after` = after the handler applied the write (the response is lost),
   * `before` = before the handler runs (nothing applied).
   */
  reset?: 'after' | 'before';
  /** For status 429: this Retry-After in ms (sent in the configured header mode; `none` sends nothing). */
  retryAfterMs?: number;
  /** Override the response body (sent as text/html for 502/503/504, else application/json). */
  body?: string;
  /**
   * Only requests that carry one of these ids: the path id (`{user_id}`, `{id}`) or an item of the body
   * (`users[].id`, `objects[].id`, `user_ids[]`, `object_ids[]`, `members[].user.id`). With a 400/422
   * `status` and `count: null` this rejects every batch holding a bad row, and the row's single call too.
   */
  ids?: string[];
  /** With `status`: send `x-should-retry: true|false` on this fault's response (Knock's SDK obeys it). */
  shouldRetry?: boolean;
}

/** A stored rule with its id and remaining count. */
export interface ActiveFault extends FaultRule {
  id: number;
  remaining: number | null;
}

/** Random faults: each matching request fails with probability `rate`, from a seeded generator. */
export interface RandomFaults {
  /** Probability in [0, 1]. */
  rate: number;
  /** Seed of the generator, so a run can be replayed. */
  seed: number;
  /** Which requests (same syntax as {@link FaultRule.match}). Default `"*"`. */
  match?: string;
  /** What to pick from, uniformly: statuses and/or `"reset-after"`/`"reset-before"`. Default `[500]`. */
  faults?: Array<number | 'reset-after' | 'reset-before'>;
}

/** The fault chosen for one request. */
export type ChosenFault = Pick<FaultRule, 'status' | 'afterApply' | 'delayMs' | 'reset' | 'retryAfterMs' | 'body' | 'shouldRetry'> & {
  source: string;
};

function matches(pattern: string, method: string, template: string): boolean {
  if (pattern === '*' || pattern === '') return true;
  const space = pattern.indexOf(' ');
  const m = space < 0 ? '*' : pattern.slice(0, space).toUpperCase();
  const p = (space < 0 ? pattern : pattern.slice(space + 1)).trim().replace(/:([A-Za-z_]+)/g, '{$1}');
  return (m === '*' || m === method) && (p === '*' || p === template);
}

/** mulberry32: tiny seeded PRNG, enough for reproducible fault plans. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Holds the fault plan and picks the fault (if any) for each request.
 * @example injector.add({ match: 'POST /v1/users/bulk/identify', status: 429, count: 2 })
 */
export class FaultInjector {
  private rules: ActiveFault[] = [];
  private nextId = 1;
  private random: (RandomFaults & { next: () => number }) | undefined;

  /** Adds a rule; returns it with its id. */
  add(rule: FaultRule): ActiveFault {
    if (rule.status === undefined && rule.delayMs === undefined && rule.reset === undefined) {
      throw new TypeError('a fault needs "status", "delayMs" or "reset"');
    }
    if (rule.status !== undefined && !(Number.isInteger(rule.status) && rule.status >= 100 && rule.status <= 599)) {
      throw new TypeError('"status" must be an HTTP status');
    }
    if (rule.reset !== undefined && rule.reset !== 'after' && rule.reset !== 'before') {
      throw new TypeError('"reset" must be "after" or "before"');
    }
    if (rule.ids !== undefined && !(Array.isArray(rule.ids) && rule.ids.length > 0 && rule.ids.every((id) => typeof id === 'string'))) {
      throw new TypeError('"ids" must be a non-empty array of strings');
    }
    if (rule.shouldRetry !== undefined && typeof rule.shouldRetry !== 'boolean') throw new TypeError('"shouldRetry" must be a boolean');
    const count = rule.count === undefined ? 1 : rule.count;
    const active: ActiveFault = { ...rule, match: rule.match ?? '*', id: this.nextId++, remaining: count };
    this.rules.push(active);
    return active;
  }

  /** Removes one rule by id, or all rules and random faults. */
  clear(id?: number): void {
    if (id === undefined) {
      this.rules = [];
      this.random = undefined;
    } else this.rules = this.rules.filter((r) => r.id !== id);
  }

  /** Active rules, in match order. */
  list(): ActiveFault[] {
    return this.rules.map((r) => ({ ...r }));
  }

  /** Sets (or with `null` clears) random faults. */
  setRandom(random: RandomFaults | null): void {
    if (random && !(random.rate >= 0 && random.rate <= 1)) throw new TypeError('"rate" must be in [0, 1]');
    this.random = random ? { ...random, next: prng(random.seed) } : undefined;
  }

  /** The current random-fault settings. */
  getRandom(): RandomFaults | null {
    if (!this.random) return null;
    const { next: _next, ...rest } = this.random;
    return rest;
  }

  /** True when nothing is planned (the hot path skips matching). */
  get idle(): boolean {
    return this.rules.length === 0 && this.random === undefined;
  }

  /** True when a rule matches on ids: only then must the caller read the request's ids for {@link take}. */
  get needsIds(): boolean {
    return this.rules.some((r) => r.ids !== undefined);
  }

  /** Consumes and returns the fault for this request, if any. `ids`: the ids the request carries (see {@link FaultRule.ids}). */
  take(method: string, template: string, ids?: ReadonlySet<string>): ChosenFault | undefined {
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      if (!matches(rule.match ?? '*', method, template)) continue;
      if (rule.ids !== undefined && !(ids && rule.ids.some((id) => ids.has(id)))) continue;
      if (rule.remaining !== null) {
        rule.remaining--;
        if (rule.remaining <= 0) this.rules.splice(i, 1);
      }
      const { id, remaining: _r, match: _m, count: _c, ids: _ids, ...fault } = rule;
      return { ...fault, source: `rule:${id}` };
    }
    const random = this.random;
    if (random && matches(random.match ?? '*', method, template) && random.next() < random.rate) {
      const kinds = random.faults?.length ? random.faults : [500];
      const kind = kinds[Math.floor(random.next() * kinds.length)] ?? 500;
      if (kind === 'reset-after') return { reset: 'after', source: 'random' };
      if (kind === 'reset-before') return { reset: 'before', source: 'random' };
      return { status: kind, source: 'random' };
    }
    return undefined;
  }
}
