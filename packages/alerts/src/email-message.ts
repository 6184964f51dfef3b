import type { AlertChannelConfig } from './alert-config.js';
import { alertText, alertTitle, countsLine, type AlertMessage } from './alert-message.js';

/** The `email` channel's config. */
export type EmailConfig = Extract<AlertChannelConfig, { channel: 'email' }>;

const html = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The email: subject, plain text and an HTML version with the same content.
 * @example emailMessage(config, alert).subject // 'Syncline: users failed (run r_1)'
 */
export function emailMessage(
  config: EmailConfig,
  alert: AlertMessage,
): { from: string; to: string[]; subject: string; text: string; html: string } {
  const rows = alert.failedRows
    .map((f) => `<tr><td><code>${html(f.key)}</code></td><td>${html(f.code)}</td><td>${html(f.message)}</td></tr>`)
    .join('');
  const body = [
    `<h2>${html(alertTitle(alert))}</h2>`,
    `<p><b>Status:</b> ${html(alert.status)}<br><b>Rows:</b> ${html(countsLine(alert))}</p>`,
    alert.error ? `<p><b>Error:</b> <code>${html(alert.error.code)}</code>: ${html(alert.error.message)}</p>` : '',
    rows ? `<table><tr><th>key</th><th>code</th><th>reason</th></tr>${rows}</table>` : '',
    `<p>See the run: <code>${html(alert.command)}</code></p>`,
  ].join('');
  return { from: config.from, to: config.to, subject: alertTitle(alert), text: alertText(alert), html: body };
}
