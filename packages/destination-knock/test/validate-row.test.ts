import { describe, expect, test } from 'vitest';
import { fieldCatalog, validateRow, type KnockTarget } from '../src/index.js';

const users: KnockTarget = { type: 'users', mode: 'upsert', onDelete: 'nothing', nulls: 'skip' };
const objects: KnockTarget = { type: 'objects', mode: 'upsert', onDelete: 'nothing', nulls: 'skip', collection: 'projects' };
const audiences: KnockTarget = { type: 'audiences', mode: 'add', onDelete: 'nothing', nulls: 'skip', audience: 'vips' };

const issuesOf = (payload: Record<string, unknown>, target = users, key = 'user-1') => validateRow({ key, payload }, target);

describe('field catalog', () => {
  test('lists the reserved user fields with their rules, then custom properties', () => {
    expect(fieldCatalog(users).map((f) => [f.name, f.rule])).toEqual([
      ['name', undefined],
      ['email', 'email'],
      ['phone_number', 'e164'],
      ['avatar', 'url'],
      ['locale', 'locale'],
      ['timezone', 'timezone'],
      ['created_at', 'iso8601'],
      ['*', undefined],
    ]);
  });
  test('lists name, locale, timezone and phone_number for objects', () => {
    expect(fieldCatalog(objects).map((f) => f.name)).toEqual(['name', 'locale', 'timezone', 'phone_number', '*']);
  });
  test('adds the membership tenant to the user fields for audiences', () => {
    expect(fieldCatalog(audiences).map((f) => f.name)).toEqual(expect.arrayContaining(['email', 'tenant', '*']));
    expect(fieldCatalog(audiences).find((f) => f.name === 'tenant')?.rule).toBe('id');
  });
});

describe('validateRow', () => {
  test.each([
    ['email', 'ian.malcolm@chaos.theory'],
    ['email', 'a+tag@sub.example.co.uk'],
    ['phone_number', '+14155550100'],
    ['phone_number', '+442071838750'],
    ['timezone', 'Europe/Paris'],
    ['timezone', 'America/Argentina/Buenos_Aires'],
    ['timezone', 'UTC'],
    ['timezone', 'Etc/GMT+5'],
    ['locale', 'en'],
    ['locale', 'en-US'],
    ['locale', 'zh-Hant-TW'],
    ['created_at', '2024-05-22T12:00:00Z'],
    ['created_at', '2024-05-22T12:00:00.123+02:00'],
    ['created_at', '2024-05-22'],
    ['created_at', '2024-02-29T23:59'],
    ['avatar', 'https://example.com/a.png'],
    ['name', 'Dr. Ellie Sattler'],
    ['email', null],
  ])('accepts %s = %j', (field, value) => {
    expect(issuesOf({ [field]: value })).toEqual([]);
  });

  test.each([
    ['email', 'not-an-email', 'email'],
    ['email', 'a@b@c.com', 'email'],
    ['email', 'a@', 'email'],
    ['phone_number', '4155550100', 'e164'],
    ['phone_number', '+0123', 'e164'],
    ['phone_number', '+1 415 555 0100', 'e164'],
    ['phone_number', '+1234567890123456', 'e164'],
    ['timezone', 'Mars/Olympus_Mons', 'timezone'],
    ['timezone', '+01:00', 'timezone'],
    ['timezone', 'utc offset', 'timezone'],
    ['locale', 'en_US_bad!', 'locale'],
    ['locale', '', 'locale'],
    ['created_at', '2024-13-01', 'iso8601'],
    ['created_at', '2023-02-29', 'iso8601'],
    ['created_at', 'yesterday', 'iso8601'],
    ['created_at', '22/05/2024', 'iso8601'],
    ['avatar', 'javascript:alert(1)', 'url'],
    ['name', 42, 'type'],
    ['email', ['a@b.co'], 'type'],
    ['created_at', 1716379200, 'type'],
    ['updated_at', '2024-05-22T12:00:00Z', 'reserved'],
    ['__typename', 'User', 'reserved'],
    ['id', 'someone-else', 'reserved'],
  ])('rejects %s = %j by rule %s, without the value in the message', (field, value, rule) => {
    const issues = issuesOf({ [field]: value });
    expect(issues).toEqual([expect.objectContaining({ key: 'user-1', field, rule })]);
    if (String(value).length > 1) expect(issues[0]!.message).not.toContain(String(value));
  });

  test('accepts an id field equal to the key', () => {
    expect(issuesOf({ id: 'user-1' })).toEqual([]);
  });

  test.each([
    ['a'.repeat(256), true],
    ['a'.repeat(257), false],
    ['user/1', false],
    ['user#1', false],
    ['.', false],
    ['..', false],
    ['', false],
    ['ünïcødé 🦖', true],
    ['a.b', true],
    ['%2F', true],
  ])('key %j is valid: %s', (key, valid) => {
    expect(issuesOf({}, users, key).length === 0).toBe(valid);
  });

  test('accepts custom properties up to 256 kB and rejects more', () => {
    const ok = issuesOf({ blob: 'x'.repeat(256 * 1024 - 20) });
    const big = issuesOf({ blob: 'x'.repeat(256 * 1024) });
    expect(ok).toEqual([]);
    expect(big).toEqual([expect.objectContaining({ field: '*', rule: 'size' })]);
    // Sized as sent: JSON escapes a control character to 6 bytes, UTF-8 takes 3 for '€'; many small
    // properties add their names and punctuation.
    expect(issuesOf({ blob: '\u0001'.repeat(45_000) })).toEqual([expect.objectContaining({ rule: 'size' })]);
    expect(issuesOf({ blob: '\u0001'.repeat(43_000) })).toEqual([]);
    expect(issuesOf({ blob: '€'.repeat(88_000) })).toEqual([expect.objectContaining({ rule: 'size' })]);
    expect(issuesOf({ blob: '€'.repeat(87_000), n: 1, t: true, z: null })).toEqual([]);
    const many = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`property_${i}`, i]));
    expect(issuesOf(many)).toEqual([expect.objectContaining({ rule: 'size' })]);
  });

  test('leaves nested custom properties of any JSON type alone', () => {
    expect(issuesOf({ plan: 'pro', seats: 3, flags: { beta: true }, tags: ['a'] })).toEqual([]);
  });

  test('applies the object catalog: email is a custom property there, phone_number is checked', () => {
    expect(issuesOf({ email: 'not-an-email' }, objects)).toEqual([]);
    expect(issuesOf({ phone_number: 'nope' }, objects)).toEqual([expect.objectContaining({ rule: 'e164' })]);
  });

  test('checks the audience tenant as an id', () => {
    expect(issuesOf({ tenant: 'acme' }, audiences)).toEqual([]);
    expect(issuesOf({ tenant: 'acme/eu' }, audiences)).toEqual([expect.objectContaining({ field: 'tenant', rule: 'id' })]);
  });

  test('reports every bad field of a row', () => {
    expect(
      issuesOf({ email: 'x', timezone: 'y', locale: '!!' })
        .map((i) => i.field)
        .sort(),
    ).toEqual(['email', 'locale', 'timezone']);
  });
});
