import type { RunResult } from '@syncline/core';
import type { LoadedConfig } from '@syncline/cli';
import { endpointSeconds, sendSeconds, tierRate, tierRates } from '@syncline/destination-knock';
import type { ExampleRequest } from './example-requests.js';

/**
 * The plan as the API answers it: the dry run's counts, sample changes field by field, invalid rows,
 * guards, and each endpoint it would call with the calls, rows and seconds its rate tiers need (the sync's
 * `destination.tiers`, Knock's defaults for the rest; `off`: no pacing, no estimate).
 * Headers are shown as sent, with the key redacted; `examples` (by endpoint) adds each endpoint's first call.
 * @example c.json(planBody(config, result, target, 'syncs/users.yaml', await exampleRequests(config, result)))
 */
export function planBody(
  config: LoadedConfig,
  result: RunResult,
  target: { kind: 'emulator' | 'knock'; baseUrl: string; key: string },
  file: string,
  examples: ReadonlyMap<string, ExampleRequest> = new Map(),
) {
  const t = config.spec.target;
  const rates = tierRates(config.destination.tiers);
  const requests = result.endpoints.map((e) => {
    const [method = 'POST', path = e.endpoint] = e.endpoint.split(' ');
    const perSecond = tierRate(e.tier, rates) ?? null;
    const example = examples.get(e.endpoint);
    return {
      method,
      path,
      headers: { authorization: 'Bearer sk_…redacted', 'content-type': 'application/json' },
      calls: e.calls,
      rows: e.rows,
      tier: e.tier ?? null,
      perSecond,
      seconds: endpointSeconds(e, rates),
      ...(example ? { example } : {}),
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
    estimate: { seconds: sendSeconds(result.endpoints, rates), excludes: ['bulk_operation_processing'] },
  };
}
