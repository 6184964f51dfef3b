import { afterEach, describe, expect, test } from 'vitest';
import { openDuckdbLedger } from '@syncline/core';
import { startEmulator } from '@syncline/knock-emulator';
import { readAlertDeliveries, readAlertState, sendRunAlerts, type AlertChannelConfig } from '../src/index.js';
import { failedRun, goodRun, parse } from './fixtures.js';
import { deadUrl, startReceiver } from '@syncline/test-utils/http-receiver';
import { startSmtpReceiver } from './smtp-receiver.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

const fast = { attempts: 3, baseMs: 5, capMs: 20 };

describe('sendRunAlerts', () => {
  test('failed → failed → recovered sends exactly two alerts per channel, the state kept in the ledger', async () => {
    const slack = await startReceiver();
    const pd = await startReceiver({ ok: 202 });
    const twilio = await startReceiver({ ok: 201 });
    const hook = await startReceiver();
    const knock = await startEmulator({ port: 0, rateLimits: false });
    const smtp = await startSmtpReceiver();
    closers.push(slack.close, pd.close, twilio.close, hook.close, knock.close, smtp.close);
    const alerts: AlertChannelConfig[] = [
      parse({ channel: 'slack', url: `${slack.url}/hook` }),
      parse({ channel: 'pagerduty', routingKey: 'rk', url: pd.url }),
      parse({ channel: 'sms', accountSid: 'AC1', authToken: 't', from: '+15550001111', to: '+15550002222', baseUrl: twilio.url }),
      parse({ channel: 'webhook', url: hook.url, secret: 'whsec_0123456789abcdef' }),
      parse({ channel: 'knock', workflow: 'sync-alert', recipients: ['u_1'], apiKey: 'sk_test_a', baseUrl: knock.url }),
      parse({ channel: 'email', smtp: smtp.url, from: 'syncline@example.com', to: 'data@example.com' }),
    ];
    await using ledger = await openDuckdbLedger({ path: ':memory:' });
    const events: string[][] = [];
    for (const run of [failedRun('r_1'), failedRun('r_2'), goodRun('r_3')]) {
      const sent = await sendRunAlerts({ alerts, run, configFile: 'sync.yaml', ledger, retry: fast });
      events.push(sent.map((d) => `${d.alert}:${d.event}:${d.ok}`));
    }
    expect(events).toEqual([
      [
        'slack-1:failed:true',
        'pagerduty-2:failed:true',
        'sms-3:failed:true',
        'webhook-4:failed:true',
        'knock-5:failed:true',
        'email-6:failed:true',
      ],
      [],
      [
        'slack-1:recovered:true',
        'pagerduty-2:recovered:true',
        'sms-3:recovered:true',
        'webhook-4:recovered:true',
        'knock-5:recovered:true',
        'email-6:recovered:true',
      ],
    ]);
    for (const r of [slack, pd, twilio, hook]) expect(r.requests).toHaveLength(2);
    expect(pd.requests.map((r) => JSON.parse(r.body).event_action)).toEqual(['trigger', 'resolve']);
    expect(knock.control.triggers('sync-alert', { apiKey: 'sk_test_a' })).toHaveLength(2);
    expect(smtp.mails).toHaveLength(2);
    expect(await readAlertState(ledger)).toEqual({
      'slack-1': 'ok',
      'pagerduty-2': 'ok',
      'sms-3': 'ok',
      'webhook-4': 'ok',
      'knock-5': 'ok',
      'email-6': 'ok',
    });
    expect((await readAlertDeliveries(ledger, 'r_1')).map((d) => d.channel)).toEqual([
      'slack',
      'pagerduty',
      'sms',
      'webhook',
      'knock',
      'email',
    ]);
    expect(await readAlertDeliveries(ledger, 'r_2')).toEqual([]);
  });

  test('only the events in `on` are sent, while the state follows every run', async () => {
    const slack = await startReceiver();
    closers.push(slack.close);
    const alerts = [parse({ channel: 'slack', url: slack.url, on: ['recovered'] })];
    await using ledger = await openDuckdbLedger({ path: ':memory:' });
    expect(await sendRunAlerts({ alerts, run: failedRun('r_1'), configFile: 's.yaml', ledger })).toEqual([]);
    const sent = await sendRunAlerts({ alerts, run: goodRun('r_2'), configFile: 's.yaml', ledger });
    expect(sent.map((d) => d.event)).toEqual(['recovered']);
    expect(slack.requests).toHaveLength(1);
  });

  test('retries a 503 and succeeds on the third attempt', async () => {
    const slack = await startReceiver({ status: (n) => (n < 3 ? 503 : 200) });
    closers.push(slack.close);
    await using ledger = await openDuckdbLedger({ path: ':memory:' });
    const [d] = await sendRunAlerts({
      alerts: [parse({ channel: 'slack', url: slack.url })],
      run: failedRun('r_1'),
      configFile: 's',
      ledger,
      retry: fast,
    });
    expect(d).toMatchObject({ ok: true, attempts: 3 });
    expect(slack.requests).toHaveLength(3);
  });

  test('does not retry a 404 (a wrong webhook URL); records the failure without the URL', async () => {
    const slack = await startReceiver({ ok: 404 });
    closers.push(slack.close);
    await using ledger = await openDuckdbLedger({ path: ':memory:' });
    const lines: string[] = [];
    const url = `${slack.url}/services/T0/B0/SECRETPART`;
    const [d] = await sendRunAlerts({
      alerts: [parse({ channel: 'slack', url })],
      run: failedRun('r_1'),
      configFile: 's',
      ledger,
      retry: fast,
      log: (l) => lines.push(l),
    });
    expect(d).toMatchObject({ ok: false, attempts: 1, status: 404, error: 'HTTP 404' });
    expect(lines).toEqual(['Alert slack-1 (slack, failed) not delivered after 1 attempt: HTTP 404; the next run tries again']);
    expect(JSON.stringify(await readAlertDeliveries(ledger, 'r_1'))).not.toContain('SECRETPART');
  });

  test('a receiver that is down: delivery fails after the retries, nothing throws, and the next run tries again', async () => {
    const url = await deadUrl();
    await using ledger = await openDuckdbLedger({ path: ':memory:' });
    const alerts = [parse({ channel: 'webhook', url: `${url}/x`, secret: 'whsec_0123456789abcdef' })];
    const [d] = await sendRunAlerts({ alerts, run: failedRun('r_1'), configFile: 's', ledger, retry: fast });
    expect(d).toMatchObject({ ok: false, attempts: 3, error: 'request failed: ECONNREFUSED' });
    expect(await readAlertState(ledger)).toEqual({});
    const again = await sendRunAlerts({ alerts, run: failedRun('r_2'), configFile: 's', ledger, retry: fast });
    expect(again.map((x) => x.event)).toEqual(['failed']);
  });
});
