import { isSyncError } from '@syncline/core';
import { describe, expect, test } from 'vitest';
import { BreakerOpenError } from '../src/circuit-breaker.js';
import { createCircuitBreaker, createRetryBudget, knockDestination, parseKnockOptions } from '../src/index.js';

describe('options', () => {
  test('requires apiKey with a stable message', () => {
    const error = (() => {
      try {
        knockDestination({} as never);
      } catch (e) {
        return e;
      }
    })();
    expect(isSyncError(error) && [error.code, error.message, error.adapter]).toEqual([
      'invalid_option',
      '[knock] option "apiKey": required',
      'knock',
    ]);
  });

  test.each([
    [{ apiKey: 'sk_test_1', baseUrl: 'not a url' }, 'baseUrl'],
    [{ apiKey: 'sk_test_1', timeouts: { headersMs: -1 } }, 'timeouts.headersMs'],
    [{ apiKey: 'sk_test_1', dispatcher: {} }, 'dispatcher'],
    [{ apiKey: '' }, 'apiKey'],
  ])('names the bad option in %j', (options, name) => {
    expect(() => parseKnockOptions(options as never)).toThrow(`[knock] option "${name}"`);
  });

  test('never puts the key in an option error', () => {
    try {
      parseKnockOptions({ apiKey: 'sk_test_SECRET123', baseUrl: 'nope' });
    } catch (e) {
      expect(String((e as Error).message)).not.toContain('SECRET');
    }
  });

  test('applies defaults', () => {
    const o = parseKnockOptions({ apiKey: 'sk_test_1' });
    expect(o).toMatchObject({ baseUrl: 'https://api.knock.app', maxBodyLogBytes: 8192, tiers: { 1: 1, 2: 5, 3: 60, 4: 200, 5: 1000 } });
    expect(o.userAgent).toMatch(/^syncline-destination-knock\/\d+\.\d+\.\d+/);
  });
});

describe('createCircuitBreaker', () => {
  test('opens after the threshold, lets one probe through per cool-down, closes on a good probe', async () => {
    let now = 0;
    const breaker = createCircuitBreaker({ failureThreshold: 3, cooldownMs: 1000, maxCooldownMs: 4000, now: () => now });
    breaker.failure(false);
    breaker.failure(false);
    expect(breaker.state).toBe('closed');
    breaker.failure(false);
    expect(breaker.state).toBe('open');
    const early = await Promise.race([breaker.acquire(), new Promise((r) => setTimeout(() => r('waiting'), 50))]);
    expect(early).toBe('waiting');
    now = 1000;
    const waiting = [breaker.acquire(), breaker.acquire(), breaker.acquire()];
    // One of them is the probe; the others wait for its verdict.
    const before = await Promise.race([Promise.all(waiting), new Promise((r) => setTimeout(() => r('blocked'), 60))]);
    expect(before).toBe('blocked');
    expect(breaker.state).toBe('half-open');
    breaker.success(true);
    const results = await Promise.all(waiting);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(breaker.state).toBe('closed');
  });

  test('a failed probe reopens with a doubled cool-down, capped', async () => {
    let now = 0;
    const breaker = createCircuitBreaker({ failureThreshold: 1, cooldownMs: 1000, maxCooldownMs: 1500, now: () => now });
    breaker.failure(false);
    now = 1000;
    expect(await breaker.acquire()).toBe(true);
    breaker.failure(true);
    expect(breaker.state).toBe('open');
    expect(breaker.opened).toBe(2);
    now = 2400;
    const early = await Promise.race([breaker.acquire(), new Promise((r) => setTimeout(() => r('waiting'), 50))]);
    expect(early).toBe('waiting');
    now = 2500;
    expect(await breaker.acquire()).toBe(true);
  });

  test('maxWaitMs counts from the start of the outage: a late request gives up at once, a probe still goes out', async () => {
    let now = 0;
    const breaker = createCircuitBreaker({ failureThreshold: 1, cooldownMs: 1000, maxCooldownMs: 1000, maxWaitMs: 600, now: () => now });
    breaker.failure(false);
    now = 500;
    const waiting = breaker.acquire();
    now = 600;
    await expect(waiting).rejects.toThrow(BreakerOpenError);
    // The outage is past maxWaitMs: a request that starts now does not wait its own 600 ms.
    now = 700;
    await expect(breaker.acquire()).rejects.toThrow(BreakerOpenError);
    // Once the cool-down has passed, one request is still let out as the probe; a good one ends the outage.
    now = 1000;
    expect(await breaker.acquire()).toBe(true);
    await expect(breaker.acquire()).rejects.toThrow(BreakerOpenError);
    breaker.success(true);
    now = 5000;
    expect(await breaker.acquire()).toBe(false);
  });

  test('late failures of requests sent before it opened do not reopen a half-open breaker', () => {
    const breaker = createCircuitBreaker({ failureThreshold: 1, cooldownMs: 0, maxCooldownMs: 0 });
    breaker.failure(false);
    return breaker.acquire().then((probe) => {
      expect(probe).toBe(true);
      breaker.failure(false);
      expect(breaker.state).toBe('half-open');
    });
  });
});

describe('createRetryBudget', () => {
  test('allows min retries plus a share of attempts', () => {
    const budget = createRetryBudget({ ratio: 0.1, min: 2 });
    for (let i = 0; i < 10; i++) budget.attempt();
    const granted = Array.from({ length: 10 }, () => budget.tryRetry()).filter(Boolean).length;
    expect(granted).toBe(3);
    for (let i = 0; i < 10; i++) budget.attempt();
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
  });
});
