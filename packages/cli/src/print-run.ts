import type { RunResult } from '@syncline/core';
import { n, paint, secs, type Style } from './format.js';
import { KEPT } from './removal-effect.js';
import { invalidJson, invalidLines } from './print-plan.js';

/** The run summary (ux.md §3); the `Done.` line is frozen. */
export function formatRunSummary(r: RunResult, config: { key: string; file: string }, totalMs: number, style: Style): string {
  const p = paint(style);
  const rows = r.rows;
  const out: string[] = [];
  if (r.status === 'failed') {
    out.push(p.red(`Run ${r.runId} failed: ${r.error?.message ?? 'unknown error'}`));
    return out.join('\n');
  }
  const head =
    r.status === 'aborted'
      ? `Run ${r.runId} stopped: ${n(rows.synced)} rows confirmed and committed, ${n((r.remaining ?? 0) + rows.failed)} left for the next run.`
      : r.status === 'stopped'
        ? `Run ${r.runId} stopped at its limit (--max-rows/--max-duration): ${n(rows.synced)} rows confirmed and committed, ${n(r.remaining ?? 0)} left for the next run`
        : r.status === 'resume_later'
          ? p.yellow(
              `Run ${r.runId} paused: Knock asked to wait until ${r.resumeAt} (rate limited); ${n(rows.synced)} rows confirmed and committed, the rest are sent when you run again after that`,
            )
          : `Run ${r.runId} completed${rows.failed ? ` with ${n(rows.failed)} failed rows` : ''} in ${secs(totalMs)}`;
  out.push(head, '');
  if (r.mappingChanged) out.push(p.yellow('  the field mapping changed since the last run: every row was sent again'), '');
  // Rows left in Knock under onDelete: nothing are named as such, never counted as removed.
  out.push(
    `  added ${n(rows.added)} · changed ${n(rows.changed)} · removed ${n(rows.removed)} · unchanged ${n(rows.unchanged)} · invalid ${n(rows.invalid)}${rows.kept ? ` · ${n(rows.kept)} ${KEPT}` : ''}`,
  );
  if (r.failures.length) {
    out.push('', 'Failed rows (sent again on the next run):');
    for (const f of r.failures.slice(0, 10)) out.push(`  ${config.key}=${f.key}  ${f.status ?? ''} ${f.code}  ${f.message}`);
  }
  if (r.invalid.length) {
    out.push('', `Invalid rows (not sent: fix the model; \`syncline plan\` lists them):`);
    for (const line of invalidLines(r.invalid.slice(0, 3), config.key)) out.push(`  ${line}`);
    if (r.invalid.length > 3) out.push(`  … ${n(rows.invalid)} invalid rows in all`);
  }
  out.push(
    '',
    `Done. SENT=${n(rows.synced)} FAILED=${n(rows.failed)} INVALID=${n(rows.invalid)} UNCHANGED=${n(rows.unchanged)} TOTAL=${n(rows.total)} · ${n(r.requests)} calls`,
  );
  if (r.status === 'resume_later') out.push(`Next: syncline run ${config.file}  (after ${r.resumeAt})`);
  else if (rows.failed) out.push(`Next: syncline rows ${config.file} <key>  (or syncline runs show ${config.file} ${r.runId})`);
  return out.join('\n');
}

/** The one JSON line `run --json` ends with. */
export function runJson(r: RunResult) {
  const { total: _t, ...rows } = r.rows;
  return {
    runId: r.runId,
    status: r.status,
    dryRun: r.dryRun,
    rows,
    requests: r.requests,
    // The first 100 invalid rows, located as in `plan --json`.
    ...(r.invalid.length ? { invalid: r.invalid.map(invalidJson) } : {}),
    ...(r.resumeAt === undefined ? {} : { resumeAt: r.resumeAt }),
    ...(r.remaining === undefined ? {} : { remaining: r.remaining }),
    ...(r.error ? { error: { code: r.error.code, message: r.error.message } } : {}),
  };
}
