import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '@syncline/knock-emulator';
import { openDuckdbLedger } from '@syncline/core';
import { main } from '../src/index.js';
import { captureIo, copyExample, runBin, startBin } from './cli-io.js';

const API_KEY = 'sk_test_first_sync';

let emulator: RunningEmulator;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  emulator = await startEmulator({ port: 0, logBodies: true, bulkDelayMs: 50 });
  dir = copyExample('users', 'syncline-first-');
  env = { ...process.env, KNOCK_API_KEY: API_KEY, KNOCK_BASE_URL: emulator.url };
});
afterEach(async () => emulator.close());

const config = (): string => join(dir, 'sync.yaml');
const csv = (): { header: string; rows: string[][] } => {
  const [header, ...lines] = readFileSync(join(dir, 'users.csv'), 'utf8').trim().split('\n');
  return { header: header!, rows: lines.map((l) => l.split(',')) };
};
const writeCsv = (header: string, rows: string[][]): void =>
  writeFileSync(join(dir, 'users.csv'), [header, ...rows.map((r) => r.join(','))].join('\n') + '\n');
const setOnDelete = (v: 'nothing' | 'delete'): void =>
  writeFileSync(config(), readFileSync(config(), 'utf8').replace(/onDelete: \w+/, `onDelete: ${v}`));

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string; last: Record<string, unknown> }> {
  const io = captureIo(env);
  const code = await main(args, io);
  const lines = io.out().trim().split('\n');
  let last = {};
  try {
    last = JSON.parse(lines.at(-1)!);
  } catch {
    /* not --json */
  }
  return { code, out: io.out(), err: io.err(), last };
}

const getUser = async (id: string): Promise<{ status: number; body: Record<string, unknown> | null }> => {
  const res = await fetch(`${emulator.url}/v1/users/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${API_KEY}` } });
  return { status: res.status, body: res.status === 200 ? ((await res.json()) as Record<string, unknown>) : null };
};
const v1Requests = () => emulator.control.requests().filter((r) => r.path.startsWith('/v1/'));

describe('the first sync: examples/users against the Knock emulator over HTTP', () => {
  test('the first run syncs all 200 users with every mapped field', async () => {
    const r = await cli('run', config(), '--json');
    expect(r.code).toBe(0);
    expect(r.last).toMatchObject({
      status: 'succeeded',
      dryRun: false,
      rows: { added: 200, changed: 0, removed: 0, unchanged: 0, invalid: 0, failed: 0, synced: 200 },
    });
    expect(r.last.runId).toMatch(/^r_/);
    expect(r.last.requests).toBeGreaterThan(0);
    for (const row of csv().rows) {
      const [id, email, fullName, phone, timezone, plan] = row;
      const u = await getUser(id!);
      expect(u.status).toBe(200);
      expect(u.body).toMatchObject({ id, email, name: fullName, phone_number: phone, timezone, plan });
    }
  });

  test('a second run with no change sends zero requests and reports 200 unchanged', async () => {
    await cli('run', config());
    emulator.control.clearRequests();
    const r = await cli('run', config(), '--json');
    expect(r.last).toMatchObject({
      status: 'succeeded',
      requests: 0,
      rows: { unchanged: 200, added: 0, changed: 0, removed: 0, synced: 0 },
    });
    expect(v1Requests()).toHaveLength(0);
  });

  test.each(['nothing', 'delete'] as const)('3 edited and 2 deleted rows send exactly the 3 changes (onDelete: %s)', async (onDelete) => {
    setOnDelete(onDelete);
    await cli('run', config());
    const { header, rows } = csv();
    const edited = [rows[10]!, rows[50]!, rows[120]!];
    edited[0]![5] = 'enterprise';
    edited[1]![1] = 'changed.address@example.com';
    edited[2]![2] = 'Renamed Person';
    const removed = [rows[3]![0]!, rows[77]![0]!];
    writeCsv(
      header,
      rows.filter((r) => !removed.includes(r[0]!)),
    );
    emulator.control.clearRequests();

    const plan = await cli('plan', config(), '--json');
    // Under onDelete: nothing the two leavers are left in Knock: never counted as deletes.
    const gone = onDelete === 'delete' ? { delete: 2, left_in_knock: 0 } : { delete: 0, left_in_knock: 2 };
    expect(plan.last).toMatchObject({ summary: { add: 0, change: 3, unchanged: 195, ...gone } });
    // The plan's one cheap read that checks the key (issue 9 §2), and no write.
    expect(v1Requests().map((x) => `${x.method} ${x.path}`)).toEqual(['GET /v1/users']);
    emulator.control.clearRequests();

    const r = await cli('run', config(), '--json');
    expect(r.last).toMatchObject({
      status: 'succeeded',
      rows: { changed: 3, unchanged: 195, synced: onDelete === 'delete' ? 5 : 3, removed: gone.delete, kept: gone.left_in_knock },
    });
    const sent = v1Requests();
    const upserted = sent.flatMap((x) =>
      x.method === 'PUT'
        ? [decodeURIComponent(x.path.split('/').at(-1)!)]
        : x.path.endsWith('/bulk/identify')
          ? (x.body as { users: { id: string }[] }).users.map((u) => u.id)
          : [],
    );
    expect(upserted.sort()).toEqual(edited.map((e) => e[0]).sort());
    for (const e of edited) expect((await getUser(e[0]!)).body).toMatchObject({ plan: e[5], email: e[1], name: e[2] });
    for (const id of removed) expect((await getUser(id)).status).toBe(onDelete === 'delete' ? 404 : 200);
    // One GET checks the key before the first write; with onDelete: nothing every write is an upsert.
    expect(sent.filter((x) => x.method === 'GET').map((x) => x.path)).toEqual(['/v1/users']);
    if (onDelete === 'nothing') expect(sent.filter((x) => x.method !== 'GET').every((x) => x.method === 'PUT')).toBe(true);
  });

  test('the ledger commits only rows the emulator confirmed: error_items and failed jobs stay out and are resent', async () => {
    const { rows } = csv();
    // The bulk job fails these two items; the destination's single retry is also refused (a 422 for that id).
    emulator.control.setBulkFaults({ failItemIds: [rows[20]![0]!, rows[150]![0]!] });
    emulator.control.addFault({
      match: 'PUT /v1/users/{user_id}',
      status: 422,
      count: null,
      body: JSON.stringify({
        code: 'invalid_params',
        message: 'bad',
        status: 422,
        type: 'invalid_request_error',
        errors: [{ field: 'email', message: 'is invalid', type: 'format' }],
      }),
    });
    const first = await cli('run', config(), '--json');
    expect(first.code).toBe(1);
    expect(first.last).toMatchObject({ status: 'partial' });
    const failed = (first.last.rows as { failed: number }).failed;
    expect(failed).toBeGreaterThanOrEqual(2);

    {
      await using ledger = await openDuckdbLedger({ path: join(dir, '.syncline', 'example-users.duckdb') });
      for (const row of rows) {
        const inSnapshot = (await ledger.snapshotRow(row[0]!)) !== null;
        const u = await getUser(row[0]!);
        // A key is in the snapshot exactly when Knock holds that user.
        expect({ id: row[0], inSnapshot }).toEqual({ id: row[0], inSnapshot: u.status === 200 });
      }
      expect(await ledger.snapshotRow(rows[20]![0]!)).toBeNull();
      expect(await ledger.snapshotSize()).toBe(200 - failed);
    }
    emulator.control.clearFaults();
    emulator.control.setBulkFaults({});
    const second = await cli('run', config(), '--json');
    expect(second.last).toMatchObject({ status: 'succeeded', rows: { added: failed, synced: failed, unchanged: 200 - failed } });
    expect((await getUser(rows[20]![0]!)).status).toBe(200);
  });

  test('syncline run as a process: --json ends with the summary line; Ctrl-C twice leaves unconfirmed rows out of the ledger', async () => {
    emulator.control.setBulkFaults({ stall: true });
    const child = startBin(['run', config(), '--json'], { env });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', () => undefined);
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
    // Wait for the bulk identify to be accepted (it then stays processing).
    const deadline = Date.now() + 20_000;
    while (!v1Requests().some((x) => x.path === '/v1/users/bulk/identify' && x.status === 200) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGINT');
    const code = await exited;
    expect(code).toBe(130);
    const last = JSON.parse(out.trim().split('\n').at(-1)!);
    expect(last).toMatchObject({ status: 'aborted', dryRun: false });
    const bulkIds = v1Requests()
      .filter((x) => x.path === '/v1/users/bulk/identify')
      .flatMap((x) => (x.body as { users: { id: string }[] }).users.map((u) => u.id));
    expect(bulkIds.length).toBeGreaterThan(100);
    await using ledger = await openDuckdbLedger({ path: join(dir, '.syncline', 'example-users.duckdb') });
    for (const id of bulkIds) expect(await ledger.snapshotRow(id)).toBeNull();
  });

  test('a first run prints its ETA at the tier ceiling once the model is staged, before the diff (issue 9 §4)', async () => {
    const first = await runBin(['run', config()], env);
    expect(first.code).toBe(0);
    const lines = first.err.split('\n');
    const eta = lines.findIndex((l) => /^Send: 200 changes · ETA ≈ \d+s at Knock's rate limits$/.test(l));
    const staged = lines.findIndex((l) => /stage model: 200 rows/.test(l));
    const diffed = lines.findIndex((l) => /diff: \+200 ~0 -0/.test(l));
    // Nothing confirmed yet, so every row is an add: the line comes before the stage's own line, right
    // after the header, and is not repeated when the diff agrees.
    expect(lines.findIndex((l) => l.startsWith('Syncline '))).toBeLessThan(eta);
    expect(eta).toBeGreaterThanOrEqual(0);
    expect(eta).toBeLessThan(staged);
    expect(staged).toBeLessThan(diffed);
    expect(lines.filter((l) => l.startsWith('Send: '))).toHaveLength(1);
    // A later run knows its changes only from the diff: its line comes after the stage's.
    const { header, rows } = csv();
    writeCsv(header, [...rows, ['u_new', ...rows[0]!.slice(1)]]);
    const again = (await runBin(['run', config()], env)).err.split('\n');
    expect(again.findIndex((l) => l.startsWith('Send: 1 changes'))).toBeGreaterThan(
      again.findIndex((l) => /stage model: 201 rows/.test(l)),
    );
    expect(again.filter((l) => l.startsWith('Send: '))).toHaveLength(1);
  }, 60_000);

  test('plan prints its choice of calls by estimated finish time, at the tiers of the config (issue 10)', async () => {
    const paced = await cli('plan', config());
    // 200 rows: one bulk job (≈ 1.5 s) finishes before 200 single calls at 60/s (≈ 3.3 s).
    expect(paced.out).toMatch(/Plan: bulk jobs only \(≈ 2s\); single calls would not finish sooner\./);
    expect(paced.out).toMatch(/Requests \(Knock rate limits\):/);
    const text = readFileSync(config(), 'utf8');
    writeFileSync(config(), text.replace('{ type: knock }', '{ type: knock, tiers: { 3: 600 } }'));
    // At 600 single calls/s, 200 single calls (≈ 0.3 s) finish first.
    expect((await cli('plan', config())).out).toMatch(/Plan: single calls only \(≈ 1s\), sooner than a bulk job \(≈ 2s\)\./);
    writeFileSync(config(), text.replace('{ type: knock }', '{ type: knock, tiers: off }'));
    expect((await cli('plan', config())).out).toMatch(/Requests \(pacing off: tiers: off in the config\):/);
    writeFileSync(config(), text);
  });

  test('with tiers off a big plan is bulk jobs only: single calls would only add ledger work (issue 10)', async () => {
    const { header, rows } = csv();
    // 30,000 rows: 30 jobs at 20/s finish in ≈ 2.95 s, 3,000 single calls beside 27 jobs in ≈ 2.8 s, but
    // the ledger writes every row at ~10,000 rows/s (≈ 3 s) and each call adds to that (3.015 s → "4s").
    const big = Array.from({ length: 30_000 }, (_, i) => [`big${i}`, ...rows[i % rows.length]!.slice(1)]);
    writeCsv(header, big);
    writeFileSync(config(), readFileSync(config(), 'utf8').replace('{ type: knock }', '{ type: knock, tiers: off }'));
    const r = await cli('plan', config());
    expect(r.out).toMatch(/Plan: bulk jobs only \(≈ 4s, bound by ledger writes at ~10,000 rows\/s\); single calls would only add calls\./);
    expect(r.out).not.toMatch(/PUT \/v1\/users\/\{user_id\}/);
  }, 60_000);

  test('bad config exits 2 naming the line; a missing API key exits 2', async () => {
    writeFileSync(config(), readFileSync(config(), 'utf8').replace('key: id', 'key: id\nkye: id'));
    const bad = await cli('plan', config());
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/sync\.yaml:7:1 kye: unknown key/);
    writeFileSync(config(), readFileSync(config(), 'utf8').replace('\nkye: id', ''));
    env = { ...env, KNOCK_API_KEY: '' };
    const nokey = await cli('run', config());
    expect(nokey.code).toBe(2);
    expect(nokey.err).toMatch(/no Knock API key: set KNOCK_API_KEY/);
  });
});
