export {
  alertChannelSchema,
  alertsSchema,
  alertEventSchema,
  alertId,
  type AlertChannelConfig,
  type AlertChannelInput,
  type AlertEvent,
} from './alert-config.js';
export { decideAlert, runHealth, type SyncHealth, type RunOutcome } from './decide-alert.js';
export { alertMessage, alertText, alertTitle, type AlertMessage, type AlertRow, type AlertRunInput } from './alert-message.js';
export { deliverAlert, type AlertDelivery, type RetryOptions } from './deliver-alert.js';
export { DeliveryError } from './delivery-error.js';
export type { FetchLike } from './http-send.js';
export type { SendContext } from './send-context.js';
export { slackPayload } from './slack-channel.js';
export { pagerdutyEvents, pagerdutyDedupKey } from './pagerduty-channel.js';
export { emailMessage } from './email-message.js';
export { smsBody } from './sms-channel.js';
export { webhookRequest, webhookSignature, verifyWebhookSignature, SIGNATURE_HEADER } from './webhook-channel.js';
export { knockTrigger } from './knock-channel.js';
export {
  sendRunAlerts,
  sendTestAlerts,
  readAlertDeliveries,
  readAlertState,
  type AlertLedger,
  type SendRunAlertsOptions,
} from './run-alerts.js';
export { scheduleSchema, nextTime, everyMs, describeSchedule, type Schedule } from './schedule-config.js';
export { startScheduler, type Scheduler, type ScheduledJob, type SchedulerEvent, type SchedulerOptions } from './scheduler.js';
