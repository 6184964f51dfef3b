import { alertId, type AlertChannelConfig } from './alert-config.js';
import { alertMessage, type AlertRunInput } from './alert-message.js';
import { decideAlert, type SyncHealth } from './decide-alert.js';
import { deliverAlert, type AlertDelivery, type RetryOptions } from './deliver-alert.js';
import type { FetchLike } from './http-send.js';

/** The part of a ledger alerts use: its key-value `meta` table (the DuckDB ledger has it). */
export interface AlertLedger {
  meta(key: string): Promise<string | null>;
  setMeta(key: string, value: string): Promise<void>;
}

const STATE_KEY = 'alerts.state';
const deliveriesKey = (runId: string): string => `alerts.deliveries.${runId}`;

/** Each alert's recorded health (after the last run it saw). */
export async function readAlertState(ledger: AlertLedger): Promise<Record<string, SyncHealth>> {
  const text = await ledger.meta(STATE_KEY);
  return text ? (JSON.parse(text) as Record<string, SyncHealth>) : {};
}

/**
 * The alert deliveries recorded with a run (for `syncline runs show` and the server's run view).
 * @example const deliveries = await readAlertDeliveries(ledger, 'r_123')
 */
export async function readAlertDeliveries(ledger: AlertLedger, runId: string): Promise<AlertDelivery[]> {
  const text = await ledger.meta(deliveriesKey(runId));
  return text ? (JSON.parse(text) as AlertDelivery[]) : [];
}

/** Options of {@link sendRunAlerts}. */
export interface SendRunAlertsOptions {
  alerts: readonly AlertChannelConfig[];
  /** The finished run (a core `RunResult` fits). */
  run: AlertRunInput;
  /** The config path as the user gave it, for the `syncline runs show` command in the alert. */
  configFile: string;
  ledger: AlertLedger;
  /** One line per delivery, for stderr or the scheduler's log. Never receives a secret. */
  log?: ((line: string) => void) | undefined;
  fetch?: FetchLike | undefined;
  retry?: RetryOptions | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * After a run is saved: decides per alert whether its status changed (one alert per change, the state kept
 * in the ledger's meta table), delivers the alerts concurrently with retries, and records the deliveries
 * with the run. Never throws for a delivery failure and never changes the run's outcome. An alert whose
 * delivery failed keeps its previous state, so the next run's alert tries again.
 * @example await sendRunAlerts({ alerts: config.alerts, run: result, configFile: 'sync.yaml', ledger })
 */
export async function sendRunAlerts(options: SendRunAlertsOptions): Promise<AlertDelivery[]> {
  const { alerts, run, ledger } = options;
  if (alerts.length === 0) return [];
  const state = await readAlertState(ledger);
  const next = { ...state };
  const deliveries = await Promise.all(
    alerts.map(async (config, i) => {
      const id = alertId(config, i);
      const { health, event } = decideAlert(state[id], run, config.threshold);
      if (!event || !config.on.includes(event)) {
        next[id] = health;
        return undefined;
      }
      const message = alertMessage({ event, run, configFile: options.configFile });
      const d = await deliverAlert(config, message, { alertId: id, fetch: options.fetch, signal: options.signal, retry: options.retry });
      if (d.ok) next[id] = health;
      options.log?.(
        d.ok
          ? `Alert ${id} (${config.channel}, ${event}) sent${d.attempts > 1 ? ` after ${d.attempts} attempts` : ''}`
          : `Alert ${id} (${config.channel}, ${event}) not delivered after ${d.attempts} attempt${d.attempts > 1 ? 's' : ''}: ${d.error}; the next run tries again`,
      );
      return d;
    }),
  );
  const sent = deliveries.filter((d): d is AlertDelivery => d !== undefined);
  await ledger.setMeta(STATE_KEY, JSON.stringify(next));
  if (sent.length > 0) await ledger.setMeta(deliveriesKey(run.runId), JSON.stringify(sent));
  return sent;
}

/**
 * `syncline alerts test`: sends a `test` alert to every channel (no state is read or changed).
 * @example const deliveries = await sendTestAlerts({ alerts, sync: 'users', configFile: 'sync.yaml' })
 */
export async function sendTestAlerts(options: {
  alerts: readonly AlertChannelConfig[];
  sync: string;
  configFile: string;
  fetch?: FetchLike | undefined;
  retry?: RetryOptions | undefined;
}): Promise<AlertDelivery[]> {
  const run: AlertRunInput = {
    runId: `test_${Date.now().toString(36)}`,
    sync: options.sync,
    status: 'test',
    rows: { added: 0, changed: 0, removed: 0, synced: 0, failed: 0, invalid: 0 },
  };
  const message = alertMessage({ event: 'test', run, configFile: options.configFile });
  return Promise.all(
    options.alerts.map((config, i) =>
      deliverAlert(config, message, { alertId: alertId(config, i), fetch: options.fetch, retry: options.retry }),
    ),
  );
}
