import { literal, openDuckdbLedger } from '@syncline/core';
import { describe, expect, test } from 'vitest';
import { ROW_RULES } from '../src/row-rules.js';

/**
 * Per rule: values both sides accept, values both refuse, and valid values that only JavaScript clears (the SQL
 * test is a sufficient condition: it may leave a valid value to JavaScript, never clear an invalid one).
 */
const SAMPLES: Record<keyof typeof ROW_RULES, { valid: string[]; invalid: string[]; jsOnly: string[] }> = {
  email: {
    valid: ['ada@example.com', 'a@b', 'first.last+tag@sub.example.co'],
    invalid: ['bad@', 'a@-b.com', 'ü@x.de', '', 'a@b..c', `${'a'.repeat(250)}@b.co`, 'no-at-sign'],
    jsOnly: [],
  },
  e164: { valid: ['+14155550100', '+33123456789'], invalid: ['+0123', '14155550100', '+1 415', '+1234567890123456', '+'], jsOnly: [] },
  timezone: { valid: ['Europe/Paris', 'UTC', 'Etc/UTC'], invalid: ['Mars/Base', '+01:00', 'europe paris', ''], jsOnly: ['US/Pacific'] },
  locale: { valid: ['en', 'en-US', 'fra'], invalid: ['x', 'en_US', '', 'en-'], jsOnly: ['EN', 'zh-Hant-TW'] },
  iso8601: {
    valid: ['2024-01-05', '2024-01-05T10:00:00Z', '2024-01-28T23:59:59.123Z'],
    invalid: ['2024-02-30', '2024-13-01', '2024-01-05T24:00:00Z', 'soon', ''],
    jsOnly: ['2024-02-29', '2024-01-31T10:00:00.5Z', '2024-01-05T10:00:00+02:00', '2024-01-05 10:00'],
  },
  url: { valid: [], invalid: ['not a url', 'ftp://example.com/x', ''], jsOnly: ['https://example.com/a?b=c', 'http://127.0.0.1:3100/'] },
  id: {
    valid: ['u1', 'user_01:a@b|c', 'x'.repeat(256)],
    invalid: ['a/b', 'a#b', '.', '..', 'x'.repeat(257), 'tab\there', ''],
    jsOnly: ['u 1', 'ü1'],
  },
};

describe('Knock row rules: the JavaScript test and its SQL twin agree', () => {
  test.each(Object.keys(ROW_RULES) as (keyof typeof ROW_RULES)[])('%s', async (name) => {
    const rule = ROW_RULES[name];
    const { valid, invalid, jsOnly } = SAMPLES[name];
    await using ledger = await openDuckdbLedger({ path: ':memory:' });
    const sqlSays = async (value: string): Promise<boolean> => {
      if (!rule.sql) return false;
      const r = await ledger.connection.runAndReadAll(`SELECT coalesce((${rule.sql(literal(value))}), FALSE) AS ok`);
      return r.getRowObjectsJson()[0]!.ok === true;
    };
    const verdicts = async (values: string[]) =>
      Object.fromEntries(await Promise.all(values.map(async (v) => [v, { js: rule.test(v), sql: await sqlSays(v) }] as const)));
    const both = (values: string[], js: boolean, sql: boolean) => Object.fromEntries(values.map((v) => [v, { js, sql }]));
    // A rule without SQL leaves every value to JavaScript: its valid samples are all jsOnly.
    expect(await verdicts(valid)).toEqual(both(valid, true, true));
    expect(await verdicts(invalid)).toEqual(both(invalid, false, false));
    expect(await verdicts(jsOnly)).toEqual(both(jsOnly, true, false));
  });
});
