import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { tempWorkspace, testServer } from './helpers.js';

// Issue 14: `syncline serve` runs the workspace's scheduled syncs too, and shows the next run time.
test(
  'a served workspace runs its scheduled syncs through the run manager and lists their next run time',
  { timeout: 120_000 },
  async () => {
    const dir = await tempWorkspace();
    appendFileSync(join(dir, 'syncs', 'example-users.yaml'), 'schedule: { every: 1s }\n');
    const t = await testServer({ dir, schedule: true });
    try {
      const deadline = Date.now() + 90_000;
      let runs: { status: string }[] = [];
      while (Date.now() < deadline) {
        runs = (await t.json<{ runs: { status: string }[] }>('GET', '/api/syncs/example-users/runs')).body.runs;
        if (runs.filter((r) => r.status === 'succeeded').length >= 2) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      // The first scheduled run sent the 200 sample users; the next found nothing to send.
      expect(runs.filter((r) => r.status === 'succeeded').length).toBeGreaterThanOrEqual(2);
      expect(t.emulator.control.requests().some((e) => e.route === 'POST /v1/users/bulk/identify')).toBe(true);
      const list = await t.json<{ syncs: { name: string; schedule?: unknown; nextRunAt?: string | null }[] }>('GET', '/api/syncs');
      const sync = list.body.syncs.find((s) => s.name === 'example-users')!;
      expect(sync.schedule).toEqual({ every: '1s' });
      expect(Date.parse(sync.nextRunAt!)).toBeGreaterThan(Date.now() - 5_000);
      expect(t.logs).toContain('Scheduling 1 sync: example-users');
      expect(t.logs.some((l) => /example-users: next run at \S+/.test(l))).toBe(true);
    } finally {
      await t.close();
    }
    // Stopped with the server: no run starts after close.
    const after = t.emulator.control.requests().length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(t.emulator.control.requests().length).toBe(after);
  },
);
