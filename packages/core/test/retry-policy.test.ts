import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { backoffDelay, isRetryableStatus, retryAfterMs } from '../src/index.js';

describe('backoffDelay', () => {
  test('property: full jitter stays within [0, min(cap, base·2^(n-1))]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 600_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, base, cap, r) => {
          const d = backoffDelay(attempt, { baseMs: base, capMs: cap, random: () => r });
          expect(Number.isInteger(d)).toBe(true);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(Math.min(cap, base === 0 ? 0 : base * 2 ** (attempt - 1)));
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('property: stays in bounds whatever the attempt number or random source returns', () => {
    fc.assert(
      fc.property(fc.double(), fc.double(), (attempt, r) => {
        const d = backoffDelay(attempt, { baseMs: 500, capMs: 8000, random: () => r });
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(8000);
      }),
      { numRuns: 1000 },
    );
  });

  test('spreads delays over the whole range (full jitter, not equal jitter)', () => {
    expect(backoffDelay(4, { baseMs: 100, random: () => 0 })).toBe(0);
    expect(backoffDelay(4, { baseMs: 100, random: () => 0.999_999 })).toBe(799);
    expect(backoffDelay(50, { baseMs: 100, capMs: 1000, random: () => 0.5 })).toBe(500);
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  test.each([
    [{ 'retry-after': '2' }, 2000],
    [{ 'retry-after': '0' }, 0],
    [{ 'retry-after': '1.5' }, 1500],
    [{ 'retry-after': ' 3 ' }, 3000],
    [{ 'Retry-After': '4' }, 4000],
    [{ 'retry-after-ms': '250' }, 250],
    [{ 'retry-after-ms': '250.2' }, 251],
    [{ 'retry-after-ms': '100', 'retry-after': '9' }, 100],
    [{ 'retry-after-ms': 'soon', 'retry-after': '9' }, 9000],
    [{ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }, 5000],
    [{ 'retry-after': 'Wed, 31 Dec 2025 23:59:00 GMT' }, 0],
    [{ 'retry-after': 'Thursday, 01-Jan-26 00:00:07 GMT' }, 7000],
    [{ 'retry-after': 'Thu Jan  1 00:00:09 2026' }, 9000],
    [{ 'retry-after': ['3', '9'] }, 3000],
    [{ 'retry-after': '9'.repeat(400) }, Number.MAX_SAFE_INTEGER],
  ])('reads %j as %d ms', (headers, ms) => {
    expect(retryAfterMs(headers, now)).toBe(ms);
  });

  test.each([
    [{}],
    [{ 'retry-after': '' }],
    [{ 'retry-after': '-1' }],
    [{ 'retry-after': 'tomorrow' }],
    [{ 'retry-after': 'a 1' }],
    [{ 'retry-after': '1e3' }],
    [{ 'retry-after-ms': '-5' }],
  ])('ignores %j', (headers) => {
    expect(retryAfterMs(headers, now)).toBeUndefined();
  });

  test('property: any header value gives a finite non-negative integer or nothing', () => {
    fc.assert(
      fc.property(fc.string(), fc.option(fc.string(), { nil: undefined }), (ra, ms) => {
        const headers: Record<string, string> = { 'retry-after': ra };
        if (ms !== undefined) headers['retry-after-ms'] = ms;
        const d = retryAfterMs(headers, now);
        if (d !== undefined) {
          expect(Number.isInteger(d)).toBe(true);
          expect(d).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 1000 },
    );
  });

  test('property: a seconds value is honoured exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 86_400 }), (s) => {
        expect(retryAfterMs({ 'retry-after': String(s) }, now)).toBe(s * 1000);
        expect(retryAfterMs({ 'retry-after': new Date(now + s * 1000).toUTCString() }, now)).toBe(s * 1000);
      }),
    );
  });
});

describe('isRetryableStatus', () => {
  test.each([
    [408, true],
    [409, true],
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [422, false],
    [200, false],
  ])('%d → %s', (status, retry) => {
    expect(isRetryableStatus(status)).toBe(retry);
  });
});
