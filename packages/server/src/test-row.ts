import { KNOCK_TIERS, knockDestination, planOperations, validateRow, type KnockOpData } from '@syncline/destination-knock';
import type { LoadedConfig } from '@syncline/cli';
import { ApiError } from './api-error.js';
import type { KnockTarget } from './knock-target.js';
import type { SqlSandbox } from './sql-sandbox.js';
import { modelPayloads, shownRequest } from './model-payloads.js';

/** One row of the model as a run would send it alone, and what Knock holds for it now. */
export interface TestRow {
  key: string;
  /** The mapped payload, as the run computes it (DuckDB's projection). */
  payload: Record<string, unknown>;
  /** What Knock would refuse in it (the row is then not sent). */
  issues: { field: string; rule: string; message: string }[];
  /** The exact call for this row alone: method, path, headers (key redacted) and body. */
  request: { method: string; path: string; headers: Record<string, string>; body: unknown };
  /** Knock's record of this key now (null: not in Knock); absent when the destination cannot be read. */
  current?: Record<string, unknown> | null;
}

/**
 * *Test a row*: the model's row with this key (run in the SQL sandbox), mapped by the same projection a run
 * uses, validated by Knock's rules, turned into the single call the Knock destination would make for it
 * (`planOperations` of one change), beside the record Knock (or the emulator) holds for the key now. Sends
 * nothing: the only call is the read.
 * @example await testRow(config, 'u_0001', { sandbox, target })
 */
export async function testRow(config: LoadedConfig, key: string, deps: { sandbox: SqlSandbox; target: KnockTarget }): Promise<TestRow> {
  const spec = config.spec;
  const payload = (await modelPayloads(config, [key], deps.sandbox)).get(key);
  if (!payload) throw new ApiError('not_found', `no row of the model has ${spec.key} = ${JSON.stringify(key)}`, 404);
  const issues = validateRow({ key, payload }, spec.target).map((i) => ({ field: i.field, rule: i.rule, message: i.message }));
  const plan = planOperations(
    [{ action: 'add', key, payload, hash: null }],
    { target: spec.target, totals: { add: 1, change: 0, remove: 0 } },
    { tiers: KNOCK_TIERS, singleOnlySeconds: 1.5 },
  );
  const data = plan.operations[0]?.data as KnockOpData | undefined;
  if (!data) throw new ApiError('invalid_request', 'this sync sends no call for an added row', 400);
  const request = shownRequest(data.request);
  const { apiKey, baseUrl } = deps.target.credentials();
  const destination = knockDestination({ apiKey, baseUrl, ...(config.destination.tiers ? { tiers: config.destination.tiers } : {}) });
  try {
    const read = destination.read ? await destination.read([key], spec.target) : undefined;
    return { key, payload, issues, request, ...(read ? { current: read.get(key) ?? null } : {}) };
  } finally {
    await destination.close?.();
  }
}
