import type { Change, RunResult } from '@syncline/core';
import { knockDestination, type KnockOpData } from '@syncline/destination-knock';
import type { LoadedConfig } from '@syncline/cli';
import { shownRequest } from './model-payloads.js';

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
 * An example call per endpoint of a dry run, for its Requests tab: the plan's sample rows (their payloads are
 * carried on the preview) planned by the Knock destination as the run plans them (the run's totals pick single
 * or bulk calls), the first call of each endpoint kept, key redacted. Sends nothing and reads nothing again, so
 * it works for any source. An endpoint the sample does not reach gets no example.
 * @example const examples = await exampleRequests(config, result) // Map { 'POST /v1/users/bulk/identify' => … }
 */
export async function exampleRequests(config: LoadedConfig, result: RunResult): Promise<Map<string, ExampleRequest>> {
  const examples = new Map<string, ExampleRequest>();
  const changes: Change[] = [];
  for (const p of result.preview) {
    if (p.action === 'remove') changes.push({ action: p.action, key: p.key, payload: null, hash: null });
    else if (p.payload) changes.push({ action: p.action, key: p.key, payload: p.payload, hash: null });
  }
  if (changes.length === 0) return examples;
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
