import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, test } from 'vitest';
import { startEmulator } from '@syncline/knock-emulator';
import { main } from '../src/index.js';
import { configJsonSchema } from '../src/config-json-schema.js';
import { captureIo } from './cli-io.js';

const fresh = (): string => join(mkdtempSync(join(tmpdir(), 'syncline-init-')), 'demo');

async function cli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const io = captureIo(env);
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

describe('syncline init', () => {
  test('scaffolds a sync that plans at once against the emulator', async () => {
    await using emulator = await startEmulator({ port: 0, bulkDelayMs: 10 });
    const dir = fresh();
    const init = await cli(['init', dir]);
    expect(init.code).toBe(0);
    for (const f of ['sync.yaml', 'users.csv', '.env.example', '.gitignore']) expect(existsSync(join(dir, f))).toBe(true);
    expect(init.out).toContain(`syncline plan ${join(dir, 'sync.yaml')}`);
    const plan = await cli(['plan', join(dir, 'sync.yaml'), '--json'], {
      ...process.env,
      KNOCK_API_KEY: 'sk_test_init',
      KNOCK_BASE_URL: emulator.url,
    });
    expect(plan.err).not.toMatch(/Error/);
    expect(plan.code).toBe(0);
    const json = JSON.parse(plan.out);
    expect([json.model.rows, json.summary]).toMatchObject([5, { add: 5, invalid: 0 }]);
    // Nothing was sent by the plan.
    expect(emulator.control.requests().filter((r) => r.method !== 'GET')).toEqual([]);
  });

  test('writes the yaml-language-server line pointing at the shipped JSON Schema, which the scaffold satisfies', async () => {
    const dir = fresh();
    await cli(['init', dir]);
    const text = readFileSync(join(dir, 'sync.yaml'), 'utf8');
    const schemaPath = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text)?.[1];
    expect(schemaPath).toBeDefined();
    const schema = JSON.parse(readFileSync(resolve(dir, schemaPath!), 'utf8'));
    const validate = new Ajv2020({ strict: false }).compile(schema);
    expect(validate(parse(text)), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...parse(text), sync: { type: 'users', fields: {}, extra: 1 } })).toBe(false);
    // A module destination's block holds its own keys (checked by its targetSchema when the CLI loads it),
    // with core's keys still checked; Knock's keys are not required there.
    const hook = { ...parse(text), destination: { type: 'module', module: './hook.js' } };
    expect(
      validate({ ...hook, sync: { url: 'http://127.0.0.1:9/hook', fields: { email: 'email' } } }),
      JSON.stringify(validate.errors),
    ).toBe(true);
    expect(validate({ ...hook, sync: { url: 'x', onDelete: 'sometimes' } })).toBe(false);
    expect(validate({ ...parse(text), sync: { url: 'http://127.0.0.1:9/hook', fields: { email: 'email' } } })).toBe(false);
  });

  test('writes nothing when a file exists, unless --force', async () => {
    const dir = fresh();
    await cli(['init', dir]);
    writeFileSync(join(dir, 'users.csv'), 'mine\n');
    const again = await cli(['init', dir]);
    expect(again.code).toBe(2);
    expect(again.err).toContain('already exist; nothing was written (--force overwrites)');
    expect(readFileSync(join(dir, 'users.csv'), 'utf8')).toBe('mine\n');
    expect((await cli(['init', dir, '--force'])).code).toBe(0);
    expect(readFileSync(join(dir, 'users.csv'), 'utf8')).toContain('u_001');
  });
});

describe('syncline validate', () => {
  test('a good config: exit 0, and no key or Knock needed', async () => {
    const dir = fresh();
    await cli(['init', dir]);
    const env = { ...process.env, KNOCK_API_KEY: '', KNOCK_BASE_URL: 'http://127.0.0.1:9' };
    const r = await cli(['validate', join(dir, 'sync.yaml')], env);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toBe(`${join(dir, 'sync.yaml')} is valid: 5 rows, key id, 4 mapped fields, no alerts, no schedule. Nothing was sent.\n`);
  });

  test('a mapped column not in the model: exit 2 with file:line:col and did-you-mean', async () => {
    const dir = fresh();
    await cli(['init', dir]);
    const file = join(dir, 'sync.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('name: full_name', 'name: fullname'));
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`${file}:21:11 sync.fields.name: column "fullname" not in model (did you mean "full_name"?)\n`);
  });

  test("rows that break Knock's field rules: exit 2, each with the mapping's position, row and key", async () => {
    const dir = fresh();
    await cli(['init', dir]);
    const csv = join(dir, 'users.csv');
    writeFileSync(csv, readFileSync(csv, 'utf8').replace('grace@example.com', 'grace-at-example.com').replace('+14155550104', '555-0104'));
    const file = join(dir, 'sync.yaml');
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `${file}:20:12 sync.fields.email: row 2 (id u_002): email is not a valid email address\n` +
        `${file}:22:19 sync.fields.phone_number: row 4 (id u_004): phone_number is not an E.164 phone number (e.g. +33123456789)\n`,
    );
  });

  test('a bad syncline.yaml beside it is a config error too', async () => {
    const dir = fresh();
    await cli(['init', dir]);
    writeFileSync(join(dir, 'syncline.yaml'), 'alerts:\n  - { channel: slack }\n');
    const r = await cli(['validate', join(dir, 'sync.yaml')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/syncline\.yaml:2:\d+ alerts\.0\.url: /);
  });

  test('a misspelt word (a channel, onDelete) names the choices and the closest one', async () => {
    const dir = fresh();
    await cli(['init', dir]);
    writeFileSync(join(dir, 'syncline.yaml'), 'alerts:\n  - channel: slak\n    url: https://hooks.slack.com/services/T/B/X\n');
    const channel = await cli(['validate', join(dir, 'sync.yaml')]);
    expect(channel.code).toBe(2);
    expect(channel.err).toContain(
      'syncline.yaml:2:14 alerts.0.channel: "slak" is not one of slack, pagerduty, email, sms, webhook, knock (did you mean "slack"?)',
    );
    rmSync(join(dir, 'syncline.yaml'));
    const sync = join(dir, 'sync.yaml');
    writeFileSync(sync, readFileSync(sync, 'utf8').replace('onDelete: nothing', 'onDelete: delte'));
    const onDelete = await cli(['validate', sync]);
    expect(onDelete.code).toBe(2);
    expect(onDelete.err).toMatch(/sync\.yaml:\d+:\d+ sync\.onDelete: "delte" is not one of nothing, delete \(did you mean "delete"\?\)/);
  });
});

test('the shipped JSON Schemas are the ones generated from the zod schemas (npm run schema -w @syncline/cli)', () => {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'schema');
  expect(JSON.parse(readFileSync(join(dir, 'sync.schema.json'), 'utf8'))).toEqual(configJsonSchema('sync'));
  expect(JSON.parse(readFileSync(join(dir, 'syncline.schema.json'), 'utf8'))).toEqual(configJsonSchema('workspace'));
});
