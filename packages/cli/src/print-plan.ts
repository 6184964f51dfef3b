import { shortValue, type RemoteRow, type RunResult } from '@syncline/core';
import {
  chooseSplit,
  knockSendsRemovals,
  endpointSeconds,
  RUN_LOOP_COST,
  sendSeconds,
  splitRates,
  tierRate,
  DEFAULT_RATE_SAFETY,
  tierRates,
  UNPACED_RATE,
} from '@syncline/destination-knock';
import type { LoadedConfig } from './load-config.js';
import { n, paint, secs, type Style } from './format.js';
import { KEPT, removalEffect, ruleText } from './removal-effect.js';
import { version } from './version.js';

/** JSON-quotes a value, redacts anything key-like and cuts it at 60 characters: `"abc…(+812 chars)"`. */
const value = (v: unknown): string => shortValue(v, 60);

const verbs = (c: LoadedConfig) => {
  const t = c.spec.target;
  if (t.type === 'objects') return { add: 'to set', change: 'to change', remove: 'to delete' };
  if (t.type === 'audiences')
    return t.mode === 'add'
      ? { add: `to add to ${t.audience}`, change: 'to update', remove: `to remove from ${t.audience}` }
      : { add: `to remove from ${t.audience}`, change: `to remove from ${t.audience}`, remove: 'leaving the model (no call)' };
  return { add: 'to add', change: 'to change', remove: 'to delete' };
};

/** The human plan (ux.md §2): header, row actions with field-level before → after, requests, the frozen summary. */
/** Why the upserts go as they go: bulk jobs alone, or with single calls because that finishes sooner. */
function splitChoiceLine(config: LoadedConfig, upserts: number): string | undefined {
  const t = config.spec.target;
  if ((t.type !== 'users' && t.type !== 'objects') || upserts === 0) return undefined;
  const tiers = config.destination.tiers;
  const all = tierRates(tiers) ?? { 1: UNPACED_RATE, 2: UNPACED_RATE, 3: UNPACED_RATE, 4: UNPACED_RATE, 5: UNPACED_RATE };
  const c = chooseSplit(upserts, splitRates({ tiers: all, singleOnlySeconds: 1.5, rateSafety: DEFAULT_RATE_SAFETY }, t.type, 'upsert'));
  const s = (x: number): string => `${Math.ceil(x)}s`;
  // Held back by the run loop (the ledger writes every confirmed row), not by Knock's tiers: say so.
  const loopBound = upserts / RUN_LOOP_COST.ledgerRowsPerSecond + c.bulkCalls * RUN_LOOP_COST.secondsPerCall >= c.bulkOnlySeconds - 1e-9;
  if (c.singles === 0)
    return loopBound
      ? `Plan: bulk jobs only (≈ ${s(c.bulkOnlySeconds)}, bound by ledger writes at ~${n(RUN_LOOP_COST.ledgerRowsPerSecond)} rows/s); single calls would only add calls.`
      : `Plan: bulk jobs only (≈ ${s(c.bulkOnlySeconds)}); single calls would not finish sooner.`;
  if (c.bulkCalls === 0) return `Plan: single calls only (≈ ${s(c.seconds)}), sooner than a bulk job (≈ ${s(c.bulkOnlySeconds)}).`;
  return `Plan: ${c.bulkCalls} bulk jobs beside ${c.singles} single calls (≈ ${s(c.seconds)}), sooner than bulk jobs only (≈ ${s(c.bulkOnlySeconds)}).`;
}

export function formatPlan(config: LoadedConfig, r: RunResult, meta: { version: string; target: string }, style: Style): string {
  const p = paint(style);
  const t = config.spec.target;
  const out: string[] = [];
  const removal = removalEffect(t);
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
  if (rows.added + rows.changed + rows.removed + rows.kept + rows.invalid === 0) {
    out.push('', `No changes. Knock already matches the model (${n(rows.total)} rows compared).`);
    return out.join('\n');
  }
  // The legend names only the symbols used; a kept removal is never called a delete.
  const sends = knockSendsRemovals(t);
  const legend = [
    rows.added ? '+ add' : '',
    rows.changed ? '~ change' : '',
    rows.removed || rows.kept ? `- ${sends ? 'delete' : 'left the model'}` : '',
    rows.invalid ? '! invalid (not sent)' : '',
  ].filter(Boolean);
  out.push('', `Row actions:  ${legend.join('   ')}`, '');
  const sym = { add: p.green('+'), change: p.yellow('~'), remove: sends ? p.red('-') : p.dim('-') };
  for (const c of r.preview) {
    // A removal is one line saying what happens to the record, never field by field.
    if (c.action === 'remove') {
      out.push(`  ${sym.remove} ${config.spec.key}=${c.key}   ${removalEffect(t, c.key)}`);
      continue;
    }
    out.push(`  ${sym[c.action]} ${config.spec.key}=${c.key}`);
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
  const invalidShown = r.invalid.slice(0, INVALID_SHOWN);
  // Many invalid rows: counted by reason first (every row), then a sample.
  if (rows.invalid > INVALID_SHOWN)
    for (const x of r.invalidByReason.slice(0, 5))
      out.push(
        `  ${p.red('!')} ${n(x.count)} × ${x.field}  ${ruleText(x)}${r.invalidByReason.length > 5 && x === r.invalidByReason[4] ? '  (and other reasons)' : ''}`,
      );
  for (const line of invalidLines(invalidShown, config.spec.key)) out.push(`  ${p.red('!')} ${line}`);
  const shown = (a: 'add' | 'change' | 'remove') => r.preview.filter((c) => c.action === a).length;
  const gone = sends ? `${shown('remove')} of ${n(rows.removed)} deletes` : `${shown('remove')} of ${n(rows.kept)} left in Knock`;
  const invalidPart = rows.invalid ? `, ${invalidShown.length} of ${n(rows.invalid)} invalid` : '';
  out.push(
    '',
    p.dim(
      `  … ${shown('add')} of ${n(rows.added)} adds, ${shown('change')} of ${n(rows.changed)} changes, ${gone}${invalidPart} shown (--limit N, or --json for all)`,
    ),
  );
  if (r.endpoints.length) {
    const tiers = config.destination.tiers;
    out.push('', tiers === 'off' ? 'Requests (pacing off: tiers: off in the config):' : 'Requests (Knock rate limits):');
    const rates = tierRates(tiers);
    const est = sendSeconds(r.endpoints, rates);
    for (const e of r.endpoints) {
      const perSecond = tierRate(e.tier, rates);
      const s = endpointSeconds(e, rates);
      out.push(
        `  ${e.endpoint.padEnd(38)} ${n(e.rows).padStart(7)} rows in ${n(e.calls)} call${e.calls === 1 ? '' : 's'}${perSecond ? `   tier ${e.tier} · ${perSecond} call/s   ≈ ${s}s` : ''}`,
      );
    }
    out.push(
      `  Estimated send ≈ ${est}s (calls to different endpoints run side by side), plus Knock's processing of bulk operations (polled, not estimated).`,
    );
    const choice = splitChoiceLine(config, rows.added + rows.changed);
    if (choice) out.push(`  ${choice}`);
  }
  for (const g of r.guards) {
    const text = `! ${g.message}; \`syncline run\` will refuse this sync`;
    const line = '─'.repeat(Math.min(100, text.length + 2));
    out.push('', p.yellow(`┌${line}┐`), p.yellow(`│ ${text} │`), p.yellow(`└${line}┘`));
  }
  const v = verbs(config);
  // Frozen (ux.md §2), with the kept removals appended when there are some: they are not deletes.
  const third = sends || t.type !== 'audiences' ? `${n(rows.removed)} ${v.remove}` : `${n(rows.kept)} ${v.remove}`;
  const kept = !sends && t.type !== 'audiences' && rows.kept ? `, ${n(rows.kept)} ${KEPT}` : '';
  out.push(
    '',
    `Plan: ${n(rows.added)} ${v.add}, ${n(rows.changed)} ${v.change}, ${third}. ${n(rows.unchanged)} unchanged, ${n(rows.invalid)} invalid (not sent)${kept}.`,
  );
  out.push('', `Run \`syncline run ${config.file}\` to send (the diff is computed again).`);
  return out.join('\n');
}

/** Invalid rows shown in a plan (the JSON plan lists up to the 100 the run keeps). */
const INVALID_SHOWN = 10;

/**
 * One line per invalid row, columns aligned: `row 3,118  user_id=u_07781  phone_number  "+1-555"  is not an E.164 phone number`.
 * The value is already redacted and shortened by core; the field is printed once.
 */
export function invalidLines(invalid: RunResult['invalid'], keyColumn: string): string[] {
  const cols = invalid.map((i) => [
    i.row === undefined ? 'row ?' : `row ${n(i.row)}`,
    `${keyColumn}=${i.key}`,
    i.field,
    i.value ?? '',
    ruleText(i),
  ]);
  const width = [0, 1, 2, 3].map((c) => Math.max(0, ...cols.map((x) => x[c]!.length)));
  return cols.map((x) => x.map((v, c) => (c < 4 ? v.padEnd(width[c]!) : v)).join('  '));
}

/** An invalid row as `plan --json` and `run --json` give it. */
export const invalidJson = (i: RunResult['invalid'][number]) => ({
  row: i.row ?? null,
  key: i.key,
  field: i.field,
  value: i.value ?? null,
  rule: i.rule,
  message: ruleText(i),
});

/**
 * The keys of `plan --json` every destination shares: the model, the counts and the requests. `left` names
 * the count of rows that left the model but stay in the destination (no call, never counted as deletes).
 */
export function planCounts<L extends string>(r: RunResult, left: L) {
  return {
    before_source: 'ledger' as const,
    mapping_changed: r.mappingChanged,
    model: { rows: r.rows.total, elapsed_ms: r.phases.find((x) => x.name === 'stage')?.ms ?? 0 },
    summary: {
      add: r.rows.added,
      change: r.rows.changed,
      delete: r.rows.removed,
      unchanged: r.rows.unchanged,
      invalid: r.rows.invalid,
      ...({ [left]: r.rows.kept } as Record<L, number>),
    },
    requests: r.requests,
  };
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
    ...planCounts(r, 'left_in_knock'),
    estimate: { requests: r.endpoints.map((e) => ({ endpoint: e.endpoint, calls: e.calls, rows: e.rows, tier: e.tier ?? null })) },
    changes: r.preview.map((c) =>
      c.action === 'remove'
        ? // One entry saying what happens to the record; a kept one is never called a delete.
          {
            action: knockSendsRemovals(t) ? 'delete' : 'left_in_knock',
            key: c.key,
            reason: 'not_in_model',
            effect: removalEffect(t, c.key),
          }
        : {
            action: c.action,
            key: c.key,
            fields: c.fields,
            ...(c.action === 'change' ? { unchanged_fields: c.unchangedFields } : {}),
          },
    ),
    invalid_by_reason: r.invalidByReason.map((x) => ({ field: x.field, rule: x.rule, message: ruleText(x), count: x.count })),
    invalid: r.invalid.map(invalidJson),
    guards: r.guards,
    error: r.error ?? null,
  };
}

/**
 * The one document `syncline plan --json` prints, and the playground's *Download plan.json* (the server
 * answers it as the plan's `document`): the machine plan, its delete window, and with `remote` the sample
 * rows as Knock holds them now.
 * @example io.stdout.write(JSON.stringify(planDocument(config, result, { baseUrl })) + '\n')
 */
export function planDocument(config: LoadedConfig, r: RunResult, meta: { baseUrl: string }, remote?: RemoteRow[]) {
  return {
    ...planJson(config, r, { version, baseUrl: meta.baseUrl }),
    delete_window: r.deleteWindow ?? null,
    ...(remote ? { remote } : {}),
  };
}

/**
 * `plan --remote`: each sample row as Knock holds it now, beside what Syncline last sent and what it will
 * send. A field where Knock differs from the last sent value is marked drift (someone else edited it).
 */
export function formatRemote(rows: readonly RemoteRow[], keyColumn: string, style: Style): string {
  const p = paint(style);
  const drifted = rows.reduce((n, r) => n + r.fields.filter((f) => f.drift).length, 0);
  const lines = [
    p.bold(`Knock now ${p.arrow} last sent ${p.arrow} will send`) +
      ` (${n(rows.length)} sample ${rows.length === 1 ? 'row' : 'rows'}, ${n(drifted)} ${drifted === 1 ? 'field' : 'fields'} drifted)`,
  ];
  if (rows.length === 0) lines.push('  no sample rows to read (nothing to send)');
  for (const r of rows) {
    lines.push(`  ${keyColumn}=${r.key}${r.found ? '' : p.dim(' (not in Knock)')}`);
    const width = Math.max(0, ...r.fields.map((f) => f.field.length));
    for (const f of r.fields) {
      const line = `    ${f.field.padEnd(width)}  ${value(f.now)} ${p.arrow} ${value(f.lastSent)} ${p.arrow} ${value(f.willSend)}`;
      lines.push(f.drift ? `${line}  ${p.yellow('drift: Knock differs from what Syncline last sent')}` : line);
    }
  }
  return lines.join('\n');
}
