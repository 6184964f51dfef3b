import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBin } from './cli-io.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '@syncline/knock-emulator';

// Issue 11 §5: the mass-delete guard also holds over a rolling 24 h, against the snapshot at the window's
// start; plan shows the running total. Real bin, real emulator.
let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0, bulkDelayMs: 10, rateLimits: false });
});
afterAll(async () => emulator.close());

const cli = (...args: string[]) => runBin(args, { KNOCK_API_KEY: 'sk_test_window', KNOCK_BASE_URL: emulator.url });

describe('rolling mass-delete guard', { timeout: 300_000 }, () => {
  test('deletions that each stay under maxDeleteShare are refused once they add up within 24 h; plan shows the total', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syncline-window-'));
    const users = (n: number) =>
      writeFileSync(
        join(dir, 'users.csv'),
        ['id,email', ...Array.from({ length: n }, (_, i) => `u${i},u${i}@example.com`)].join('\n') + '\n',
      );
    writeFileSync(
      join(dir, 'sync.yaml'),
      [
        'name: window',
        'source: { type: duckdb, tables: { users: ./users.csv } }',
        'model: select * from users',
        'key: id',
        'destination: { type: knock }',
        'sync: { type: users, mode: upsert, fields: { email: email }, onDelete: delete }',
        'maxDeleteShare: 0.2',
        '',
      ].join('\n'),
    );
    const config = join(dir, 'sync.yaml');
    users(100);
    expect((await cli('run', config)).code).toBe(0);
    users(85); // 15 % of 100
    expect((await cli('run', config)).code).toBe(0);
    users(75); // 10 more: 11.8 % of this run's 85, but 25 % of the 100 at the window's start
    const plan = await cli('plan', config);
    expect(plan.out).toContain("Deletes in the last 24 h: 15 + 10 planned = 25 % of the 100 rows synced at the window's start");
    expect(plan.out).toContain('limit 20 %');
    const deletes = () => emulator.control.requests().filter((e) => e.method === 'DELETE' || e.path.endsWith('/bulk/delete')).length;
    const before = deletes();
    const refused = await cli('run', config);
    expect(refused.code).toBe(3);
    expect(refused.out + refused.err).toMatch(
      /15 rows deleted in the last 24 h \(since .*\) \+ 10 now = 25 ?% of the 100 synced rows at the window's start, above this sync's limit \(20 ?%\)/,
    );
    expect(deletes()).toBe(before);
    const allowed = await cli('run', config, '--allow-mass-delete');
    expect(allowed.code).toBe(0);
    expect(deletes()).toBeGreaterThan(before);
  });
});
