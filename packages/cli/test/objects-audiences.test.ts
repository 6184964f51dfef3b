/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies of the emulator */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '@syncline/knock-emulator';
import { main } from '../src/index.js';
import { captureIo } from './cli-io.js';

const KEY = 'sk_test_objects_audiences';
let emulator: RunningEmulator;
let env: NodeJS.ProcessEnv;
beforeEach(async () => {
  emulator = await startEmulator({ port: 0, bulkDelayMs: 20 });
  env = { ...process.env, KNOCK_API_KEY: KEY, KNOCK_BASE_URL: emulator.url };
});
afterEach(async () => emulator.close());

const copy = (name: string): string => {
  const dir = mkdtempSync(join(tmpdir(), `syncline-${name}-`));
  cpSync(fileURLToPath(new URL(`../../../examples/${name}/`, import.meta.url)), dir, {
    recursive: true,
    filter: (s) => !s.includes('.syncline'),
  });
  return dir;
};
const run = async (config: string) => {
  const io = captureIo(env);
  const code = await main(['run', config, '--json', '--allow-mass-delete'], io);
  return { code, summary: JSON.parse(io.out().trim().split('\n').at(-1)!), err: io.err() };
};
const get = async (path: string) => {
  const res = await fetch(`${emulator.url}${path}`, { headers: { authorization: `Bearer ${KEY}` } });
  return { status: res.status, body: (res.status === 200 ? await res.json() : null) as any };
};

describe('objects and audiences through the CLI', () => {
  test('examples/objects sets companies with nested custom properties and deletes a removed one', async () => {
    const dir = copy('objects');
    const first = await run(join(dir, 'sync.yaml'));
    expect(first.summary).toMatchObject({ status: 'succeeded', rows: { added: 5, synced: 5 } });
    expect((await get('/v1/objects/companies/acme')).body).toMatchObject({
      __typename: 'Object',
      id: 'acme',
      collection: 'companies',
      properties: { name: 'Acme Corp', plan: 'enterprise', seats: 250, address: { region: 'us' }, timezone: 'America/New_York' },
    });
    const csv = readFileSync(join(dir, 'companies.csv'), 'utf8').split('\n');
    writeFileSync(
      join(dir, 'companies.csv'),
      csv
        .filter((l) => !l.startsWith('hooli'))
        .join('\n')
        .replace('Globex,pro', 'Globex,enterprise'),
    );
    const second = await run(join(dir, 'sync.yaml'));
    expect(second.summary).toMatchObject({ status: 'succeeded', rows: { changed: 1, removed: 1, unchanged: 3, synced: 2 } });
    expect((await get('/v1/objects/companies/hooli')).status).toBe(404);
    expect((await get('/v1/objects/companies/globex')).body.properties.plan).toBe('enterprise');
  });

  test('a mass delete is shown as a warning by plan and refused by run (exit 3, nothing deleted)', async () => {
    const dir = copy('objects');
    const config = join(dir, 'sync.yaml');
    await run(config);
    writeFileSync(
      join(dir, 'companies.csv'),
      readFileSync(join(dir, 'companies.csv'), 'utf8')
        .split('\n')
        .filter((l) => !/^(hooli|acme),/.test(l))
        .join('\n'),
    );
    const io = captureIo(env);
    expect(await main(['plan', config], io)).toBe(0);
    expect(io.out()).toContain("! 2 removals = 40% of the synced rows, above this sync's limit (20%)");
    expect(io.out()).toMatch(/`syncline run` will refuse this sync/);
    expect(io.out()).toMatch(/Plan: 0 to set, 0 to change, 2 to delete\./);
    const refused = captureIo(env);
    expect(await main(['run', config], refused)).toBe(3);
    expect((await get('/v1/objects/companies/acme')).status).toBe(200);
  });

  test('an audience that does not exist (and createAudience off) fails the run before any write, naming the fix', async () => {
    const dir = copy('audiences');
    writeFileSync(
      join(dir, 'sync.yaml'),
      readFileSync(join(dir, 'sync.yaml'), 'utf8').replace('createAudience: true', 'createAudience: false'),
    );
    const r = await run(join(dir, 'sync.yaml'));
    expect(r.code).toBe(3);
    expect(r.summary).toMatchObject({
      status: 'failed',
      error: { code: 'destination_failed', message: '[knock] the audience does not exist (create it in Knock or set createAudience)' },
    });
    expect(emulator.control.requests().filter((x) => x.method !== 'GET')).toHaveLength(0);
  });

  test('examples/audiences adds members with tenants, upserts their fields, and removes rows leaving the model', async () => {
    const dir = copy('audiences');
    const first = await run(join(dir, 'sync.yaml'));
    expect(first.summary).toMatchObject({ status: 'succeeded', rows: { added: 3, synced: 3 } });
    const members = (await get('/v1/audiences/vip/members')).body.entries as { user_id: string; tenant: string | null }[];
    expect(members.map((m) => [m.user_id, m.tenant]).sort()).toEqual([
      ['u_0001', 'acme'],
      ['u_0003', 'globex'],
      ['u_0004', null],
    ]);
    expect((await get('/v1/users/u_0003')).body).toMatchObject({ email: 'dennis.liskov3@example.com', name: 'Dennis Liskov' });
    expect((await get('/v1/users/u_0003')).body).not.toHaveProperty('tenant');
    // u_0001 drops below the threshold: it leaves the model and the audience.
    // u_0003 moves from tenant globex to initech: its membership moves too.
    writeFileSync(
      join(dir, 'members.csv'),
      readFileSync(join(dir, 'members.csv'), 'utf8').replace('acme,91', 'acme,60').replace('globex,97', 'initech,97'),
    );
    const second = await run(join(dir, 'sync.yaml'));
    expect(second.summary).toMatchObject({ status: 'succeeded', rows: { removed: 1, changed: 1, unchanged: 1, synced: 2 } });
    const after = (await get('/v1/audiences/vip/members')).body.entries as { user_id: string; tenant: string | null }[];
    expect(after.map((m) => [m.user_id, m.tenant]).sort()).toEqual([
      ['u_0003', 'initech'],
      ['u_0004', null],
    ]);
    // Entry events: the three first adds and the move to a new tenant; re-syncing adds none.
    expect(emulator.control.audienceEntries('vip', { apiKey: KEY })).toHaveLength(4);
    const third = await run(join(dir, 'sync.yaml'));
    expect(third.summary).toMatchObject({ requests: 0, rows: { unchanged: 2 } });
  });
});
