import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '@syncline/knock-emulator';
import { copyExample, runBin, snapshotSize as ledgerSnapshotSize } from './cli-io.js';

const API_KEY = 'sk_test_saved_plan';

let emulator: RunningEmulator;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  emulator = await startEmulator({ port: 0, bulkDelayMs: 20 });
  dir = copyExample('users', 'syncline-saved-plan-');
  env = { ...process.env, KNOCK_API_KEY: API_KEY, KNOCK_BASE_URL: emulator.url, NO_COLOR: '1' };
});
afterEach(async () => emulator.close());

const config = (): string => join(dir, 'sync.yaml');
/** The real `syncline` bin in its own process. */
const syncline = (...args: string[]) => runBin(args, env);
const writes = () => emulator.control.requests().filter((r) => r.path.startsWith('/v1/') && r.method !== 'GET');
const snapshotSize = (): Promise<number> => ledgerSnapshotSize(join(dir, '.syncline', 'example-users.duckdb'));

describe('plan --json, plan --out and run --plan', () => {
  test('plan --json prints the summary and a sample of --limit changes, not every change', async () => {
    const r = await syncline('plan', config(), '--json', '--limit', '3');
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out) as { summary: { add: number }; changes: { action: string }[] };
    expect(doc.summary.add).toBe(200);
    expect(doc.changes.filter((c) => c.action === 'add')).toHaveLength(3);
    const byDefault = JSON.parse((await syncline('plan', config(), '--json')).out) as { changes: unknown[] };
    expect(byDefault.changes).toHaveLength(10);
  }, 60_000);

  test('plan --out writes every change; run --plan sends exactly that plan, and refuses it (exit 2) once the model moved', async () => {
    const planFile = join(dir, 'plan.json');
    const p = await syncline('plan', config(), '--out', planFile);
    expect(p.code, p.err).toBe(0);
    const [header, ...lines] = readFileSync(planFile, 'utf8').trim().split('\n');
    const h = JSON.parse(header!) as { kind: string; digests: Record<string, string>; summary: { add: number }; config_path: string };
    expect(h).toMatchObject({ kind: 'syncline.plan', summary: { add: 200 }, config_path: config() });
    expect(lines).toHaveLength(200);
    const changes = lines.map((l) => JSON.parse(l) as { action: string; key: string; payload: Record<string, unknown> });
    expect(changes.every((c) => c.action === 'add')).toBe(true);
    // Ordered by key, as the plan document promises.
    expect(changes.map((c) => c.key)).toEqual(changes.map((c) => c.key).sort());
    expect(changes[0]!.payload).toHaveProperty('email');

    const r = await syncline('run', '--plan', planFile);
    expect(r.code, r.err + r.out).toBe(0);
    expect(r.err.split('\n')[0]).toMatch(/ETA ≈ \d/);
    expect(await snapshotSize()).toBe(200);

    // A new plan, then the model moves: the saved plan is refused before anything is sent.
    const second = join(dir, 'plan2.json');
    writeFileSync(join(dir, 'users.csv'), readFileSync(join(dir, 'users.csv'), 'utf8').replace(',pro,', ',enterprise,'));
    expect((await syncline('plan', config(), '--out', second)).code).toBe(0);
    writeFileSync(join(dir, 'users.csv'), readFileSync(join(dir, 'users.csv'), 'utf8').replace(',free,', ',team,'));
    const before = writes().length;
    const stale = await syncline('run', '--plan', second);
    expect(stale.code).toBe(2);
    expect(stale.out + stale.err).toMatch(/saved plan is out of date: the model changed/);
    expect(writes().length).toBe(before);
    // A plan for another config is refused too, naming both files.
    const other = await syncline('run', join(dir, 'other.yaml'), '--plan', second);
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/was made for .*sync\.yaml/);
  }, 120_000);

  test('--max-rows spreads a first sync over several runs, each committing what it confirmed', async () => {
    const first = await syncline('run', config(), '--max-rows', '120', '--json');
    expect(first.code, first.err).toBe(0);
    const r1 = JSON.parse(first.out.trim().split('\n').at(-1)!) as { status: string; rows: { synced: number }; remaining: number };
    expect(r1, first.out + first.err).toMatchObject({ status: 'stopped', rows: { synced: 120 }, remaining: 80 });
    expect(await snapshotSize()).toBe(120);

    const second = await syncline('run', config(), '--max-rows', '120');
    expect(second.code, second.err).toBe(0);
    expect(second.err).toMatch(/Send: 80 changes · ETA ≈ \d/);
    expect(second.out).toMatch(/completed/);
    expect(await snapshotSize()).toBe(200);
    expect((await syncline('run', config(), '--json')).out).toMatch(/"status":"succeeded"/);
  }, 120_000);

  test('--max-duration stops cleanly; bad limits are usage errors naming the option', async () => {
    const bad = await syncline('run', config(), '--max-duration', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--max-duration "soon": expected a duration/);
    const rows = await syncline('run', config(), '--max-rows', '0');
    expect(rows.code).toBe(2);
    expect(rows.err).toMatch(/--max-rows "0": expected a whole number above 0/);
    const none = await syncline('run');
    expect(none.code).toBe(2);
    expect(writes()).toEqual([]);
  }, 60_000);
});
