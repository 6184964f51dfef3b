import type { AlertChannelConfig } from './alert-config.js';
import { alertTitle, countsLine, type AlertMessage } from './alert-message.js';
import { httpSend } from './http-send.js';
import type { SendContext } from './send-context.js';

type SmsConfig = Extract<AlertChannelConfig, { channel: 'sms' }>;

/** The SMS text: title, counts and the command, within Twilio's 1,600-character body limit. */
export function smsBody(alert: AlertMessage): string {
  const error = alert.error ? ` ${alert.error.code}: ${alert.error.message}.` : '';
  return `${alertTitle(alert)}. ${countsLine(alert)}.${error} ${alert.command}`.slice(0, 1600);
}

/**
 * Sends one message per recipient through Twilio's Messages API: form-encoded `To`, `From`, `Body`, HTTP basic
 * auth with the account SID and auth token (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource).
 */
export async function sendSms(config: SmsConfig, alert: AlertMessage, ctx: SendContext): Promise<void> {
  const url = `${config.baseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(config.accountSid)}/Messages.json`;
  const auth = Buffer.from(`${config.accountSid}:${config.authToken}`).toString('base64');
  for (const to of config.to)
    await httpSend({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${auth}` },
      body: new URLSearchParams({ To: to, From: config.from, Body: smsBody(alert) }).toString(),
      fetch: ctx.fetch,
      signal: ctx.signal,
    });
}
