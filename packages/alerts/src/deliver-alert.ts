import { backoffDelay, sleep } from '@syncline/core';
import type { AlertChannelConfig } from './alert-config.js';
import type { AlertMessage } from './alert-message.js';
import { DeliveryError } from './delivery-error.js';
import { sendKnock } from './knock-channel.js';
import { sendPagerDuty } from './pagerduty-channel.js';
import type { SendContext } from './send-context.js';
import { sendSlack } from './slack-channel.js';
import { sendSms } from './sms-channel.js';
import { sendWebhook } from './webhook-channel.js';

/** One alert's delivery to one channel, as recorded with the run. No secret is ever part of it. */
export interface AlertDelivery {
  alert: string;
  channel: AlertChannelConfig['channel'];
  event: AlertMessage['event'];
  runId: string;
  ok: boolean;
  attempts: number;
  /** The last HTTP status (or SMTP reply code) when there was one. */
  status?: number;
  /** Why the last attempt failed: `HTTP 503`, `request failed: ECONNREFUSED`, `SMTP 550`. */
  error?: string;
  at: string;
}

/** How often and how patiently to retry a failed delivery. */
export interface RetryOptions {
  /** Attempts in all (default 3). */
  attempts?: number;
  /** Backoff base (default 500 ms; full jitter, doubling) and cap (default 5 s). */
  baseMs?: number;
  capMs?: number;
}

/**
 * Sends one alert to one channel, retrying network errors, timeouts, 408, 429 and 5xx with jittered
 * backoff (honouring Retry-After up to the cap). Never throws: the outcome is returned for the run record.
 * @example const d = await deliverAlert(config, alert, { alertId: 'slack-1' })
 */
export async function deliverAlert(
  config: AlertChannelConfig,
  alert: AlertMessage,
  ctx: SendContext & { retry?: RetryOptions | undefined },
): Promise<AlertDelivery> {
  const max = Math.max(1, ctx.retry?.attempts ?? 3);
  const capMs = ctx.retry?.capMs ?? 5_000;
  let last: unknown;
  let attempt = 0;
  while (attempt < max) {
    attempt++;
    try {
      await send(config, alert, ctx);
      return record(config, alert, ctx.alertId, { ok: true, attempts: attempt });
    } catch (e) {
      last = e;
      const retryable = e instanceof DeliveryError ? e.retryable : false;
      if (!retryable || attempt >= max || ctx.signal?.aborted) break;
      const wait = Math.max(
        backoffDelay(attempt, { baseMs: ctx.retry?.baseMs ?? 500, capMs }),
        e instanceof DeliveryError ? (e.retryAfterMs ?? 0) : 0,
      );
      await sleep(Math.min(wait, capMs), ctx.signal).catch(() => undefined);
    }
  }
  const err = last instanceof DeliveryError ? last : undefined;
  return record(config, alert, ctx.alertId, {
    ok: false,
    attempts: attempt,
    ...(err?.status !== undefined ? { status: err.status } : {}),
    // Only DeliveryError messages are known to be free of secrets; anything else is named by its type.
    error: err ? err.message : `unexpected ${(last as Error)?.name ?? 'error'}`,
  });
}

async function send(config: AlertChannelConfig, alert: AlertMessage, ctx: SendContext): Promise<void> {
  switch (config.channel) {
    case 'slack':
      return sendSlack(config, alert, ctx);
    case 'pagerduty':
      return sendPagerDuty(config, alert, ctx);
    case 'email':
      // nodemailer loads only when an email goes out, so loading a config stays light.
      return (await import('./email-channel.js')).sendEmail(config, alert);
    case 'sms':
      return sendSms(config, alert, ctx);
    case 'webhook':
      return sendWebhook(config, alert, ctx);
    case 'knock':
      return sendKnock(config, alert, ctx);
  }
}

function record(
  config: AlertChannelConfig,
  alert: AlertMessage,
  alertId: string,
  outcome: Pick<AlertDelivery, 'ok' | 'attempts' | 'status' | 'error'>,
): AlertDelivery {
  return { alert: alertId, channel: config.channel, event: alert.event, runId: alert.runId, ...outcome, at: new Date().toISOString() };
}
