import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { openDuckdbLedger } from '@syncline/core';
import { readAlertDeliveries } from '@syncline/alerts';
import { startEmulator } from '@syncline/knock-emulator';
import { main } from '../src/index.js';
import { captureIo } from './cli-io.js';
import { deadUrl, startReceiver } from '@syncline/test-utils/http-receiver';

const KEY = 'sk_test_alerts_cli';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

/** The example users sync in a fresh folder. */
function exampleDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-alerts-'));
  cpSync(fileURLToPath(new URL('../../../examples/users/', import.meta.url)), dir, {
    recursive: true,
    filter: (s) => !s.includes('.syncline'),
  });
  return dir;
}

describe('syncline run with alerts', () => {
  test("sends one alert per change of status (failed → failed → recovered) from the folder's syncline.yaml; a down receiver changes no exit code", async () => {
    const emulator = await startEmulator({ port: 0, bulkDelayMs: 10, apiKeys: [KEY] });
    const slack = await startReceiver();
    closers.push(emulator.close, slack.close);
    const dir = exampleDir();
    writeFileSync(
      join(dir, 'syncline.yaml'),
      [
        'alerts:',
        '  - channel: slack',
        '    url: ${SLACK_WEBHOOK_URL}',
        '    on: [failed, recovered]',
        '  - channel: webhook',
        `    url: ${await deadUrl()}/hooks`,
        '    secret: ${WEBHOOK_SECRET}',
      ].join('\n'),
    );
    const config = join(dir, 'sync.yaml');
    const outputs: string[] = [];
    const env = {
      ...process.env,
      KNOCK_BASE_URL: emulator.url,
      SLACK_WEBHOOK_URL: `${slack.url}/services/T0/B0/SLACKSECRET`,
      WEBHOOK_SECRET: 'whsec_WEBHOOKSECRET_0123',
    };
    const run = async (key: string) => {
      const io = captureIo({ ...env, KNOCK_API_KEY: key });
      const code = await main(['run', config], io);
      outputs.push(io.out(), io.err());
      return { code, err: io.err() };
    };
    const first = await run('sk_test_wrong_key');
    expect(first.code).toBe(3);
    expect(first.err).toContain('Alert slack-1 (slack, failed) sent');
    expect(first.err).toContain(
      'Alert webhook-2 (webhook, failed) not delivered after 3 attempts: request failed: ECONNREFUSED; the next run tries again',
    );
    expect((await run('sk_test_wrong_key')).code).toBe(3);
    const third = await run(KEY);
    expect(third.code).toBe(0);
    expect(third.err).toContain('Alert slack-1 (slack, recovered) sent');
    expect(slack.requests.map((r) => JSON.parse(r.body).text as string)).toEqual([
      expect.stringMatching(/^Syncline: example-users failed \(run r_\w+\)$/),
      expect.stringMatching(/^Syncline: example-users recovered \(run r_\w+\)$/),
    ]);
    expect(slack.requests[0]!.body).toContain(`syncline runs show ${config}`);
    // The deliveries are recorded with the run; no secret anywhere.
    await using ledger = await openDuckdbLedger({ path: join(dir, '.syncline', 'example-users.duckdb') });
    const [last] = await ledger.runs(1);
    // The webhook never took its `failed` alert, so its state stayed ok: nothing to recover from.
    expect((await readAlertDeliveries(ledger, last!.runId)).map((d) => [d.alert, d.event, d.ok])).toEqual([['slack-1', 'recovered', true]]);
    await ledger.close();
    // `syncline runs show` lists them.
    const show = captureIo(env);
    expect(await main(['runs', 'show', config, last!.runId], show)).toBe(0);
    expect(show.out()).toContain('  alert   slack-1 (slack, recovered) delivered (1 attempt)\n');
    const all = outputs.join('\n') + show.out();
    for (const secret of ['SLACKSECRET', 'WEBHOOKSECRET', KEY]) expect(all).not.toContain(secret);
  });

  test("a sync's own alerts: replace the folder's; `alerts: []` turns them off", async () => {
    const emulator = await startEmulator({ port: 0, bulkDelayMs: 10, apiKeys: [KEY] });
    const folder = await startReceiver();
    const own = await startReceiver();
    closers.push(emulator.close, folder.close, own.close);
    const dir = exampleDir();
    writeFileSync(join(dir, 'syncline.yaml'), `alerts:\n  - { channel: slack, url: "${folder.url}/folder" }\n`);
    const base = readFileSync(join(dir, 'sync.yaml'), 'utf8');
    writeFileSync(
      join(dir, 'own.yaml'),
      base.replace('name: example-users', 'name: own') + `alerts:\n  - { channel: slack, url: "${own.url}/own" }\n`,
    );
    writeFileSync(join(dir, 'off.yaml'), base.replace('name: example-users', 'name: off') + 'alerts: []\n');
    // A rejected key: every run fails.
    const env = { ...process.env, KNOCK_BASE_URL: emulator.url, KNOCK_API_KEY: 'sk_test_wrong_key' };
    for (const f of ['sync.yaml', 'own.yaml', 'off.yaml']) await main(['run', join(dir, f)], captureIo(env));
    expect(folder.requests.map((r) => r.path)).toEqual(['/folder']);
    expect(own.requests.map((r) => r.path)).toEqual(['/own']);
  });
});

describe('syncline alerts test', () => {
  test('sends a test alert to every channel and says which did not take it', async () => {
    const ok = await startReceiver();
    const gone = await startReceiver({ ok: 404 });
    closers.push(ok.close, gone.close);
    const dir = exampleDir();
    writeFileSync(
      join(dir, 'syncline.yaml'),
      `alerts:\n  - { channel: slack, url: "${ok.url}/a" }\n  - { channel: slack, name: old-hook, url: "${gone.url}/b" }\n`,
    );
    const io = captureIo(process.env);
    expect(await main(['alerts', 'test', join(dir, 'sync.yaml')], io)).toBe(3);
    expect(io.out()).toBe(
      '  ✓ slack-1 (slack) delivered\n  ✗ old-hook (slack) not delivered after 1 attempt: HTTP 404\n1 of 2 channels did not take the test alert.\n',
    );
    expect(JSON.parse(ok.requests[0]!.body).text).toMatch(/^Syncline: example-users test alert \(run test_\w+\)$/);
  });

  test('a bad syncline.yaml is a config error naming file, line, column and path', async () => {
    const dir = exampleDir();
    writeFileSync(join(dir, 'syncline.yaml'), 'alerts:\n  - channel: slak\n    url: https://example.com\n');
    const io = captureIo(process.env);
    expect(await main(['alerts', 'test', join(dir, 'sync.yaml')], io)).toBe(2);
    expect(io.err()).toMatch(/syncline\.yaml:2:\d+ alerts\.0\.channel: /);
  });

  test('without alerts it exits 2 and says where to add them', async () => {
    const dir = exampleDir();
    const io = captureIo(process.env);
    expect(await main(['alerts', 'test', join(dir, 'sync.yaml')], io)).toBe(2);
    expect(io.err()).toContain('no alerts: configured (in the config or in syncline.yaml beside it)');
  });
});
