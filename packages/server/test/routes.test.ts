import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createServer } from '../src/index.js';
import { testServer, type TestServer } from './helpers.js';

let t: TestServer;
beforeAll(async () => {
  t = await testServer();
});
afterAll(async () => {
  await t?.close();
});

const usersSync = {
  model: "select id, email, full_name from users where plan = 'pro'",
  key: 'id',
  sync: { type: 'users', mode: 'upsert', fields: { email: 'email', name: 'full_name' }, onDelete: 'nothing' },
};

describe('routes through app.request()', () => {
  test('GET /api/health answers without a token and says the target', async () => {
    const r = await t.server.app.request('/api/health');
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(body).toMatchObject({ ok: true, version: '0.0.0', target: { kind: 'emulator', baseUrl: t.emulator.url, key: 'sk_test_local' } });
  });

  test('GET /api/tables lists the sample tables with columns, types and row counts', async () => {
    const { status, body } = await t.json<{ tables: { name: string; rowCount: number; columns: { name: string; type: string }[] }[] }>(
      'GET',
      '/api/tables',
    );
    expect(status).toBe(200);
    expect(body.tables.map((x) => x.name)).toEqual(['companies', 'members', 'users']);
    const users = body.tables.find((x) => x.name === 'users')!;
    expect(users.rowCount).toBe(200);
    expect(users.columns).toContainEqual({ name: 'email', type: 'VARCHAR' });
    expect(users.columns).toContainEqual({ name: 'signup_date', type: 'DATE' });
  });

  test('POST /api/tables uploads a CSV as a table and DELETE drops it', async () => {
    const csv = 'id,score\na,1\nb,2\nc,3\n';
    const up = await t.call('POST', '/api/tables?name=scores', csv, { 'content-type': 'text/csv' });
    expect(up.status).toBe(201);
    expect(await up.json()).toMatchObject({ name: 'scores', format: 'csv', rowCount: 3, file: 'data/scores.csv' });
    const q = await t.json<{ rows: unknown[] }>('POST', '/api/query', { sql: 'select sum(score) as s from scores' });
    expect(q.body.rows).toEqual([{ s: '6' }]);
    const again = await t.call('POST', '/api/tables?name=scores', csv);
    expect(again.status).toBe(409);
    const del = await t.call('DELETE', '/api/tables/scores');
    expect(del.status).toBe(200);
    expect(existsSync(join(t.dir, 'data', 'scores.csv'))).toBe(false);
    expect((await t.call('DELETE', '/api/tables/scores')).status).toBe(404);
  });

  test('a removed table comes back with POST /api/tables/:name/restore, from its own file (no upload); only the last removed is kept', async () => {
    const csv = 'id,score\na,1\nb,2\n';
    expect((await t.call('POST', '/api/tables?name=undo_a', csv)).status).toBe(201);
    expect((await t.call('POST', '/api/tables?name=undo_b', csv + 'c,3\n')).status).toBe(201);
    expect((await t.call('DELETE', '/api/tables/undo_a')).status).toBe(200);
    expect((await t.json<{ tables: { name: string }[] }>('GET', '/api/tables')).body.tables.map((x) => x.name)).not.toContain('undo_a');
    const back = await t.json<{ name: string; rowCount: number; file: string }>('POST', '/api/tables/undo_a/restore');
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ name: 'undo_a', rowCount: 2, file: 'data/undo_a.csv' });
    expect((await t.json<{ rows: unknown[] }>('POST', '/api/query', { sql: 'select sum(score) as s from undo_a' })).body.rows).toEqual([
      { s: '3' },
    ]);
    // Restored once; a second undo has nothing to restore.
    expect((await t.call('POST', '/api/tables/undo_a/restore')).status).toBe(404);
    // Removing another table lets the earlier one go; a table made meanwhile under the name is never overwritten.
    await t.call('DELETE', '/api/tables/undo_a');
    await t.call('DELETE', '/api/tables/undo_b');
    const gone = await t.json<{ error: { message: string } }>('POST', '/api/tables/undo_a/restore');
    expect(gone.status).toBe(404);
    expect(gone.body.error.message).toMatch(/not kept any more.*upload its file again/);
    expect((await t.call('POST', '/api/tables?name=undo_b', csv)).status).toBe(201);
    expect((await t.call('POST', '/api/tables/undo_b/restore')).status).toBe(409);
    await t.call('DELETE', '/api/tables/undo_b');
  });

  test('a CSV read as one column is marked unsure; POST /api/tables/:name/reimport reads it with options, and its error names the file and the line', async () => {
    type Listed = {
      name: string;
      columns: { name: string }[];
      rowCount: number;
      csv?: { delimiter: string; header: boolean; unsure: boolean };
    };
    const uploaded = 'id#name\n1#ann\n2#bob\n';
    expect((await t.call('POST', '/api/tables?name=hashes', uploaded)).status).toBe(201);
    const listed = (await t.json<{ tables: Listed[] }>('GET', '/api/tables')).body.tables;
    expect(listed.find((x) => x.name === 'hashes')).toMatchObject({ columns: [{ name: 'id#name' }], csv: { unsure: true } });
    // The sample tables are read as DuckDB detected them, and said so.
    expect(listed.find((x) => x.name === 'users')!.csv).toEqual({ delimiter: ',', quote: '"', header: true, unsure: false });
    const r = await t.json<Listed>('POST', '/api/tables/hashes/reimport', { delimiter: '#', quote: '"', header: true });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: 'hashes', rowCount: 2, columns: [{ name: 'id' }, { name: 'name' }] });
    const q = await t.json<{ rows: unknown[] }>('POST', '/api/query', { sql: 'select name from hashes order by id' });
    expect(q.body.rows).toEqual([{ name: 'ann' }, { name: 'bob' }]);
    // The file as uploaded is kept; each re-import reads it (header off: the first line becomes a row).
    expect(readFileSync(join(t.dir, 'data', '.originals', 'hashes.csv'), 'utf8')).toBe(uploaded);
    const again = await t.json<Listed>('POST', '/api/tables/hashes/reimport', { delimiter: '#', quote: '"', header: false });
    expect(again.body.rowCount).toBe(3);
    // Options the file does not fit (a line past the rows DuckDB samples to detect types has a field too many): the
    // error names the file and the line, and the table stays as it was.
    const bad = `id#name\n${Array.from({ length: 25_000 }, (_, i) => `${i}#n${i}\n`).join('')}25000#bob#extra\n`;
    expect((await t.call('POST', '/api/tables?name=hashes_bad', bad)).status).toBe(201);
    const refused = await t.json<{ error: { message: string; line?: number } }>('POST', '/api/tables/hashes_bad/reimport', {
      delimiter: '#',
      quote: '"',
      header: true,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toBe('data/hashes_bad.csv line 25,002: Expected Number of Columns: 2 Found: 3');
    expect(refused.body.error.line).toBe(25_002);
    expect(readFileSync(join(t.dir, 'data', 'hashes_bad.csv'), 'utf8')).toBe(bad);
    // A file whose first lines already break the options: DuckDB cannot read it at all, and says so; nothing is lost.
    expect((await t.call('POST', '/api/tables?name=hashes_worse', 'id#name\n1#ann\n2#bob#extra\n')).status).toBe(201);
    const worse = await t.json<{ error: { message: string } }>('POST', '/api/tables/hashes_worse/reimport', {
      delimiter: '#',
      quote: '"',
      header: true,
    });
    expect(worse.status).toBe(400);
    expect(worse.body.error.message).toMatch(/^data\/hashes_worse\.csv: /);
    expect(readFileSync(join(t.dir, 'data', 'hashes_worse.csv'), 'utf8')).toBe('id#name\n1#ann\n2#bob#extra\n');
    await t.call('DELETE', '/api/tables/hashes_worse');
    expect((await t.json('POST', '/api/tables/users/reimport', { delimiter: '##', quote: '"', header: true })).status).toBe(400);
    await t.call('DELETE', '/api/tables/hashes');
    await t.call('DELETE', '/api/tables/hashes_bad');
  });

  test('POST /api/query returns columns, the first rows, the total and the time', async () => {
    const { status, body } = await t.json<Record<string, unknown>>('POST', '/api/query', {
      sql: 'select id, plan from users order by id',
      limit: 2,
    });
    expect(status).toBe(200);
    expect(body.columns).toEqual([
      { name: 'id', type: 'VARCHAR' },
      { name: 'plan', type: 'VARCHAR' },
    ]);
    expect(body.rows).toEqual([
      { id: 'u_0001', plan: 'free' },
      { id: 'u_0002', plan: 'pro' },
    ]);
    expect(body.total).toBe(200);
    expect(typeof body.elapsedMs).toBe('number');
  });

  test("POST /api/query errors carry DuckDB's message with the line and column", async () => {
    const { status, body } = await t.json<{ error: Record<string, unknown> }>('POST', '/api/query', {
      sql: 'select id,\n  emial\nfrom users',
    });
    expect(status).toBe(400);
    expect(body.error.code).toBe('query_failed');
    expect(body.error.message).toMatch(/emial/);
    expect(body.error).toMatchObject({ line: 2, column: 3 });
  });

  test('POST /api/query validates its body and names the field', async () => {
    const { status, body } = await t.json<{ error: Record<string, unknown> }>('POST', '/api/query', { sql: 'select 1', limit: -1 });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'invalid_request', field: 'limit' });
  });

  test('POST /api/query/profile profiles every row of the result in DuckDB: nulls, distinct, min/max, top values', async () => {
    type Profile = { name: string; type: string; nulls: number; distinct: number; min: string | null; max: string | null; top: unknown[] };
    const { status, body } = await t.json<{ rows: number; columns: Profile[] }>('POST', '/api/query/profile', {
      // 3,000 rows: the counts are over the whole result, not the first 1,000 the grid shows. A trailing comment too.
      sql: `select i % 3 as k, case when i <= 1500 then i end as late, [i % 2] as l, 'x' as "odd name" from range(3000) t(i) -- all`,
    });
    expect(status).toBe(200);
    expect(body.rows).toBe(3000);
    const [k, late, l, odd] = body.columns;
    expect(k).toEqual({
      name: 'k',
      type: 'BIGINT',
      nulls: 0,
      distinct: 3,
      min: '0',
      max: '2',
      top: [
        { value: '0', count: 1000 },
        { value: '1', count: 1000 },
        { value: '2', count: 1000 },
      ],
    });
    expect(late).toMatchObject({ nulls: 1499, distinct: 1501, min: '0', max: '1500' });
    expect(late!.top).toHaveLength(5);
    // A nested type has no order to show; its values are counted as text.
    expect(l).toMatchObject({
      type: 'BIGINT[]',
      distinct: 2,
      min: null,
      max: null,
      top: [
        { value: '[0]', count: 1500 },
        { value: '[1]', count: 1500 },
      ],
    });
    expect(odd).toMatchObject({ name: 'odd name', distinct: 1, top: [{ value: 'x', count: 3000 }] });
    // The sandbox's rules hold: only one read statement.
    const refused = await t.json<{ error: { message: string } }>('POST', '/api/query/profile', { sql: 'create table t as select 1' });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/CREATE/);
  });

  test('POST /api/query with history: true keeps the statement in the workspace; GET /api/query/history lists them newest first', async () => {
    await t.json('POST', '/api/query', { sql: 'select 1 as one', history: true });
    await t.json('POST', '/api/query', { sql: 'select 2 as two' }); // a helper query: not kept
    await t.json('POST', '/api/query', { sql: 'select 3 as three', history: true });
    expect((await t.json('POST', '/api/query', { sql: 'select nope', history: true })).status).toBe(400); // failed: not kept
    await t.json('POST', '/api/query', { sql: 'select 1 as one', history: true }); // run again: moves to the top
    const { body } = await t.json<{ entries: { sql: string; rows: number; at: string }[] }>('GET', '/api/query/history');
    expect(body.entries.map((e) => e.sql)).toEqual(['select 1 as one', 'select 3 as three']);
    expect(body.entries[0]).toMatchObject({ rows: 1 });
    expect(Number.isNaN(Date.parse(body.entries[0]!.at))).toBe(false);
    // Kept in the workspace's folder, so a restarted server (or another browser) sees the same list.
    const file = JSON.parse(readFileSync(join(t.dir, '.syncline', 'query-history.json'), 'utf8')) as { entries: { sql: string }[] };
    expect(file.entries.map((e) => e.sql)).toEqual(['select 1 as one', 'select 3 as three']);
  });

  test('GET /api/completions lists tables, columns, functions and keywords', async () => {
    const { body } = await t.json<{
      tables: { name: string; columns: { name: string }[] }[];
      functions: { name: string }[];
      keywords: string[];
    }>('GET', '/api/completions');
    expect(body.tables.find((x) => x.name === 'users')!.columns.map((c) => c.name)).toContain('email');
    expect(body.functions.map((f) => f.name)).toContain('read_csv');
    expect(body.keywords).toContain('select');
  });

  test.each(['users', 'objects', 'audiences'])('GET /api/destinations/knock/fields?type=%s gives the catalog', async (type) => {
    const { status, body } = await t.json<{ fields: { name: string; type: string; description: string; rule?: string }[] }>(
      'GET',
      `/api/destinations/knock/fields?type=${type}`,
    );
    expect(status).toBe(200);
    expect(body.fields.length).toBeGreaterThan(0);
    for (const f of body.fields) expect(f.description).toBeTruthy();
    if (type === 'users') expect(body.fields).toContainEqual(expect.objectContaining({ name: 'email', rule: 'email' }));
  });

  test('GET /api/destinations/knock/fields refuses an unknown type', async () => {
    expect((await t.call('GET', '/api/destinations/knock/fields?type=tenants')).status).toBe(400);
  });

  test('POST /api/destinations/knock/check checks the emulator with one call and never returns the key', async () => {
    const r = await t.call('POST', '/api/destinations/knock/check');
    const text = await r.text();
    expect(r.status).toBe(200);
    expect(JSON.parse(text)).toMatchObject({ ok: true });
  });

  test('GET/PUT/DELETE /api/syncs/:name keep YAML configs that the CLI reads', async () => {
    const list = await t.json<{ syncs: { name: string; valid: boolean }[] }>('GET', '/api/syncs');
    expect(list.body.syncs).toEqual([expect.objectContaining({ name: 'example-users', valid: true, type: 'users' })]);
    const put = await t.json<{ file: string; yaml: string }>('PUT', '/api/syncs/pro-users', usersSync);
    expect(put.status).toBe(200);
    expect(put.body.file).toBe('syncs/pro-users.yaml');
    const yaml = readFileSync(join(t.dir, 'syncs', 'pro-users.yaml'), 'utf8');
    expect(yaml).toContain('name: pro-users');
    expect(yaml).toContain('users: ../data/users.csv');
    const { loadConfig } = await import('@syncline/cli');
    expect(loadConfig(join(t.dir, 'syncs', 'pro-users.yaml')).spec.fields).toEqual({ email: 'email', name: 'full_name' });
    const got = await t.json<{ config: Record<string, unknown> }>('GET', '/api/syncs/pro-users');
    expect(got.body.config).toMatchObject({ name: 'pro-users', key: 'id', sync: usersSync.sync });
    // Edited by hand, then saved from the browser: the comments survive, the change lands.
    writeFileSync(join(t.dir, 'syncs', 'pro-users.yaml'), `# owned by the data team\n${yaml.replace('key: id', 'key: id # warehouse id')}`);
    const edited = { ...usersSync, sync: { ...usersSync.sync, fields: { email: 'email' } } };
    expect((await t.json('PUT', '/api/syncs/pro-users', edited)).status).toBe(200);
    const again = readFileSync(join(t.dir, 'syncs', 'pro-users.yaml'), 'utf8');
    expect(again).toMatch(/^# owned by the data team\n/);
    expect(again).toContain('key: id # warehouse id');
    expect(loadConfig(join(t.dir, 'syncs', 'pro-users.yaml')).spec.fields).toEqual({ email: 'email' });
    expect((await t.call('DELETE', '/api/syncs/pro-users')).status).toBe(200);
    expect((await t.call('GET', '/api/syncs/pro-users')).status).toBe(404);
  });

  test('PUT /api/syncs/:name/yaml stores the text as written, comments included, and names the line of a mistake', async () => {
    const text = [
      '# Pro users, owned by the data team',
      'name: yaml-users',
      "model: select id, email, full_name from users where plan = 'pro'",
      'key: id # the warehouse id',
      'sync:',
      '  type: users',
      '  fields:',
      '    email: email # checked by Knock',
      '    name: full_name',
      '',
    ].join('\n');
    const put = await t.json<{ yaml: string; config: Record<string, unknown> }>('PUT', '/api/syncs/yaml-users/yaml', { yaml: text });
    expect(put.status).toBe(200);
    const file = readFileSync(join(t.dir, 'syncs', 'yaml-users.yaml'), 'utf8');
    expect(file).toBe(put.body.yaml);
    expect(file.startsWith(text)).toBe(true); // as typed; the server's defaults (source, destination) follow it
    expect(put.body.config).toMatchObject({ key: 'id', source: { type: 'duckdb' }, destination: { type: 'knock' } });
    const { loadConfig } = await import('@syncline/cli');
    expect(loadConfig(join(t.dir, 'syncs', 'yaml-users.yaml')).spec.fields).toEqual({ email: 'email', name: 'full_name' });
    // A second save of the stored text changes nothing: the defaults are not appended twice.
    const again = await t.json<{ yaml: string }>('PUT', '/api/syncs/yaml-users/yaml', { yaml: file });
    expect(again.body.yaml).toBe(file);
    // A schema mistake names the field and where it is in the text; a syntax error its line and column.
    const bad = await t.json<{ error: Record<string, unknown> }>('PUT', '/api/syncs/yaml-users/yaml', {
      yaml: text.replace('  type: users', '  type: objects'),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'config_invalid', field: 'sync.collection' });
    expect(bad.body.error.message).toMatch(/^line 6, column 3: sync\.collection: required for objects/);
    const broken = await t.json<{ error: Record<string, unknown> }>('PUT', '/api/syncs/yaml-users/yaml', { yaml: text + 'extra: [a\n' });
    expect(broken.status).toBe(400);
    expect(broken.body.error).toMatchObject({ code: 'config_invalid', field: 'yaml' });
    expect(broken.body.error.message).toMatch(/^line 11, column \d+: /);
    // Nothing refused reached the file.
    expect(readFileSync(join(t.dir, 'syncs', 'yaml-users.yaml'), 'utf8')).toBe(file);
    // A key typed into the text is refused as in the JSON route: it would land on disk.
    const keyed = await t.json<{ error: Record<string, unknown> }>('PUT', '/api/syncs/yaml-users/yaml', {
      yaml: text + 'destination:\n  type: knock\n  apiKey: sk_live_secret\n',
    });
    expect(keyed.status).toBe(400);
    expect(keyed.body.error.message).toMatch(/^line 12, column 11: destination\.apiKey: keys are not stored/);
    expect(JSON.stringify(keyed.body)).not.toContain('sk_live_secret');
  });

  test('PUT /api/syncs/:name names the field at fault', async () => {
    const { status, body } = await t.json<{ error: Record<string, unknown> }>('PUT', '/api/syncs/bad', {
      ...usersSync,
      sync: { type: 'objects', fields: {} },
    });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'config_invalid', field: 'sync.collection' });
    expect(body.error.message).toMatch(/^sync\.collection: required for objects/);
  });

  test('GET /api/syncs/:name/checks counts the values Knock would refuse per mapped field, over the whole model, with examples', async () => {
    const put = await t.json('PUT', '/api/syncs/checked', {
      model: `select * from (values ('u1', 'ann@@example', '+1-555', 'Europe/Paris', 7), ('u2', 'bob@example.com', '+14155550100', 'CET+1', 8),
        ('u3', null, '+33123456789', 'UTC', 9), ('u4', 'not an email', null, 'Mars/Base', 10)) t(id, email, phone, tz, n)`,
      key: 'id',
      sync: { type: 'users', fields: { email: 'email', phone_number: 'phone', timezone: 'tz', locale: 'n', name: 'id' } },
    });
    expect(put.status).toBe(200);
    const { status, body } = await t.json<{
      checks: { field: string; values: number; invalid: number; estimated: boolean; examples: string[]; message: string }[];
    }>('GET', '/api/syncs/checked/checks');
    expect(status).toBe(200);
    const by = Object.fromEntries(body.checks.map((c) => [c.field, c]));
    expect(Object.keys(by).sort()).toEqual(['email', 'locale', 'phone_number', 'timezone']); // name has no rule
    expect(by.email).toMatchObject({ values: 3, invalid: 2, estimated: false, examples: ['ann@@example', 'not an email'] });
    expect(by.email!.message).toBe('is not a valid email address');
    expect(by.phone_number).toMatchObject({ values: 3, invalid: 1, examples: ['+1-555'] });
    expect(by.timezone).toMatchObject({ values: 4, invalid: 2, examples: ['CET+1', 'Mars/Base'] });
    expect(by.locale).toMatchObject({ values: 4, invalid: 4, message: 'is a INTEGER, not text' });
    expect((await t.call('GET', '/api/syncs/nope/checks')).status).toBe(404);
  });

  test('POST /api/syncs/:name/test-row: one row as a run would send it alone, its issues, and Knock now; sends nothing', async () => {
    // The `checked` sync of the test above: u1 breaks three rules; u2 is in Knock already.
    const edit = await fetch(`${t.emulator.url}/v1/users/u2`, {
      method: 'PUT',
      headers: { authorization: 'Bearer sk_test_local', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Bob in Knock' }),
    });
    expect(edit.status).toBe(200);
    const writes = t.emulator.control.requests().filter((r) => r.method !== 'GET').length;
    type Tested = {
      request: { method: string; path: string; headers: Record<string, string>; body: Record<string, unknown> };
      issues: { field: string }[];
      current?: Record<string, unknown> | null;
      payload: Record<string, unknown>;
    };
    const u1 = await t.json<Tested>('POST', '/api/syncs/checked/test-row', { key: 'u1' });
    expect(u1.status).toBe(200);
    expect(u1.body.request).toMatchObject({ method: 'PUT', path: '/v1/users/u1', headers: { authorization: 'Bearer sk_…redacted' } });
    expect(u1.body.request.body).toMatchObject({ email: 'ann@@example', phone_number: '+1-555', timezone: 'Europe/Paris', name: 'u1' });
    expect(u1.body.issues.map((i) => i.field).sort()).toEqual(['email', 'locale', 'phone_number']);
    expect(u1.body.current).toBeNull();
    const u2 = await t.json<Tested>('POST', '/api/syncs/checked/test-row', { key: 'u2' });
    expect(u2.body.current).toMatchObject({ id: 'u2', name: 'Bob in Knock' });
    expect(u2.body.request.body).toMatchObject({ email: 'bob@example.com', name: 'u2' });
    // Nothing was written to Knock.
    expect(t.emulator.control.requests().filter((r) => r.method !== 'GET').length).toBe(writes);
    const missing = await t.json<{ error: { code: string; message: string } }>('POST', '/api/syncs/checked/test-row', { key: 'u9' });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe('no row of the model has id = "u9"');
    expect((await t.call('POST', '/api/syncs/checked/test-row', {})).status).toBe(400);
  });

  test('GET /api/openapi.json is an OpenAPI 3.1 document of every route', async () => {
    const r = await t.server.app.request('/api/openapi.json', { headers: { authorization: 'Bearer test-token-0123456789' } });
    const doc = (await r.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    const routes = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    for (const route of [
      'GET /api/health',
      'GET /api/tables',
      'POST /api/tables',
      'DELETE /api/tables/{name}',
      'POST /api/tables/{name}/restore',
      'POST /api/tables/{name}/reimport',
      'POST /api/query',
      'POST /api/query/profile',
      'GET /api/query/history',
      'GET /api/completions',
      'GET /api/destinations/knock/fields',
      'POST /api/destinations/knock/check',
      'GET /api/syncs',
      'GET /api/syncs/{name}',
      'PUT /api/syncs/{name}',
      'DELETE /api/syncs/{name}',
      'POST /api/syncs/{name}/plan',
      'GET /api/syncs/{name}/checks',
      'POST /api/syncs/{name}/test-row',
      'POST /api/syncs/{name}/run',
      'POST /api/runs/{runId}/cancel',
      'GET /api/syncs/{name}/runs',
      'GET /api/runs/{runId}',
      'GET /api/runs/{runId}/events',
      'GET /api/runs/{runId}/exchanges',
    ])
      expect(routes).toContain(route);
  });

  test('an unknown /api route is a JSON 404; / says the playground is not built', async () => {
    const r = await t.call('GET', '/api/nope');
    expect(r.status).toBe(404);
    expect(await r.json()).toMatchObject({ error: { code: 'not_found' } });
    const page = await t.server.app.request('/', { headers: { host: '127.0.0.1' } });
    expect(await page.text()).toMatch(/playground is not built/);
  });

  test('serves the built playground at / (and its files) when it is present', async () => {
    const dist = mkdtempSync(join(tmpdir(), 'syncline-dist-'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>Playground</title>');
    writeFileSync(join(dist, 'app.js'), 'console.log(1)');
    const s = createServer({ dir: t.dir, token: 'x'.repeat(20), playgroundDir: dist, log: () => undefined });
    try {
      expect(await (await s.app.request('/')).text()).toMatch(/<title>Playground<\/title>/);
      expect(await (await s.app.request('/app.js')).text()).toBe('console.log(1)');
      expect(await (await s.app.request('/data')).text()).toMatch(/Playground/); // client-side routes get index.html
    } finally {
      await s.close();
    }
  });
});
