import { parse } from 'yaml';
import { describe, expect, test } from 'vitest';
import { updateYaml } from '../src/update-yaml.js';

const file = `# Pro users for the onboarding workflow (owner: data team)
name: pro-users
source: { type: duckdb, tables: { users: ../data/users.csv } }
model: |
  select * from users
  where plan = 'pro'
key: id # the warehouse id, not the email
sync:
  type: users
  mode: upsert
  # Knock field: model column
  fields:
    email: email
    name: full_name # display name
  onDelete: nothing
`;

describe('updateYaml', () => {
  test('an unchanged config gives back the file byte for byte', () => {
    expect(updateYaml(file, parse(file) as Record<string, unknown>)).toBe(file);
  });

  test('changed, added and removed keys are applied; comments, flow style and block scalars elsewhere stay', () => {
    const config = parse(file) as { sync: { fields: Record<string, string>; onDelete: string }; key: string };
    config.key = 'user_id';
    config.sync.onDelete = 'delete';
    delete config.sync.fields['name'];
    config.sync.fields['phone_number'] = 'phone';
    const out = updateYaml(file, config);
    expect(parse(out)).toEqual(config);
    expect(out).toContain('# Pro users for the onboarding workflow (owner: data team)\n');
    expect(out).toContain('key: user_id # the warehouse id, not the email\n');
    expect(out).toContain('  # Knock field: model column\n');
    expect(out).toContain('source: { type: duckdb, tables: { users: ../data/users.csv } }\n');
    expect(out).toContain("model: |\n  select * from users\n  where plan = 'pro'\n");
    expect(out).not.toContain('full_name');
    expect(out).toContain('phone_number: phone');
    expect(out).toContain('onDelete: delete');
  });

  test('without a previous file, or one that does not parse, it is plain YAML', () => {
    expect(updateYaml(undefined, { name: 'a', key: 'id' })).toBe('name: a\nkey: id\n');
    expect(parse(updateYaml('name: [unclosed\n', { name: 'a' }))).toEqual({ name: 'a' });
  });
});
