import type { Hono } from 'hono';
import type { AppEnv } from './app-types.js';
import type { BulkFaults } from './bulk-operation.js';
import { environmentId, type EmulatorState } from './emulator-state.js';
import type { AudienceEntryEvent, TriggerRecord } from './environment.js';
import type { ActiveFault, FaultRule, RandomFaults } from './fault-injector.js';
import { RATE_LIMIT_HEADER_MODES, type RateLimitHeaderMode } from './options.js';
import type { RequestLogEntry } from './request-log.js';

/**
 * Test control of a running emulator, in code. The same operations are served over HTTP under
 * `/__emulator/*` (see the README "Fault API").
 */
export interface EmulatorControl {
  /** Adds a fault rule (e.g. the next 2 bulk identifies answer 429). */
  addFault(rule: FaultRule): ActiveFault;
  /** The active fault rules. */
  faults(): ActiveFault[];
  /** Removes one rule, or every rule and the random faults. */
  clearFaults(id?: number): void;
  /** Seeded random faults; `null` turns them off. */
  setRandomFaults(random: RandomFaults | null): void;
  /** The current random-fault settings, or null. */
  randomFaults(): RandomFaults | null;
  /** Bulk-operation faults (stall, holdPolls, failItemIds, failJobs); replaces earlier ones. */
  setBulkFaults(faults: BulkFaults): void;
  /** The current bulk faults. */
  bulkFaults(): BulkFaults;
  /** Applies pending bulk jobs now (stalled ones only with `force`); returns how many finished. */
  flushBulk(options?: { force?: boolean }): number;
  /** How many bulk jobs have not applied yet (queued, processing or stalled). */
  pendingBulk(): number;
  /** Turns rate limiting on/off and sets the 429 header mode at runtime. */
  setRateLimits(settings: { enabled?: boolean; headers?: RateLimitHeaderMode }): void;
  /** Sends (or stops sending) `x-should-retry` on every error response (option `shouldRetryHeader`). */
  setShouldRetryHeader(enabled: boolean): void;
  /** Sets the bulk processing delay for jobs created from now on. */
  setBulkDelay(ms: number): void;
  /** The request log (only entries with `seq > since`). */
  requests(options?: { since?: number }): RequestLogEntry[];
  /** Empties the request log. */
  clearRequests(): void;
  /** Audience entry events (new `(user, tenant)` tuples), optionally for one API key's environment. */
  audienceEntries(audienceKey: string, options?: { apiKey?: string }): AudienceEntryEvent[];
  /** Recorded workflow triggers, optionally for one API key's environment. */
  triggers(workflowKey?: string, options?: { apiKey?: string }): TriggerRecord[];
  /** Drops all data, faults, rate-limit buckets and the request log. */
  reset(): void;
}

/** Builds the in-code control over an emulator's state. */
export function createControl(state: EmulatorState): EmulatorControl {
  const envs = (apiKey?: string) =>
    apiKey === undefined ? [...state.environments.values()] : [state.environments.get(environmentId(apiKey))].flatMap((e) => e ?? []);
  // No method here reads users or objects; those that change how jobs apply (bulk faults, delay, reset)
  // settle eager bulk jobs inside the queue (eager-apply.ts).
  return {
    addFault: (rule) => state.faults.add(rule),
    faults: () => state.faults.list(),
    clearFaults: (id) => state.faults.clear(id),
    setRandomFaults: (random) => state.faults.setRandom(random),
    randomFaults: () => state.faults.getRandom(),
    setBulkFaults: (faults) => state.bulk.setFaults(faults),
    bulkFaults: () => state.bulk.getFaults(),
    flushBulk: (options) => state.bulk.flush(options?.force ?? false),
    pendingBulk: () => state.bulk.size,
    setRateLimits: ({ enabled, headers }) => {
      if (enabled !== undefined) {
        state.rateLimits = enabled;
        state.limiter.clear();
      }
      if (headers !== undefined) {
        if (!RATE_LIMIT_HEADER_MODES.includes(headers)) throw new RangeError(`rateLimitHeaders: ${RATE_LIMIT_HEADER_MODES.join(' | ')}`);
        state.options.rateLimitHeaders = headers;
      }
    },
    setShouldRetryHeader: (enabled) => {
      state.options.shouldRetryHeader = enabled;
    },
    setBulkDelay: (ms) => {
      state.bulk.delayMs = ms;
    },
    requests: (options) => state.log.since(options?.since ?? 0),
    clearRequests: () => state.log.clear(),
    audienceEntries: (key, options) => envs(options?.apiKey).flatMap((e) => e.entries.filter((x) => x.audience === key)),
    triggers: (key, options) => envs(options?.apiKey).flatMap((e) => e.triggers.filter((t) => key === undefined || t.workflow === key)),
    reset: () => state.reset(),
  };
}

/** Serves the control over HTTP under `/__emulator` (no auth; the server only listens on 127.0.0.1). */
export function registerControlRoutes(app: Hono<AppEnv>, control: EmulatorControl): void {
  const base = '/__emulator';
  const json = async (req: Request): Promise<unknown> => {
    const text = await req.text();
    return text ? JSON.parse(text) : {};
  };
  const bearer = (header: string | undefined) => /^Bearer\s+(\S+)/i.exec(header ?? '')?.[1];
  const fail = (message: string) => ({ error: { code: 'invalid_fault', message } });

  app.get(`${base}/faults`, (c) => c.json({ faults: control.faults(), random: control.randomFaults() }));
  app.post(`${base}/faults`, async (c) => {
    try {
      const body = await json(c.req.raw);
      const rules = Array.isArray(body) ? body : [body];
      return c.json({ faults: rules.map((r) => control.addFault(r as FaultRule)) }, 201);
    } catch (e) {
      return c.json(fail((e as Error).message), 400);
    }
  });
  app.delete(`${base}/faults`, (c) => {
    control.clearFaults();
    return c.body(null, 204);
  });
  app.delete(`${base}/faults/:id{[0-9]+}`, (c) => {
    control.clearFaults(Number(c.req.param('id')));
    return c.body(null, 204);
  });
  app.put(`${base}/faults/random`, async (c) => {
    try {
      const body = (await json(c.req.raw)) as RandomFaults | null;
      control.setRandomFaults(body && Object.keys(body).length ? body : null);
      return c.body(null, 204);
    } catch (e) {
      return c.json(fail((e as Error).message), 400);
    }
  });
  app.delete(`${base}/faults/random`, (c) => {
    control.setRandomFaults(null);
    return c.body(null, 204);
  });
  app.get(`${base}/bulk/faults`, (c) => c.json(control.bulkFaults()));
  app.put(`${base}/bulk/faults`, async (c) => {
    control.setBulkFaults((await json(c.req.raw)) as BulkFaults);
    return c.json(control.bulkFaults());
  });
  app.post(`${base}/bulk/flush`, (c) => c.json({ flushed: control.flushBulk({ force: c.req.query('force') === 'true' }) }));
  app.put(`${base}/settings`, async (c) => {
    const body = (await json(c.req.raw)) as {
      rateLimits?: boolean;
      rateLimitHeaders?: RateLimitHeaderMode;
      shouldRetryHeader?: boolean;
      bulkDelayMs?: number;
    };
    try {
      control.setRateLimits({
        ...(body.rateLimits !== undefined ? { enabled: body.rateLimits } : {}),
        ...(body.rateLimitHeaders !== undefined ? { headers: body.rateLimitHeaders } : {}),
      });
    } catch (e) {
      return c.json({ error: { code: 'invalid_settings', message: (e as Error).message } }, 400);
    }
    if (body.shouldRetryHeader !== undefined) control.setShouldRetryHeader(body.shouldRetryHeader === true);
    if (body.bulkDelayMs !== undefined) control.setBulkDelay(body.bulkDelayMs);
    return c.body(null, 204);
  });
  app.get(`${base}/requests`, (c) => {
    const requests = control.requests({ since: Number(c.req.query('since') ?? 0) || 0 });
    return c.json({ requests, last: requests.at(-1)?.seq ?? Number(c.req.query('since') ?? 0) });
  });
  app.delete(`${base}/requests`, (c) => {
    control.clearRequests();
    return c.body(null, 204);
  });
  app.get(`${base}/audiences/:key/entries`, (c) => {
    const apiKey = bearer(c.req.header('authorization'));
    return c.json({ entries: control.audienceEntries(c.req.param('key'), apiKey ? { apiKey } : {}) });
  });
  app.get(`${base}/workflows/:key/triggers`, (c) => {
    const apiKey = bearer(c.req.header('authorization'));
    return c.json({ triggers: control.triggers(c.req.param('key'), apiKey ? { apiKey } : {}) });
  });
  app.post(`${base}/reset`, (c) => {
    control.reset();
    return c.body(null, 204);
  });
}
