import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadConfig } from '../src/load-config.js';
import { openLedger, openSource } from '../src/open-sync.js';

const write = (text: string): string => {
  const file = join(mkdtempSync(join(tmpdir(), 'syncline-cfg-')), 'sync.yaml');
  writeFileSync(file, text);
  return file;
};
const base = `name: t
source: { type: duckdb, tables: { users: ./users.csv } }
model: select * from users
key: id
destination: { type: knock }
sync:
  type: users
  mode: upsert
  fields: { email: email }
`;

describe('loadConfig', () => {
  test('reads the example config', () => {
    const c = loadConfig(new URL('../../../examples/users/sync.yaml', import.meta.url).pathname);
    expect(c.spec).toMatchObject({
      name: 'example-users',
      key: 'id',
      target: { type: 'users', mode: 'upsert', onDelete: 'nothing', nulls: 'skip' },
    });
    expect(c.spec.fields).toEqual({ email: 'email', name: 'full_name', phone_number: 'phone', timezone: 'timezone', plan: 'plan' });
    expect(c.ledgerPath).toMatch(/examples\/users\/\.syncline\/example-users\.duckdb$/);
  });

  test.each([
    ['an unknown key, at its line and column', base.replace('key: id', 'key: id\nkeyy: 2'), /sync\.yaml:5:1 keyy: unknown key$/],
    [
      'a wrong type, with its path',
      base.replace('fields: { email: email }', 'fields: { email: 3 }'),
      /sync\.yaml:9:20 sync\.fields\.email: /,
    ],
    ['a bad enum value', base.replace('mode: upsert', 'mode: merge'), /sync\.yaml:8:9 sync\.mode: /],
    ['a missing collection for objects', base.replace('type: users', 'type: objects'), /sync\.collection: required for objects/],
    ['a YAML syntax error', base + 'sync: [\n', /sync\.yaml:\d+:\d+ /],
    ['a ledger memory limit without a unit', base + 'ledger: { memoryLimit: 1500 }\n', /sync\.yaml:10:\d+ ledger\.memoryLimit: /],
    [
      'a ledger memory limit that is not a size',
      base + 'ledger: { memoryLimit: lots }\n',
      /sync\.yaml:10:24 ledger\.memoryLimit: a size such as 1\.5GB/,
    ],
    ['an unknown ledger key', base + 'ledger: { memory: 1GB }\n', /sync\.yaml:10:11 ledger\.memory: unknown key$/],
    [
      'a postgres source asking for a ledger that does not exist',
      base.replace(
        'source: { type: duckdb, tables: { users: ./users.csv } }',
        'source:\n  type: postgres\n  url: postgres://h/db\n  ledger: cloud',
      ),
      /sync\.yaml:5:11 source\.ledger: expected "local" \(the DuckDB ledger beside the config\) or "warehouse" \(in Postgres\)$/,
    ],
    [
      'a postgres source with a bad batch size',
      base.replace('source: { type: duckdb, tables: { users: ./users.csv } }', 'source: { type: postgres, batchSize: 0 }'),
      /sync\.yaml:2:\d+ source\.batchSize: /,
    ],
    [
      'an unset environment variable',
      base.replace('{ type: knock }', '{ type: knock, apiKey: "${NOT_SET_ANYWHERE}" }'),
      /sync\.yaml:5:\d+ environment variable NOT_SET_ANYWHERE is not set/,
    ],
  ])('rejects %s', (_name, text, message) => {
    expect(() => loadConfig(write(text), {})).toThrow(message);
  });

  test('a postgres source: block style with ${DATABASE_URL}, ledger local by default, the URL from DATABASE_URL when left out', () => {
    const pg = base.replace(
      'source: { type: duckdb, tables: { users: ./users.csv } }',
      'source:\n  type: postgres\n  url: ${DATABASE_URL}',
    );
    const c = loadConfig(write(pg), { DATABASE_URL: 'postgres://u:p@h:5432/db' });
    expect(c.source).toEqual({ type: 'postgres', url: 'postgres://u:p@h:5432/db', ledger: 'local', batchSize: 10_000 });
    const bare = loadConfig(write(base.replace('{ type: duckdb, tables: { users: ./users.csv } }', '{ type: postgres }')), {});
    expect(openSource(bare, { DATABASE_URL: 'postgres://h/db' }).name).toBe('postgres');
    expect(() => openSource(bare, {})).toThrow(/sync\.yaml: source\.url: required \(or set DATABASE_URL\)$/);
  });

  test('a postgres source with the warehouse ledger and its schema', () => {
    const c = loadConfig(
      write(
        base.replace(
          'source: { type: duckdb, tables: { users: ./users.csv } }',
          'source:\n  type: postgres\n  url: ${DATABASE_URL}\n  ledger: warehouse\n  schema: syncline_prod',
        ),
      ),
      { DATABASE_URL: 'postgres://u:p@h:5432/db' },
    );
    expect(c.source).toEqual({
      type: 'postgres',
      url: 'postgres://u:p@h:5432/db',
      ledger: 'warehouse',
      schema: 'syncline_prod',
      batchSize: 10_000,
    });
  });

  test('the ledger block sets DuckDB memory_limit and threads of the sync ledger', async () => {
    const file = write(base + 'ledger: { memoryLimit: 512MB, threads: 1 }\n');
    const c = loadConfig(file, {});
    expect(c.ledger).toEqual({ memoryLimit: '512MB', threads: 1 });
    await using ledger = await openLedger(c, false);
    const r = await ledger.connection!.runAndReadAll(`SELECT current_setting('memory_limit') AS m, current_setting('threads') AS t`);
    expect(r.getRowObjectsJson()[0]).toEqual({ m: '488.2 MiB', t: '1' });
    expect(loadConfig(write(base), {}).ledger).toEqual({});
  });

  test('destination tiers: raised rates, off, and a bad rate named at its line and column', () => {
    const raised = loadConfig(write(base.replace('{ type: knock }', '{ type: knock, tiers: { 1: 10, 3: 600 } }')), {});
    expect(raised.destination.tiers).toEqual({ 1: 10, 2: 5, 3: 600, 4: 200, 5: 1000 });
    expect(loadConfig(write(base.replace('{ type: knock }', '{ type: knock, tiers: off }')), {}).destination.tiers).toBe('off');
    expect(loadConfig(write(base), {}).destination.tiers).toEqual({ 1: 1, 2: 5, 3: 60, 4: 200, 5: 1000 });
    expect(() => loadConfig(write(base.replace('{ type: knock }', '{ type: knock, tiers: { 3: 0 } }')), {})).toThrow(
      /sync\.yaml:5:\d+ destination\.tiers(\.3)?: /,
    );
    expect(() => loadConfig(write(base.replace('{ type: knock }', '{ type: knock, tiers: { 9: 1 } }')), {})).toThrow(
      /sync\.yaml:5:\d+ destination\.tiers/,
    );
  });

  test('interpolates ${ENV} in strings', () => {
    const c = loadConfig(write(base.replace('{ type: knock }', '{ type: knock, apiKey: "${MY_KEY}" }')), { MY_KEY: 'sk_test_x' });
    expect(c.destination.apiKey).toBe('sk_test_x');
  });
});
