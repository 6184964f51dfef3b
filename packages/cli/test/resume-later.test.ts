import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '@syncline/knock-emulator';
import { cliAgainst, copyExample, generatedUsersSync } from './cli-io.js';

const API_KEY = 'sk_test_resume_later';
const BULK = 'POST /v1/users/bulk/identify';

let emulator: RunningEmulator;
let dir: string;

beforeEach(async () => {
  emulator = await startEmulator({ port: 0, bulkDelayMs: 50 });
  dir = copyExample('users', 'syncline-resume-');
});
afterEach(async () => emulator.close());

const cli = cliAgainst(() => emulator, API_KEY);

const users = async (): Promise<number> => {
  let n = 0;
  let after: string | null = null;
  do {
    const res = await fetch(`${emulator.url}/v1/users?page_size=50${after ? `&after=${after}` : ''}`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    const page = (await res.json()) as { entries: unknown[]; page_info: { after: string | null } };
    n += page.entries.length;
    after = page.page_info.after;
  } while (after);
  return n;
};

describe('a Retry-After longer than the destination waits (H-03)', () => {
  test('the run stops within 2 s of the 429, commits what was confirmed, exits 75 with the resume time; the next run completes', async () => {
    // 2,500 users go out as three bulk jobs of 1,000 (1 POST/s). Knock accepts the first and closes the
    // endpoint for 600 s on the second: the third is never sent. Both fail as rate_limited_resume_later.
    const config = generatedUsersSync(dir, 2500, 'many').config;
    let armed = false;
    const arm = setInterval(() => {
      if (armed || !emulator.control.requests().some((e) => e.route === BULK)) return;
      armed = true;
      emulator.control.addFault({ match: BULK, status: 429, retryAfterMs: 600_000, count: 1 });
    }, 5);
    const r = await cli('run', config, '--json').finally(() => clearInterval(arm));
    const ended = Date.now();
    expect(r.code).toBe(75);
    expect(r.last).toMatchObject({ status: 'resume_later', dryRun: false, rows: { added: 2500, synced: 1000, failed: 1500 } });
    const throttled = emulator.control.requests().find((e) => e.status === 429)!;
    expect(throttled.route).toBe(BULK);
    // The Retry-After header was 600 s (seconds mode): resume no earlier than that, measured from the 429.
    const resumeAt = Date.parse(r.last.resumeAt as string);
    expect(resumeAt - Date.parse(throttled.time)).toBeGreaterThanOrEqual(599_000);
    expect(resumeAt - Date.parse(throttled.time)).toBeLessThan(602_000);
    expect(ended - Date.parse(throttled.time)).toBeLessThan(2000);
    expect(emulator.control.requests().filter((e) => e.route === BULK)).toHaveLength(2);
    expect(await users()).toBe(1000);

    const resumed = await cli('run', config, '--json');
    expect(resumed.code).toBe(0);
    expect(resumed.last).toMatchObject({ status: 'succeeded', rows: { added: 1500, synced: 1500, failed: 0 } });
    expect(resumed.last.resumeAt).toBeUndefined();
    expect(await users()).toBe(2500);
  });

  test('prints when to run again, never the API key', async () => {
    emulator.control.addFault({ match: BULK, status: 429, retryAfterMs: 600_000, count: 1 });
    const r = await cli('run', join(dir, 'sync.yaml'));
    expect(r.code).toBe(75);
    expect(r.out).toMatch(/paused: Knock asked to wait until \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z \(rate limited\)/);
    expect(r.out).toMatch(/rate_limited_resume_later/);
    expect(r.out).toMatch(/Next: syncline run .*sync\.yaml {2}\(after \d{4}-/);
    expect(r.out + r.err).not.toContain(API_KEY);
  });
});
