import type { AlertChannelConfig } from './alert-config.js';
import { alertTitle, type AlertMessage } from './alert-message.js';
import { httpSend } from './http-send.js';
import type { SendContext } from './send-context.js';

type PagerDutyConfig = Extract<AlertChannelConfig, { channel: 'pagerduty' }>;

/** One incident per sync: triggers for the same sync group under it, and `recovered` resolves it. */
export const pagerdutyDedupKey = (sync: string): string => `syncline/${sync}`;

/**
 * The Events API v2 events for an alert (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/):
 * a `trigger` with the sync's dedup key and the configured severity, or a `resolve` on recovery. A test
 * alert triggers an `info` event under its own dedup key and resolves it at once.
 * @example pagerdutyEvents(config, alert)[0].event_action // 'trigger'
 */
export function pagerdutyEvents(config: PagerDutyConfig, alert: AlertMessage): Record<string, unknown>[] {
  const dedup = pagerdutyDedupKey(alert.sync) + (alert.event === 'test' ? '/test' : '');
  const resolve = { routing_key: config.routingKey, event_action: 'resolve', dedup_key: dedup };
  if (alert.event === 'recovered') return [resolve];
  const trigger = {
    routing_key: config.routingKey,
    event_action: 'trigger',
    dedup_key: dedup,
    payload: {
      // summary: at most 1024 characters.
      summary: alertTitle(alert).slice(0, 1024),
      source: 'syncline',
      severity: alert.event === 'test' ? 'info' : config.severity,
      timestamp: alert.at,
      component: alert.sync,
      group: 'syncline',
      class: alert.event,
      custom_details: {
        status: alert.status,
        run_id: alert.runId,
        counts: alert.counts,
        failed_rows: alert.failedRows,
        error: alert.error,
        command: alert.command,
      },
    },
  };
  return alert.event === 'test' ? [trigger, resolve] : [trigger];
}

/** Sends the alert's events to PagerDuty. */
export async function sendPagerDuty(config: PagerDutyConfig, alert: AlertMessage, ctx: SendContext): Promise<void> {
  for (const event of pagerdutyEvents(config, alert))
    await httpSend({
      url: config.url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
      fetch: ctx.fetch,
      signal: ctx.signal,
    });
}
