import type { Change, RunResult } from '@syncline/core';
import { knockDestination, type KnockOpData } from '@syncline/destination-knock';
import type { LoadedConfig } from '@syncline/cli';
import { modelPayloads, shownRequest } from './model-payloads.js';
import type { SqlSandbox } from './sql-sandbox.js';

/** One call of an endpoint as the plan would send it, built from the plan's sample rows. */
export interface ExampleRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
  /** Rows in this example (a real bulk call carries up to 1,000). */
  rows: number;
}

/**
 * An example call per endpoint of a dry run, for its Requests tab: the sample rows (the plan's preview) mapped
 * in the SQL sandbox and planned by the Knock destination as the run plans them (the run's totals pick single
 * or bulk calls), the first call of each endpoint kept, key redacted. Sends nothing. A DuckDB source only (a
 * Postgres model is not in the sandbox): otherwise, and for an endpoint the sample does not reach, no example.
 * @example const examples = await exampleRequests(config, result, sandbox) // Map { 'POST /v1/users/bulk/identify' => … }
 */
export async function exampleRequests(config: LoadedConfig, result: RunResult, sandbox: SqlSandbox): Promise<Map<string, ExampleRequest>> {
  const examples = new Map<string, ExampleRequest>();
  if (config.source.type !== 'duckdb' || result.preview.length === 0) return examples;
  const sending = result.preview.filter((p) => p.action !== 'remove').map((p) => p.key);
  const payloads = await modelPayloads(config, sending, sandbox);
  const changes: Change[] = [];
  for (const p of result.preview) {
    const payload = p.action === 'remove' ? null : payloads.get(p.key);
    if (payload !== undefined) changes.push({ action: p.action, key: p.key, payload, hash: null });
  }
  const r = result.rows;
  const totals = { add: r.added, change: r.changed, remove: r.removed + r.kept };
  // Planning needs no key and makes no call: the destination only shapes the requests.
  const destination = knockDestination({ apiKey: 'sk_example', ...(config.destination.tiers ? { tiers: config.destination.tiers } : {}) });
  try {
    for (const op of destination.plan(changes, { target: config.spec.target, totals }).operations) {
      if (examples.has(op.endpoint)) continue;
      examples.set(op.endpoint, { ...shownRequest((op.data as KnockOpData).request), rows: op.changes.length });
    }
  } finally {
    await destination.close?.();
  }
  return examples;
}
