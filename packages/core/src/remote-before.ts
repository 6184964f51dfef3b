import type { Destination, SyncTarget } from './contract.js';
import type { Ledger } from './ledger.js';
import type { PreviewChange } from './run-sync.js';
import { SyncError } from './sync-error.js';

/** One sample row of a remote plan: per field, the destination now → what Syncline last sent → what it will send. */
export interface RemoteRow {
  key: string;
  /** The destination holds a record for this key. */
  found: boolean;
  fields: { field: string; now: unknown; lastSent: unknown; willSend: unknown; drift: boolean }[];
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * "Remote before" of a dry run's sample rows: reads their current records from the destination
 * (`Destination.read`, through its rate limiter) and sets them beside the ledger's last sent payload and
 * the planned one. A field is `drift` where the destination differs from what Syncline last sent (someone
 * or something else edited it). Custom fields are looked up in the record's `properties` too.
 * @example const rows = await remoteBefore(destination, ledger, spec.target, result.preview)
 */
export async function remoteBefore(
  destination: Destination,
  ledger: Pick<Ledger, 'snapshotRow'>,
  target: SyncTarget,
  preview: readonly PreviewChange[],
  opts: { signal?: AbortSignal } = {},
): Promise<RemoteRow[]> {
  if (!destination.read)
    throw new SyncError('invalid_option', `remote: the ${destination.name} destination cannot read its records`, {
      adapter: destination.name,
    });
  const now = await destination.read(
    preview.map((p) => p.key),
    target,
    opts.signal ? { signal: opts.signal } : {},
  );
  const rows: RemoteRow[] = [];
  for (const p of preview) {
    const snap = await ledger.snapshotRow(p.key);
    const last = snap ? (JSON.parse(snap.payload) as Record<string, unknown>) : null;
    const record = now.get(p.key) ?? null;
    const props = (record?.['properties'] ?? {}) as Record<string, unknown>;
    const fields = [...new Set([...Object.keys(last ?? {}), ...p.fields.map((f) => f.field)])].sort();
    rows.push({
      key: p.key,
      found: record !== null,
      fields: fields.map((field) => {
        const planned = p.fields.find((f) => f.field === field);
        const lastSent = last?.[field] ?? null;
        const value = record === null ? null : field in record ? record[field] : (props[field] ?? null);
        return {
          field,
          now: value,
          lastSent,
          willSend: p.action === 'remove' ? null : planned ? planned.after : lastSent,
          drift: last !== null && !same(value, lastSent),
        };
      }),
    });
  }
  return rows;
}
