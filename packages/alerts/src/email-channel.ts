import { createTransport } from 'nodemailer';
import type { AlertMessage } from './alert-message.js';
import { DeliveryError } from './delivery-error.js';
import { emailMessage, type EmailConfig } from './email-message.js';

/**
 * Sends the alert by SMTP through nodemailer (loaded only when an email alert is sent). SMTP 4xx replies and connection errors are retryable; 5xx
 * replies (a rejected sender or recipient) are not. Errors name the SMTP code, never the URL's password.
 */
export async function sendEmail(config: EmailConfig, alert: AlertMessage): Promise<void> {
  const transport = createTransport({ url: config.smtp, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 10_000 });
  try {
    await transport.sendMail(emailMessage(config, alert));
  } catch (e) {
    const err = e as { responseCode?: number; code?: string };
    const smtp = err.responseCode;
    throw new DeliveryError(smtp ? `SMTP ${smtp}` : `SMTP ${err.code ?? 'error'}`, {
      retryable: smtp === undefined || smtp < 500,
      status: smtp,
    });
  } finally {
    transport.close();
  }
}
