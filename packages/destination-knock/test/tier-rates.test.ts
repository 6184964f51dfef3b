import { expect, test } from 'vitest';
import { KNOCK_TIERS, knockTiersSchema, limitsName, sendSeconds, tierRate, tierRates } from '../src/index.js';

test("tierRates: Knock's defaults, a config's raised tiers on top, none under tiers: off", () => {
  expect(tierRates(undefined)).toEqual(KNOCK_TIERS);
  expect(tierRates({ 5: 2_000 })).toEqual({ ...KNOCK_TIERS, 5: 2_000 });
  expect(tierRates('off')).toBeUndefined();
  expect(tierRate(3, tierRates(undefined))).toBe(60);
  expect(tierRate(undefined, tierRates(undefined))).toBeUndefined();
});

test('sendSeconds: the slowest endpoint at its tier, since endpoints are paced side by side; 0 when unpaced', () => {
  const endpoints = [
    { calls: 120, tier: 3 }, // 2 s at 60/s
    { calls: 7, tier: 1 }, // 7 s at 1/s
    { calls: 50, tier: undefined },
  ];
  expect(sendSeconds(endpoints, tierRates(undefined))).toBe(7);
  expect(sendSeconds(endpoints, tierRates({ 1: 10 }))).toBe(2);
  expect(sendSeconds(endpoints, tierRates('off'))).toBe(0);
  expect(sendSeconds([], tierRates(undefined))).toBe(0);
});

test("limitsName: Knock's for the defaults (a config's parsed `tiers` included), the configured for raised ones", () => {
  expect(limitsName(tierRates(undefined)!)).toBe("Knock's");
  expect(limitsName(tierRates(knockTiersSchema.parse(undefined))!)).toBe("Knock's");
  expect(limitsName(tierRates({ 3: 600 })!)).toBe('the configured');
});
