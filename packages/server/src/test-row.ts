import { literal, payloadProjection, redact } from '@syncline/core';
import { KNOCK_TIERS, knockDestination, planOperations, validateRow, type KnockOpData } from '@syncline/destination-knock';
import type { LoadedConfig } from '@syncline/cli';
import { ApiError } from './api-error.js';
import type { KnockTarget } from './knock-target.js';
import type { SqlSandbox } from './sql-sandbox.js';

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
  const model = `(\n${spec.model.trim().replace(/;\s*$/, '')}\n) as model`;
  const { columns } = await deps.sandbox.query(`select * from ${model}`, 0);
  if (!columns.some((c) => c.name === spec.key))
    throw new ApiError('invalid_request', `key: column "${spec.key}" is not in the model`, 400, { field: 'key' });
  let projection: string;
  try {
    projection = payloadProjection(spec.fields, columns);
  } catch (e) {
    throw new ApiError('invalid_request', `sync.fields: ${(e as Error).message}`, 400, { field: 'sync.fields' });
  }
  const found = await deps.sandbox.query(
    `select ${projection} as payload from ${model} where "${spec.key.replaceAll('"', '""')}"::VARCHAR = ${literal(key)}`,
    2,
  );
  if (found.total === 0) throw new ApiError('not_found', `no row of the model has ${spec.key} = ${JSON.stringify(key)}`, 404);
  const payload = JSON.parse(String(found.rows[0]!.payload)) as Record<string, unknown>;
  const issues = validateRow({ key, payload }, spec.target).map((i) => ({ field: i.field, rule: i.rule, message: i.message }));
  const plan = planOperations(
    [{ action: 'add', key, payload, hash: null }],
    { target: spec.target, totals: { add: 1, change: 0, remove: 0 } },
    { tiers: KNOCK_TIERS, singleOnlySeconds: 1.5 },
  );
  const data = plan.operations[0]?.data as KnockOpData | undefined;
  if (!data) throw new ApiError('invalid_request', 'this sync sends no call for an added row', 400);
  const { method, path } = data.request;
  const body = data.request.body ?? (data.request.json === undefined ? undefined : JSON.parse(data.request.json));
  const request = {
    method,
    path,
    headers: { authorization: 'Bearer sk_…redacted', 'content-type': 'application/json' },
    // Redaction by construction, as every exchange: no key-shaped text in a row leaves the server.
    body: body === undefined ? null : (JSON.parse(redact(JSON.stringify(body))) as unknown),
  };
  const { apiKey, baseUrl } = deps.target.credentials();
  const destination = knockDestination({ apiKey, baseUrl, ...(config.destination.tiers ? { tiers: config.destination.tiers } : {}) });
  try {
    const read = destination.read ? await destination.read([key], spec.target) : undefined;
    return { key, payload, issues, request, ...(read ? { current: read.get(key) ?? null } : {}) };
  } finally {
    await destination.close?.();
  }
}
