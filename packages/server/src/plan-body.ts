import type { RunResult } from '@syncline/core';
import type { LoadedConfig } from '@syncline/cli';

/** Requests per second of Knock's rate tiers (https://docs.knock.app/api-reference/overview/rate-limits). */
const TIER_PER_SECOND: Record<number, number> = { 1: 1, 2: 5, 3: 60, 4: 200, 5: 1_000 };

/**
 * The plan as the API answers it: the dry run's counts, sample changes field by field, invalid rows,
 * guards, and each endpoint it would call with the calls, rows and seconds Knock's rate tiers need.
 * Headers are shown as sent, with the key redacted.
 * @example c.json(planBody(config, result, target, 'syncs/users.yaml'))
 */
export function planBody(
  config: LoadedConfig,
  result: RunResult,
  target: { kind: 'emulator' | 'knock'; baseUrl: string; key: string },
  file: string,
) {
  const t = config.spec.target;
  const requests = result.endpoints.map((e) => {
    const [method = 'POST', path = e.endpoint] = e.endpoint.split(' ');
    const perSecond = e.tier ? (TIER_PER_SECOND[e.tier] ?? null) : null;
    return {
      method,
      path,
      headers: { authorization: 'Bearer sk_…redacted', 'content-type': 'application/json' },
      calls: e.calls,
      rows: e.rows,
      tier: e.tier ?? null,
      perSecond,
      seconds: perSecond ? Math.ceil(e.calls / perSecond) : 0,
    };
  });
  return {
    sync: { name: config.spec.name, file, type: t.type, mode: t.mode, onDelete: t.onDelete, key: config.spec.key },
    target,
    summary: { ...result.rows },
    changes: result.preview.map((p) => ({
      action: p.action,
      key: p.key,
      fields: p.fields.map((f) => ({ field: f.field, before: f.before ?? null, after: f.after ?? null })),
      unchangedFields: p.unchangedFields,
    })),
    invalid: result.invalid.map((i) => ({
      key: i.key,
      field: i.field,
      rule: i.rule,
      message: i.message,
      ...(i.row !== undefined ? { row: i.row } : {}),
      ...(i.value !== undefined ? { value: i.value } : {}),
    })),
    guards: result.guards,
    requests,
    estimate: { seconds: requests.reduce((s, r) => s + r.seconds, 0), excludes: ['bulk_operation_processing'] },
  };
}
