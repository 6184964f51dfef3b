import type { RunResult } from '@syncline/core';
import type { LoadedConfig } from './load-config.js';
import { n, paint, secs, value, type Style } from './format.js';

const verbs = (c: LoadedConfig) => {
  const t = c.spec.target;
  if (t.type === 'objects') return { add: 'to set', change: 'to change', remove: 'to delete' };
  if (t.type === 'audiences')
    return t.mode === 'add'
      ? { add: `to add to ${t.audience}`, change: 'to update', remove: `to remove from ${t.audience}` }
      : { add: `to remove from ${t.audience}`, change: `to remove from ${t.audience}`, remove: 'leaving the model' };
  return { add: 'to add', change: 'to change', remove: 'to delete' };
};

/** The human plan (ux.md §2): header, row actions with field-level before → after, requests, the frozen summary. */
export function formatPlan(config: LoadedConfig, r: RunResult, meta: { version: string; target: string }, style: Style): string {
  const p = paint(style);
  const t = config.spec.target;
  const out: string[] = [];
  const removal =
    t.type === 'audiences'
      ? t.mode === 'add'
        ? 'remove from audience'
        : 'nothing'
      : t.onDelete === 'delete'
        ? `delete ${t.type === 'users' ? 'user' : 'object'}`
        : 'keep in Knock';
  out.push(`Syncline ${meta.version} · plan · nothing will be sent`);
  out.push(
    `  sync    ${config.spec.name} ${p.arrow} Knock ${t.type}${t.collection ? ` (${t.collection})` : ''}${t.audience ? ` (${t.audience})` : ''} (${t.mode}; row removed from model: ${removal})`,
  );
  out.push(`  target  ${meta.target}`);
  const q = r.phases.find((x) => x.name === 'stage');
  out.push(`  model   ${n(r.rows.total)} rows${q ? ` · ${secs(q.ms)}` : ''}`);
  out.push(`  key     ${config.spec.key}`);
  if (r.mappingChanged) out.push(p.yellow(`  ! the field mapping changed since the last run: every row is sent again`));
  if (r.error) return out.concat('', p.red(`Error: ${r.error.message}`)).join('\n');
  const rows = r.rows;
  if (rows.added + rows.changed + rows.removed + rows.invalid === 0) {
    out.push('', `No changes. Knock already matches the model (${n(rows.total)} rows compared).`);
    return out.join('\n');
  }
  out.push('', 'Row actions:  + add   ~ change   - delete   ! invalid (not sent)', '');
  const sym = { add: p.green('+'), change: p.yellow('~'), remove: p.red('-') };
  for (const c of r.preview) {
    out.push(`  ${sym[c.action]} ${config.spec.key}=${c.key}${c.action === 'remove' ? '   (no longer in the model)' : ''}`);
    for (const f of c.fields) {
      if (c.action === 'add') out.push(`      + ${f.field.padEnd(12)} = ${value(f.after)}`);
      else
        out.push(
          `      ~ ${f.field.padEnd(12)} = ${value(f.before)} ${p.arrow} ${value(f.after)}${f.after === null && t.nulls === 'skip' ? '   (null is skipped: Knock keeps its value)' : ''}`,
        );
    }
    if (c.action === 'change' && c.unchangedFields) out.push(p.dim(`        # (${c.unchangedFields} unchanged fields hidden)`));
  }
  if (r.invalid.length) out.push('');
  for (const i of r.invalid.slice(0, 10)) out.push(`  ${p.red('!')} ${config.spec.key}=${i.key}  ${i.field}  ${i.message}`);
  const shown = (a: 'add' | 'change' | 'remove') => r.preview.filter((c) => c.action === a).length;
  out.push(
    '',
    p.dim(
      `  … ${shown('add')} of ${n(rows.added)} adds, ${shown('change')} of ${n(rows.changed)} changes, ${shown('remove')} of ${n(rows.removed)} deletes shown (--limit N, or --json for all)`,
    ),
  );
  if (r.endpoints.length) {
    out.push('', 'Requests (Knock rate limits):');
    let est = 0;
    for (const e of r.endpoints) {
      const perSecond = e.tier ? [1, 5, 60, 200, 1000][e.tier - 1]! : undefined;
      const s = perSecond ? Math.ceil(e.calls / perSecond) : 0;
      est = Math.max(est, s);
      out.push(
        `  ${e.endpoint.padEnd(38)} ${n(e.rows).padStart(7)} rows in ${n(e.calls)} call${e.calls === 1 ? '' : 's'}${perSecond ? `   tier ${e.tier} · ${perSecond} call/s   ≈ ${s}s` : ''}`,
      );
    }
    out.push(
      `  Estimated send ≈ ${est}s (calls to different endpoints run side by side), plus Knock's processing of bulk operations (polled, not estimated).`,
    );
  }
  for (const g of r.guards) {
    const text = `! ${g.message}; \`syncline run\` will refuse this sync`;
    const line = '─'.repeat(Math.min(100, text.length + 2));
    out.push('', p.yellow(`┌${line}┐`), p.yellow(`│ ${text} │`), p.yellow(`└${line}┘`));
  }
  const v = verbs(config);
  out.push(
    '',
    `Plan: ${n(rows.added)} ${v.add}, ${n(rows.changed)} ${v.change}, ${n(rows.removed)} ${v.remove}. ${n(rows.unchanged)} unchanged, ${n(rows.invalid)} invalid (not sent).`,
  );
  out.push('', `Run \`syncline run ${config.file}\` to send (the diff is computed again).`);
  return out.join('\n');
}

/** The machine plan (ux.md §2, `plan --json`). Changes are ordered add → change → delete, then by key. */
export function planJson(config: LoadedConfig, r: RunResult, meta: { version: string; baseUrl: string }) {
  const t = config.spec.target;
  return {
    format_version: '1.0',
    kind: 'syncline.plan',
    syncline_version: meta.version,
    created_at: new Date().toISOString(),
    sync: { name: config.spec.name, config: config.file, type: t.type, mode: t.mode, on_delete: t.onDelete, key: config.spec.key },
    target: { kind: 'knock', base_url: meta.baseUrl },
    before_source: 'ledger',
    mapping_changed: r.mappingChanged,
    model: { rows: r.rows.total, elapsed_ms: r.phases.find((x) => x.name === 'stage')?.ms ?? 0 },
    summary: {
      add: r.rows.added,
      change: r.rows.changed,
      delete: r.rows.removed,
      unchanged: r.rows.unchanged,
      invalid: r.rows.invalid,
      // Rows that left the model but stay in Knock (onDelete: nothing): no call, never counted as deletes.
      left_in_knock: r.rows.kept,
    },
    requests: r.requests,
    estimate: { requests: r.endpoints.map((e) => ({ endpoint: e.endpoint, calls: e.calls, rows: e.rows, tier: e.tier ?? null })) },
    changes: r.preview.map((c) => ({
      action: c.action === 'remove' ? 'delete' : c.action,
      key: c.key,
      fields: c.fields,
      ...(c.action === 'change' ? { unchanged_fields: c.unchangedFields } : {}),
    })),
    invalid: r.invalid.map((i) => ({ key: i.key, field: i.field, rule: i.rule, message: i.message })),
    guards: r.guards,
    error: r.error ?? null,
  };
}
