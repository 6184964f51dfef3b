import { z } from 'zod';

/** What an alert is about. `recovered`: the first good run after a bad one. */
export const alertEventSchema = z.enum(['failed', 'resume_later', 'row_failures', 'recovered']);
export type AlertEvent = z.infer<typeof alertEventSchema>;

/** A share written as a fraction (`0.05`) or a percentage (`"5%"`). */
const shareSchema = z.union([
  z.number().min(0).max(1),
  z
    .string()
    .regex(/^\d+(\.\d+)?\s*%$/, 'a share such as 0.05 or "5%"')
    .transform((s) => Number.parseFloat(s) / 100)
    .pipe(z.number().max(1, 'at most 100%')),
]);

const common = {
  /** A name for logs and the alert state; default `<channel>-<position>`. */
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, "_", "-", "." (max 64)')
    .optional(),
  /** The changes of status that send an alert. Default: all of them. */
  on: z.array(alertEventSchema).min(1).default(['failed', 'resume_later', 'row_failures', 'recovered']),
  /** `row_failures` fires when (failed + invalid rows) / rows to send is above this share. Default 5 %. */
  threshold: shareSchema.default(0.05),
};

const recipients = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]));

/**
 * One entry of `alerts:`. Secrets (webhook URLs, keys, tokens, SMTP passwords) are meant to come from
 * `${VAR}`; they never appear in logs, alerts or run records.
 * @example alertChannelSchema.parse({ channel: 'slack', url: 'https://hooks.slack.com/services/T/B/X' })
 */
export const alertChannelSchema = z.discriminatedUnion('channel', [
  z.strictObject({
    channel: z.literal('slack'),
    /** Incoming-webhook URL (a secret: it is the credential). */
    url: z.url(),
    ...common,
  }),
  z.strictObject({
    channel: z.literal('pagerduty'),
    /** Events API v2 integration (routing) key. */
    routingKey: z.string().min(1),
    severity: z.enum(['critical', 'error', 'warning', 'info']).default('error'),
    url: z.url().default('https://events.pagerduty.com/v2/enqueue'),
    ...common,
  }),
  z.strictObject({
    channel: z.literal('email'),
    /** SMTP URL, e.g. `smtps://user:${SMTP_PASSWORD}@smtp.example.com:465` (nodemailer's connection URL). */
    smtp: z.url(),
    from: z.string().min(1),
    to: recipients,
    ...common,
  }),
  z.strictObject({
    channel: z.literal('sms'),
    accountSid: z.string().min(1),
    authToken: z.string().min(1),
    from: z.string().min(1),
    to: recipients,
    /** Twilio's API; a stand-in in tests. */
    baseUrl: z.url().default('https://api.twilio.com'),
    ...common,
  }),
  z.strictObject({
    channel: z.literal('webhook'),
    url: z.url(),
    /** HMAC-SHA256 key for the `Syncline-Signature` header. */
    secret: z.string().min(16, 'at least 16 characters'),
    ...common,
  }),
  z.strictObject({
    channel: z.literal('knock'),
    /** The workflow to trigger; its steps deliver the alert by email, SMS, push or chat. */
    workflow: z.string().min(1),
    /** Knock user ids (or recipient objects) to notify. */
    recipients: z.array(z.union([z.string().min(1), z.record(z.string(), z.unknown())])).min(1),
    apiKey: z.string().min(1),
    baseUrl: z.url().default('https://api.knock.app'),
    ...common,
  }),
]);

/** The `alerts:` list of a sync config or of a workspace's `syncline.yaml`. */
export const alertsSchema = z.array(alertChannelSchema);

export type AlertChannelConfig = z.output<typeof alertChannelSchema>;
export type AlertChannelInput = z.input<typeof alertChannelSchema>;

/** The id an alert's state and deliveries are recorded under: its `name`, else `<channel>-<position>`. */
export function alertId(config: AlertChannelConfig, index: number): string {
  return config.name ?? `${config.channel}-${index + 1}`;
}
