import type { AlertEvent } from './alert-config.js';

/** A failed or invalid row as an alert shows it: key and reason, never the row's values. */
export interface AlertRow {
  key: string;
  code: string;
  message: string;
}

/**
 * What every channel sends, in its own format. Built from the run's result; it carries counts, row keys
 * and reasons, never a secret or a row's payload.
 */
export interface AlertMessage {
  /** `test` for `syncline alerts test`. */
  event: AlertEvent | 'test';
  sync: string;
  runId: string;
  /** The run's status (`failed`, `partial`, `succeeded`, `resume_later`, …). */
  status: string;
  counts: { added: number; changed: number; removed: number; synced: number; failed: number; invalid: number };
  /** The first 5 failed or invalid rows with their reasons. */
  failedRows: AlertRow[];
  error: { code: string; message: string } | null;
  /** The command that shows the run, e.g. `syncline runs show sync.yaml r_123`. */
  command: string;
  /** When the run finished (ISO 8601). */
  at: string;
}

/** The inputs of {@link alertMessage}: a run result (or the parts of one). */
export interface AlertRunInput {
  runId: string;
  sync: string;
  status: string;
  rows: { added: number; changed: number; removed: number; synced: number; failed: number; invalid: number };
  failures?: readonly { key: string; code: string; message: string }[];
  invalid?: readonly { key: string; rule: string; message: string }[];
  error?: { code: string; message: string } | undefined;
}

const TITLES: Record<AlertMessage['event'], string> = {
  failed: 'failed',
  resume_later: 'paused until Knock takes calls again',
  row_failures: 'has failing rows',
  recovered: 'recovered',
  test: 'test alert',
};

/**
 * The alert for a run. `configFile` is the config path as the user gave it, for the `runs show` command.
 * @example alertMessage({ event: 'failed', run: result, configFile: 'sync.yaml' })
 */
export function alertMessage(options: { event: AlertMessage['event']; run: AlertRunInput; configFile: string; at?: string }): AlertMessage {
  const { run } = options;
  const rows: AlertRow[] = [
    ...(run.failures ?? []).map((f) => ({ key: f.key, code: f.code, message: f.message })),
    ...(run.invalid ?? []).map((i) => ({ key: i.key, code: i.rule, message: i.message })),
  ].slice(0, 5);
  const r = run.rows;
  return {
    event: options.event,
    sync: run.sync,
    runId: run.runId,
    status: run.status,
    counts: { added: r.added, changed: r.changed, removed: r.removed, synced: r.synced, failed: r.failed, invalid: r.invalid },
    failedRows: rows,
    error: run.error ? { code: run.error.code, message: run.error.message } : null,
    command: `syncline runs show ${quoteArg(options.configFile)} ${run.runId}`,
    at: options.at ?? new Date().toISOString(),
  };
}

/** One line that says what happened: `Syncline: users failed (run r_1)`. */
export function alertTitle(alert: AlertMessage): string {
  return `Syncline: ${alert.sync} ${TITLES[alert.event]} (run ${alert.runId})`;
}

/** The counts as one line: `added 3 · changed 1 · removed 0 · synced 2 · failed 2 · invalid 0`. */
export function countsLine(alert: AlertMessage): string {
  return Object.entries(alert.counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(' · ');
}

/** The whole alert as plain text (email, SMS-sized summary aside). */
export function alertText(alert: AlertMessage): string {
  const lines = [alertTitle(alert), `Status: ${alert.status}`, `Rows: ${countsLine(alert)}`];
  if (alert.error) lines.push(`Error: ${alert.error.code}: ${alert.error.message}`);
  if (alert.failedRows.length > 0) {
    lines.push('Failed rows:');
    for (const f of alert.failedRows) lines.push(`  ${f.key}  ${f.code}  ${f.message}`);
  }
  lines.push(`See the run: ${alert.command}`);
  return lines.join('\n');
}

const quoteArg = (s: string): string => (/^[\w./@:=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
