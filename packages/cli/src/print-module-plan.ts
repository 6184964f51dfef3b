import { shortValue, type Destination, type RunResult } from '@syncline/core';
import type { LoadedConfig } from './load-config.js';
import { n, paint, secs, type Style } from './format.js';
import { planCounts } from './print-plan.js';

/**
 * The human plan of a sync whose destination is a module: the same header, row actions and field-level
 * before → after as Knock's plan, without what only Knock has (rate tiers, removal semantics, ETA).
 */
export function formatModulePlan(
  config: LoadedConfig,
  destination: Destination,
  r: RunResult,
  meta: { version: string; label: string },
  style: Style,
): string {
  const p = paint(style);
  const t = config.spec.target;
  const sends = destination.sendsRemovals ? destination.sendsRemovals(t) : t.onDelete === 'delete';
  const out = [
    `Syncline ${meta.version} · plan · nothing will be sent`,
    `  sync    ${config.spec.name} ${p.arrow} ${meta.label} (row removed from model: ${sends ? 'removed' : 'kept'})`,
  ];
  const q = r.phases.find((x) => x.name === 'stage');
  out.push(`  model   ${n(r.rows.total)} rows${q ? ` · ${secs(q.ms)}` : ''}`, `  key     ${config.spec.key}`);
  if (r.mappingChanged) out.push(p.yellow(`  ! the field mapping changed since the last run: every row is sent again`));
  if (r.error) return out.concat('', p.red(`Error: ${r.error.message}`)).join('\n');
  const rows = r.rows;
  if (rows.added + rows.changed + rows.removed + rows.kept + rows.invalid === 0)
    return out.concat('', `No changes. ${destination.name} already matches the model (${n(rows.total)} rows compared).`).join('\n');
  out.push('');
  const sym = { add: p.green('+'), change: p.yellow('~'), remove: sends ? p.red('-') : p.dim('-') };
  for (const c of r.preview) {
    out.push(
      `  ${sym[c.action]} ${config.spec.key}=${c.key}${c.action === 'remove' ? (sends ? '   removed' : '   left the model (no call)') : ''}`,
    );
    for (const f of c.fields)
      out.push(
        c.action === 'add'
          ? `      + ${f.field.padEnd(12)} = ${shortValue(f.after, 60)}`
          : `      ~ ${f.field.padEnd(12)} = ${shortValue(f.before, 60)} ${p.arrow} ${shortValue(f.after, 60)}`,
      );
  }
  for (const i of r.invalid.slice(0, 20)) out.push(`  ${p.red('!')} ${config.spec.key}=${i.key}  ${i.field}: ${i.message}`);
  if (r.endpoints.length) {
    out.push('', 'Requests:');
    for (const e of r.endpoints)
      out.push(`  ${e.endpoint.padEnd(38)} ${n(e.rows).padStart(7)} rows in ${n(e.calls)} call${e.calls === 1 ? '' : 's'}`);
  }
  out.push(
    '',
    `Plan: ${n(rows.added)} to add, ${n(rows.changed)} to change, ${n(sends ? rows.removed : 0)} to remove${rows.kept ? `, ${n(rows.kept)} left the model (kept)` : ''}${rows.invalid ? `, ${n(rows.invalid)} invalid (not sent)` : ''}; ${n(rows.unchanged)} unchanged.`,
  );
  return out.join('\n');
}

/** `plan --json` of a sync whose destination is a module (the Knock plan's keys that apply to any destination). */
export function modulePlanJson(config: LoadedConfig, destination: Destination, r: RunResult, meta: { version: string; module: string }) {
  const t = config.spec.target;
  return {
    format_version: '1.0',
    kind: 'syncline.plan',
    syncline_version: meta.version,
    created_at: new Date().toISOString(),
    sync: { name: config.spec.name, config: config.file, on_delete: t.onDelete, key: config.spec.key },
    target: { kind: 'module', module: meta.module, destination: destination.name },
    ...planCounts(r, 'left_in_destination'),
    estimate: { requests: r.endpoints.map((e) => ({ endpoint: e.endpoint, calls: e.calls, rows: e.rows })) },
    changes: r.preview.map((c) => ({ action: c.action, key: c.key, fields: c.fields })),
    invalid: r.invalid.map((i) => ({ key: i.key, field: i.field, message: i.message })),
    error: r.error ? { code: r.error.code, message: r.error.message } : null,
  };
}
