import type { Change, Destination, HttpExchange, OpOutcome, Operation, RowFailure } from '@syncline/core';
import { validateKnockRequest } from '@syncline/test-utils';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '@syncline/knock-emulator';
import { Pool, type Dispatcher } from 'undici';
import { knockDestination, type KnockOptions, type KnockTarget } from '../src/index.js';

export const API_KEY = 'sk_test_SENTINEL_9f8e7d6c5b4a';

/** An audience sync target for the audience `vips`. */
export const audience = (mode: 'add' | 'remove', extra: Partial<KnockTarget> = {}): KnockTarget => ({
  type: 'audiences',
  mode,
  onDelete: 'nothing',
  nulls: 'skip',
  audience: 'vips',
  ...extra,
});
export const usersTarget = (extra: Partial<KnockTarget> = {}): KnockTarget => ({
  type: 'users',
  mode: 'upsert',
  onDelete: 'nothing',
  nulls: 'skip',
  ...extra,
});

export const add = (key: string, payload: Record<string, unknown> = { name: `Name ${key}` }): Change => ({
  action: 'add',
  key,
  payload,
  hash: 'h',
});
export const change = (key: string, payload: Record<string, unknown>): Change => ({ action: 'change', key, payload, hash: 'h2' });
export const remove = (key: string): Change => ({ action: 'remove', key, payload: null, hash: null });

/** Fast defaults for tests: short polls, short backoff, short breaker cool-down. */
export const fast = (emulator: RunningEmulator, extra: Partial<KnockOptions> = {}): KnockOptions => ({
  apiKey: API_KEY,
  baseUrl: emulator.url,
  dispatcher: capturingDispatcher(emulator.url),
  retry: { baseMs: 20, capMs: 200 },
  breaker: { cooldownMs: 100, maxCooldownMs: 400 },
  bulk: { pollIntervalMs: 20, maxPollIntervalMs: 50 },
  // The emulator runs without tier limits here; keep the planner's proportions but send faster.
  tiers: { 1: 20, 2: 100, 3: 1200, 4: 4000, 5: 20000 },
  ...extra,
});

export async function emulatorFor(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  return startEmulator({ port: 0, rateLimits: false, bulkDelayMs: 10, logBodies: true, ...options });
}

export interface SyncResult {
  ok: string[];
  failed: RowFailure[];
  skipped: string[];
  requests: number;
  exchanges: HttpExchange[];
  outcomes: OpOutcome[];
}

/** What core's run loop does, minus the ledger: plan with the run totals, apply with bounded concurrency. */
export async function sync(
  dest: Destination,
  target: KnockTarget,
  changes: Change[],
  options: { concurrency?: number; chunk?: number } = {},
): Promise<SyncResult> {
  const totals = { add: 0, change: 0, remove: 0 };
  for (const c of changes) totals[c.action] += 1;
  const exchanges: HttpExchange[] = [];
  const result: SyncResult = { ok: [], failed: [], skipped: [], requests: 0, exchanges, outcomes: [] };
  const chunk = options.chunk ?? 1000;
  const ops: Operation[] = [];
  for (let i = 0; i < changes.length; i += chunk) {
    const plan = dest.plan(changes.slice(i, i + chunk), { target, totals });
    result.skipped.push(...plan.skipped.map((c) => c.key));
    ops.push(...plan.operations);
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ops.length) {
      const op = ops[next++]!;
      const outcome = await dest.apply(op, { target, log: (e) => exchanges.push(e) });
      result.outcomes.push(outcome);
      result.ok.push(...outcome.ok);
      result.failed.push(...outcome.failed);
      result.requests += outcome.requests;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker));
  return result;
}

export function destination(emulator: RunningEmulator, extra: Partial<KnockOptions> = {}) {
  return knockDestination(fast(emulator, extra));
}

/** The emulator's view of a user, via the plain API. */
export async function getUser(emulator: RunningEmulator, id: string): Promise<Record<string, unknown> | undefined> {
  const res = await fetch(`${emulator.url}/v1/users/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${API_KEY}` } });
  if (res.status === 404) return undefined;
  return (await res.json()) as Record<string, unknown>;
}

const captured: Array<{ method: string; path: string; body: unknown; headers: string }> = [];

/** Headers of every captured request, serialised (to prove a secret never reached an origin). */
export const capturedHeaders = (): string[] => captured.map((c) => c.headers);
const pools: Dispatcher[] = [];

/**
 * An undici Pool that records every request the destination sends (faulted attempts included), passed
 * as the injectable `dispatcher`.
 */
export function capturingDispatcher(url: string): Dispatcher {
  const pool = new Pool(url).compose((dispatch) => (opts, handler) => {
    const body = typeof opts.body === 'string' ? (JSON.parse(opts.body) as unknown) : undefined;
    captured.push({ method: opts.method, path: opts.path, body, headers: JSON.stringify(opts.headers ?? {}) });
    return dispatch(opts, handler);
  });
  pools.push(pool);
  return pool;
}

/** Every request sent since the last call must validate against Knock's wire format (`@syncline/knock-wire`). */
export function expectValidRequests(): void {
  const sent = captured.splice(0, captured.length);
  const problems = sent.flatMap((r) =>
    validateKnockRequest({ method: r.method, path: r.path, body: r.body }).map((p) => `${r.method} ${r.path}: ${p}`),
  );
  expect(problems).toEqual([]);
}

export async function closeDispatchers(): Promise<void> {
  await Promise.all(pools.splice(0, pools.length).map((p) => p.close()));
}

/**
 * One emulator per test file: started before all tests (and handed to `set`), reset before each test,
 * every request the destination sent checked against `@syncline/knock-wire` after each test, closed at the end.
 */
export function useEmulator(set: (emulator: RunningEmulator) => void, options: EmulatorOptions = {}): void {
  let emulator: RunningEmulator | undefined;
  beforeAll(async () => {
    emulator = await emulatorFor(options);
    set(emulator);
  });
  afterAll(async () => {
    await closeDispatchers();
    await emulator?.close();
  });
  beforeEach(() => emulator!.control.reset());
  afterEach(() => expectValidRequests());
}
