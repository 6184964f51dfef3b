import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { splitRejected } from '../src/split-batch.js';

/** Knock as an oracle: a request is rejected (naming no row) when it holds a bad item. */
async function isolate(n: number, bad: Set<number>, failOn?: number) {
  const items = Array.from({ length: n }, (_, i) => i);
  const accepted: number[] = [];
  const sent: number[][] = [];
  const r = await splitRejected<number, { part: number[] }>(items, { part: items }, async (part) => {
    sent.push(part);
    if (failOn !== undefined && sent.length === failOn) return { ok: false, rejected: false, failure: { part } };
    if (part.some((i) => bad.has(i))) return { ok: false, rejected: true, failure: { part } };
    accepted.push(...part);
    return { ok: true };
  });
  return { ...r, accepted, sent };
}

const cases = fc
  .integer({ min: 1, max: 1000 })
  .chain((n) => fc.tuple(fc.constant(n), fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { minLength: 1, maxLength: Math.min(n, 8) })));

describe('splitRejected', () => {
  test('finds exactly the bad items, delivers every good item once, within k·(⌈log2 n⌉ + 1) requests', async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ([n, badList]) => {
        const bad = new Set(badList);
        const r = await isolate(n, bad);
        expect(r.bad.map((b) => b.item).sort((a, b) => a - b)).toEqual([...bad].sort((a, b) => a - b));
        expect(r.unsent).toEqual([]);
        expect(r.accepted.sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i).filter((i) => !bad.has(i)));
        expect(r.sent.length).toBeLessThanOrEqual(bad.size * (Math.ceil(Math.log2(n)) + 1));
        // Each bad item carries the failure of a rejected request that held it.
        for (const b of r.bad) expect(b.failure.part).toContain(b.item);
      }),
      { numRuns: 500 },
    );
  });

  test('a part failing for another reason (5xx, rate limit) ends the split: nothing is lost, nothing sent twice', async () => {
    await fc.assert(
      fc.asyncProperty(cases, fc.integer({ min: 1, max: 12 }), async ([n, badList], failOn) => {
        const r = await isolate(n, new Set(badList), failOn);
        const all = [...r.accepted, ...r.bad.map((b) => b.item), ...r.unsent.map((u) => u.item)].sort((a, b) => a - b);
        expect(new Set(all).size).toBe(all.length);
        expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
        if (r.sent.length >= failOn) expect(r.unsent.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });

  test('one bad item in 1,000 costs at most 11 requests wherever it is', async () => {
    const counts: number[] = [];
    for (let at = 0; at < 1000; at++) counts.push((await isolate(1000, new Set([at]))).sent.length);
    expect(Math.max(...counts)).toBe(11);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(9);
  });

  test('a rejection no item explains (a spurious 400) marks exactly one item bad by elimination', async () => {
    const r = await isolate(64, new Set());
    expect(r.bad).toHaveLength(1);
    expect(r.accepted).toHaveLength(63);
    expect(r.sent).toHaveLength(6);
  });
});
