import { afterEach, describe, expect, test } from 'vitest';
import { startEmulator } from '@syncline/knock-emulator';
import { deliverAlert, verifyWebhookSignature } from '../src/index.js';
import { parse, rowFailuresAlert as alert } from './fixtures.js';
import { startReceiver } from '@syncline/test-utils/http-receiver';
import { startSmtpReceiver } from './smtp-receiver.js';
import { simpleParser } from 'mailparser';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});
const receiver = async (options?: Parameters<typeof startReceiver>[0]) => {
  const r = await startReceiver(options);
  closers.push(r.close);
  return r;
};

const COUNTS = 'added 10 · changed 2 · removed 0 · synced 9 · failed 2 · invalid 1';
const TITLE = 'Syncline: users has failing rows (run r_test1)';
const COMMAND = 'syncline runs show syncs/users.yaml r_test1';

describe('channels against loopback receivers', () => {
  test('slack: posts Block Kit with the sync, status, counts, failed rows and the runs show command', async () => {
    const slack = await receiver();
    const d = await deliverAlert(parse({ channel: 'slack', url: `${slack.url}/services/T0/B0/secret` }), alert, { alertId: 'slack-1' });
    expect(d).toMatchObject({ ok: true, attempts: 1, channel: 'slack', event: 'row_failures', runId: 'r_test1' });
    expect(slack.requests).toHaveLength(1);
    expect(slack.requests[0]!.path).toBe('/services/T0/B0/secret');
    expect(slack.requests[0]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(slack.requests[0]!.body)).toEqual({
      text: TITLE,
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: `:warning: ${TITLE}`, emoji: true } },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*Sync*\nusers' },
            { type: 'mrkdwn', text: '*Status*\npartial' },
            { type: 'mrkdwn', text: '*Run*\nr_test1' },
            { type: 'mrkdwn', text: `*Rows*\n${COUNTS}` },
          ],
        },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: '*Failed rows*\n• `u_7` invalid_params: email is not a valid email address\n• `u_9` http_422: phone_number: must be E.164\n• `u_11` email: email is not a valid email address',
          },
        },
        { type: 'context', elements: [{ type: 'mrkdwn', text: `See the run: \`${COMMAND}\`` }] },
      ],
    });
  });

  test('pagerduty: triggers with a dedup key per sync and the severity, resolves on recovery', async () => {
    const pd = await receiver({ ok: 202 });
    const config = parse({ channel: 'pagerduty', routingKey: 'R0UTINGKEY', severity: 'critical', url: `${pd.url}/v2/enqueue` });
    expect((await deliverAlert(config, alert, { alertId: 'pd' })).ok).toBe(true);
    expect((await deliverAlert(config, { ...alert, event: 'recovered', status: 'succeeded' }, { alertId: 'pd' })).ok).toBe(true);
    expect(pd.requests.map((r) => r.path)).toEqual(['/v2/enqueue', '/v2/enqueue']);
    expect(JSON.parse(pd.requests[0]!.body)).toEqual({
      routing_key: 'R0UTINGKEY',
      event_action: 'trigger',
      dedup_key: 'syncline/users',
      payload: {
        summary: TITLE,
        source: 'syncline',
        severity: 'critical',
        timestamp: '2026-12-07T00:00:00.000Z',
        component: 'users',
        group: 'syncline',
        class: 'row_failures',
        custom_details: {
          status: 'partial',
          run_id: 'r_test1',
          counts: { added: 10, changed: 2, removed: 0, synced: 9, failed: 2, invalid: 1 },
          failed_rows: alert.failedRows,
          error: null,
          command: COMMAND,
        },
      },
    });
    expect(JSON.parse(pd.requests[1]!.body)).toEqual({ routing_key: 'R0UTINGKEY', event_action: 'resolve', dedup_key: 'syncline/users' });
  });

  test('sms: posts form-encoded To/From/Body to Twilio Messages with basic auth, once per recipient', async () => {
    const twilio = await receiver({ ok: 201 });
    const config = parse({
      channel: 'sms',
      accountSid: 'AC123',
      authToken: 'tok3n',
      from: '+15550001111',
      to: ['+15550002222', '+15550003333'],
      baseUrl: twilio.url,
    });
    expect((await deliverAlert(config, alert, { alertId: 'sms-1' })).ok).toBe(true);
    expect(twilio.requests).toHaveLength(2);
    const [first, second] = twilio.requests;
    expect(first!.path).toBe('/2010-04-01/Accounts/AC123/Messages.json');
    expect(first!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(first!.headers['authorization']).toBe(`Basic ${Buffer.from('AC123:tok3n').toString('base64')}`);
    const body = `${TITLE}. ${COUNTS}. ${COMMAND}`;
    expect(Object.fromEntries(new URLSearchParams(first!.body))).toEqual({ To: '+15550002222', From: '+15550001111', Body: body });
    expect(Object.fromEntries(new URLSearchParams(second!.body))).toEqual({ To: '+15550003333', From: '+15550001111', Body: body });
  });

  test('webhook: posts the alert as JSON signed with HMAC-SHA256 over the timestamp and body', async () => {
    const hook = await receiver();
    const secret = 'whsec_0123456789abcdef';
    const now = Date.parse('2026-12-07T00:00:05Z');
    const d = await deliverAlert(parse({ channel: 'webhook', url: `${hook.url}/hooks/syncline`, secret }), alert, {
      alertId: 'ops',
      now: () => now,
    });
    expect(d.ok).toBe(true);
    const req = hook.requests[0]!;
    expect(JSON.parse(req.body)).toEqual({ id: 'r_test1.ops.row_failures', type: 'sync.row_failures', data: alert });
    expect(req.headers['syncline-signature']).toMatch(/^t=1796601605,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature({ secret, header: req.headers['syncline-signature'], body: req.body, now })).toBe(true);
    // A wrong secret, a changed body or a replay outside the tolerance is rejected.
    expect(verifyWebhookSignature({ secret: 'whsec_other_secret!', header: req.headers['syncline-signature'], body: req.body, now })).toBe(
      false,
    );
    expect(verifyWebhookSignature({ secret, header: req.headers['syncline-signature'], body: req.body + ' ', now })).toBe(false);
    expect(verifyWebhookSignature({ secret, header: req.headers['syncline-signature'], body: req.body, now: now + 301_000 })).toBe(false);
  });

  test('knock: triggers the workflow with the alert as data and an Idempotency-Key, so a retry is delivered once', async () => {
    const knock = await startEmulator({ port: 0, rateLimits: false });
    closers.push(knock.close);
    const config = parse({
      channel: 'knock',
      workflow: 'sync-alert',
      recipients: ['u_oncall'],
      apiKey: 'sk_test_alerts',
      baseUrl: knock.url,
    });
    expect((await deliverAlert(config, alert, { alertId: 'knock-1' })).ok).toBe(true);
    // The same alert again (a retry after a lost response): Knock replays the first response.
    expect((await deliverAlert(config, alert, { alertId: 'knock-1' })).ok).toBe(true);
    const triggers = knock.control.triggers('sync-alert', { apiKey: 'sk_test_alerts' });
    expect(triggers).toHaveLength(1);
    expect(triggers[0]!.body).toEqual({ recipients: ['u_oncall'], data: alert });
    const log = knock.control.requests().filter((r) => r.route === 'POST /v1/workflows/{key}/trigger');
    expect(log.map((r) => [r.status, r.idempotencyKey])).toEqual([
      [200, 'syncline-alert:r_test1:knock-1:row_failures'],
      [200, 'syncline-alert:r_test1:knock-1:row_failures'],
    ]);
  });
});

describe('email', () => {
  test('sends plain text and HTML by SMTP (nodemailer) to every recipient', async () => {
    const smtp = await startSmtpReceiver();
    closers.push(smtp.close);
    const got = smtp.mails;
    const config = parse({
      channel: 'email',
      smtp: smtp.url,
      from: 'Syncline <syncline@example.com>',
      to: ['data@example.com', 'oncall@example.com'],
    });
    expect((await deliverAlert(config, alert, { alertId: 'email-1' })).ok).toBe(true);
    expect(got).toHaveLength(1);
    expect(got[0]!.from).toBe('syncline@example.com');
    expect(got[0]!.to).toEqual(['data@example.com', 'oncall@example.com']);
    const mail = await simpleParser(got[0]!.raw);
    expect(mail.subject).toBe(TITLE);
    expect(mail.text?.trimEnd()).toBe(
      [
        TITLE,
        'Status: partial',
        `Rows: ${COUNTS}`,
        'Failed rows:',
        '  u_7  invalid_params  email is not a valid email address',
        '  u_9  http_422  phone_number: must be E.164',
        '  u_11  email  email is not a valid email address',
        `See the run: ${COMMAND}`,
      ].join('\n'),
    );
    expect(mail.html).toBe(
      `<h2>${TITLE}</h2><p><b>Status:</b> partial<br><b>Rows:</b> ${COUNTS}</p>` +
        '<table><tr><th>key</th><th>code</th><th>reason</th></tr>' +
        '<tr><td><code>u_7</code></td><td>invalid_params</td><td>email is not a valid email address</td></tr>' +
        '<tr><td><code>u_9</code></td><td>http_422</td><td>phone_number: must be E.164</td></tr>' +
        '<tr><td><code>u_11</code></td><td>email</td><td>email is not a valid email address</td></tr></table>' +
        `<p>See the run: <code>${COMMAND}</code></p>`,
    );
  });
});
