import { literal, payloadProjection, redact } from '@syncline/core';
import type { KnockRequest } from '@syncline/destination-knock';
import type { LoadedConfig } from '@syncline/cli';
import { ApiError } from './api-error.js';
import type { SqlSandbox } from './sql-sandbox.js';

/**
 * The mapped payloads of the model's rows with these keys, computed in the SQL sandbox by the same projection
 * a run uses (a DuckDB source only). A key the model lacks is absent from the map.
 * @example const payloads = await modelPayloads(config, ['u_1', 'u_2'], sandbox)
 */
export async function modelPayloads(
  config: LoadedConfig,
  keys: readonly string[],
  sandbox: SqlSandbox,
): Promise<Map<string, Record<string, unknown>>> {
  const spec = config.spec;
  const model = `(\n${spec.model.trim().replace(/;\s*$/, '')}\n) as model`;
  const { columns } = await sandbox.query(`select * from ${model}`, 0);
  if (!columns.some((c) => c.name === spec.key))
    throw new ApiError('invalid_request', `key: column "${spec.key}" is not in the model`, 400, { field: 'key' });
  let projection: string;
  try {
    projection = payloadProjection(spec.fields, columns);
  } catch (e) {
    throw new ApiError('invalid_request', `sync.fields: ${(e as Error).message}`, 400, { field: 'sync.fields' });
  }
  if (keys.length === 0) return new Map();
  const column = `"${spec.key.replaceAll('"', '""')}"::VARCHAR`;
  const found = await sandbox.query(
    `select ${column} as k, ${projection} as payload from ${model} where ${column} in (${keys.map(literal).join(', ')})`,
    keys.length * 2,
  );
  return new Map(found.rows.map((r) => [String(r.k), JSON.parse(String(r.payload)) as Record<string, unknown>]));
}

/** A Knock call as the API shows it: the key redacted in the header, and by construction in the body. */
export function shownRequest(request: KnockRequest): { method: string; path: string; headers: Record<string, string>; body: unknown } {
  const body = request.body ?? (request.json === undefined ? undefined : (JSON.parse(request.json) as unknown));
  return {
    method: request.method,
    path: request.path,
    headers: { authorization: 'Bearer sk_…redacted', 'content-type': 'application/json' },
    // Redaction by construction, as every exchange: no key-shaped text in a row leaves the server.
    body: body === undefined ? null : (JSON.parse(redact(JSON.stringify(body))) as unknown),
  };
}
