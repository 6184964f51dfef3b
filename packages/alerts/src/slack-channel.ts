import type { AlertChannelConfig } from './alert-config.js';
import { alertTitle, countsLine, type AlertMessage } from './alert-message.js';
import { httpSend } from './http-send.js';
import type { SendContext } from './send-context.js';

type SlackConfig = Extract<AlertChannelConfig, { channel: 'slack' }>;

const ICONS: Record<AlertMessage['event'], string> = {
  failed: ':red_circle:',
  resume_later: ':double_vertical_bar:',
  row_failures: ':warning:',
  recovered: ':large_green_circle:',
  test: ':bell:',
};

// Slack mrkdwn needs &, < and > escaped (https://api.slack.com/reference/surfaces/formatting#escaping).
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
// Block Kit limits: header text 150 characters, section text 3000 (https://api.slack.com/reference/block-kit/blocks).
const cut = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/**
 * The incoming-webhook body: a `text` fallback (notifications) and Block Kit blocks with the sync, status,
 * counts, the first 5 failed rows with their reasons, and the `syncline runs show` command.
 * @example slackPayload(alert).blocks[0] // { type: 'header', … }
 */
export function slackPayload(alert: AlertMessage): { text: string; blocks: Record<string, unknown>[] } {
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(`${ICONS[alert.event]} ${alertTitle(alert)}`, 150), emoji: true } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Sync*\n${esc(alert.sync)}` },
        { type: 'mrkdwn', text: `*Status*\n${esc(alert.status)}` },
        { type: 'mrkdwn', text: `*Run*\n${esc(alert.runId)}` },
        { type: 'mrkdwn', text: `*Rows*\n${countsLine(alert)}` },
      ],
    },
  ];
  if (alert.error)
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: cut(`*Error* \`${esc(alert.error.code)}\`: ${esc(alert.error.message)}`, 3000) },
    });
  if (alert.failedRows.length > 0)
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: cut(
          `*Failed rows*\n${alert.failedRows.map((f) => `• \`${esc(f.key)}\` ${esc(f.code)}: ${esc(f.message)}`).join('\n')}`,
          3000,
        ),
      },
    });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `See the run: \`${esc(alert.command)}\`` }] });
  return { text: alertTitle(alert), blocks };
}

/** Posts the alert to a Slack incoming webhook. */
export async function sendSlack(config: SlackConfig, alert: AlertMessage, ctx: SendContext): Promise<void> {
  await httpSend({
    url: config.url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(slackPayload(alert)),
    fetch: ctx.fetch,
    signal: ctx.signal,
  });
}
