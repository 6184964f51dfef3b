import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AlertChannelConfig } from './alert-config.js';
import type { AlertMessage } from './alert-message.js';
import { httpSend } from './http-send.js';
import type { SendContext } from './send-context.js';

type WebhookConfig = Extract<AlertChannelConfig, { channel: 'webhook' }>;

/** The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as Stripe signs its webhooks. */
export const SIGNATURE_HEADER = 'syncline-signature';

/** HMAC-SHA256 over `<timestamp>.<body>` in hex. */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/**
 * The webhook request: a JSON body `{ id, type, data }` (`id` is stable across retries, so a receiver can
 * drop duplicates) and the `Syncline-Signature` header. The timestamp is signed with the body, so a
 * receiver rejects replays older than its tolerance.
 * @example webhookRequest(config, alert, { alertId: 'ops', now: Date.now() }).headers['syncline-signature']
 */
export function webhookRequest(
  config: WebhookConfig,
  alert: AlertMessage,
  options: { alertId: string; now: number },
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({ id: `${alert.runId}.${options.alertId}.${alert.event}`, type: `sync.${alert.event}`, data: alert });
  const t = Math.floor(options.now / 1000);
  return {
    body,
    headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: `t=${t},v1=${webhookSignature(config.secret, t, body)}` },
  };
}

/**
 * Checks a `Syncline-Signature` header on the receiving side: the HMAC must match (compared in constant
 * time) and the timestamp be within `toleranceSeconds` (default 300) of now.
 * @example verifyWebhookSignature({ secret, header: req.headers['syncline-signature'], body: rawText })
 */
export function verifyWebhookSignature(options: {
  secret: string;
  header: string | undefined | null;
  body: string;
  toleranceSeconds?: number;
  now?: number;
}): boolean {
  const parts = new Map((options.header ?? '').split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || !/^[0-9a-f]{64}$/.test(v1)) return false;
  const now = (options.now ?? Date.now()) / 1000;
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) return false;
  return timingSafeEqual(Buffer.from(v1, 'hex'), Buffer.from(webhookSignature(options.secret, t, options.body), 'hex'));
}

/** Posts the signed alert; each attempt is signed afresh with its own timestamp. */
export async function sendWebhook(config: WebhookConfig, alert: AlertMessage, ctx: SendContext): Promise<void> {
  const req = webhookRequest(config, alert, { alertId: ctx.alertId, now: (ctx.now ?? Date.now)() });
  await httpSend({ url: config.url, method: 'POST', headers: req.headers, body: req.body, fetch: ctx.fetch, signal: ctx.signal });
}
