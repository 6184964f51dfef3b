import type { AlertChannelConfig } from './alert-config.js';
import type { AlertMessage } from './alert-message.js';
import { httpSend } from './http-send.js';
import type { SendContext } from './send-context.js';

type KnockConfig = Extract<AlertChannelConfig, { channel: 'knock' }>;

/**
 * The workflow trigger for an alert. Knock honours `Idempotency-Key` on this endpoint only, replaying the
 * first 2xx for 24 h; the key is derived from the run, the alert and the event, so a retried alert
 * (including after a lost response) is delivered once.
 * @example knockTrigger(config, alert, 'ops').headers['idempotency-key'] // 'syncline-alert:r_1:ops:failed'
 */
export function knockTrigger(
  config: KnockConfig,
  alert: AlertMessage,
  alertId: string,
): { url: string; headers: Record<string, string>; body: string } {
  return {
    url: `${config.baseUrl.replace(/\/+$/, '')}/v1/workflows/${encodeURIComponent(config.workflow)}/trigger`,
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${config.apiKey}`,
      // At most 255 characters (Knock's limit): alert ids are at most 64, run ids about 20.
      'idempotency-key': `syncline-alert:${alert.runId}:${alertId}:${alert.event}`.slice(0, 255),
    },
    body: JSON.stringify({ recipients: config.recipients, data: alert }),
  };
}

/** Triggers the configured Knock workflow with the alert as its `data`. */
export async function sendKnock(config: KnockConfig, alert: AlertMessage, ctx: SendContext): Promise<void> {
  const t = knockTrigger(config, alert, ctx.alertId);
  await httpSend({ url: t.url, method: 'POST', headers: t.headers, body: t.body, fetch: ctx.fetch, signal: ctx.signal });
}
