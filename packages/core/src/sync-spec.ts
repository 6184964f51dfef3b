import { z } from 'zod';
import type { Destination, SyncTarget } from './contract.js';
import { SyncError } from './sync-error.js';

/** The keys of the `sync:` block that core reads itself; every other key belongs to the destination. */
const genericSyncShape = {
  /** Destination field ← model column. */
  fields: z.record(z.string().min(1), z.string().min(1)).default({}),
  onDelete: z.enum(['nothing', 'delete']).default('nothing'),
  nulls: z.enum(['send', 'skip']).default('skip'),
};
const GENERIC_KEYS = new Set(Object.keys(genericSyncShape));

/** The destination's keys of a `sync:` block: everything but core's own. */
function destinationPart(block: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(block).filter(([k]) => !GENERIC_KEYS.has(k)));
}

/**
 * The `sync:` block as core reads it without knowing the destination: `fields`, `onDelete` and `nulls`
 * checked, the destination's keys kept as they are for its `targetSchema` (see `toSyncSpec`).
 */
export const syncBlockSchema = z.looseObject(genericSyncShape);

export type SyncBlock = z.infer<typeof syncBlockSchema>;

/**
 * The `sync:` block for one destination, strict: core's keys and the keys of the destination's
 * `targetSchema`, whose own checks (a key required for one type, say) run on the destination's part. Issues
 * keep their path in the block, so a config loader can point at the file's line and column.
 * @example configSchema.extend({ sync: syncBlockFor(knockTargetSchema) })
 */
export function syncBlockFor<T extends object>(targetSchema: z.ZodType<T>) {
  const input: unknown = targetSchema instanceof z.ZodPipe ? targetSchema.in : targetSchema;
  const shape = input instanceof z.ZodObject ? (input.shape as z.ZodRawShape) : undefined;
  const base = shape ? z.strictObject({ ...genericSyncShape, ...shape }) : z.looseObject(genericSyncShape);
  // The destination's own checks (a key required for one type, say), once: an issue the merged keys already
  // reported at the same path (a malformed URL, an unknown key) is not repeated.
  return base.check((ctx) => {
    const own = destinationPart(ctx.value);
    const r = targetSchema.safeParse(own);
    if (r.success) return;
    const seen = new Set(ctx.issues.map((i) => (i.path ?? []).join('.')));
    for (const issue of r.error.issues)
      if (!seen.has(issue.path.join('.'))) ctx.issues.push({ ...issue, input: own } as z.core.$ZodRawIssue);
  });
}

/** What the run loop needs: a model, its key column, the target and its field mapping. */
export interface SyncSpec<T extends object = object> {
  name: string;
  model: string;
  key: string;
  /** The destination's target (validated by its `targetSchema`) and core's generic behaviour. */
  target: SyncTarget<T>;
  /** Destination field → model column. */
  fields: Record<string, string>;
  /** Refuse a run that would remove more than this share of the snapshot (default 0.2). */
  maxDeleteShare: number;
  /** The model query is interrupted after this long (`model.timeout`, default 30 min). */
  modelTimeoutMs?: number;
}

/** A duration: seconds as a number, or `90s`, `15m`, `2h`. */
const durationMs = z.union([
  z
    .number()
    .positive()
    .transform((s) => s * 1000),
  z
    .string()
    .regex(/^\d+(\.\d+)?\s*(ms|s|m|h)$/, 'a duration such as 90s, 15m or 2h')
    .transform((t) => {
      const [, n, unit] = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/.exec(t)!;
      return Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
    }),
]);

/** Default of `model.timeout`: a runaway model is interrupted after 30 minutes. */
export const MODEL_TIMEOUT_MS = 30 * 60_000;

/**
 * Whether a row leaving the model becomes a call: the destination says (Knock: an audience in `add` mode
 * always removes members); by default, with `onDelete: 'delete'`. Otherwise the record is left at the
 * destination and the removal is only forgotten by the ledger (counted as `kept`, never as `removed`).
 */
export function sendsRemovals(destination: Pick<Destination, 'sendsRemovals'>, target: SyncTarget): boolean {
  return destination.sendsRemovals ? destination.sendsRemovals(target) : target.onDelete === 'delete';
}

/**
 * The target validated by the destination's `targetSchema` (its defaults filled in), with core's behaviour.
 * A target that does not fit is a SyncError `config_invalid` naming the `sync.` key at fault.
 */
export function resolveTarget<T extends object>(
  destination: Pick<Destination<T>, 'name' | 'targetSchema'>,
  target: SyncTarget,
): SyncTarget<T> {
  const { onDelete, nulls, ...own } = target;
  const r = destination.targetSchema.safeParse(own);
  if (!r.success) {
    const what = r.error.issues.map((i) => `sync.${i.path.join('.') || '(block)'}: ${i.message}`).join('; ');
    throw new SyncError('config_invalid', `the ${destination.name} destination refuses this sync: ${what}`);
  }
  return { ...r.data, onDelete, nulls };
}

export const syncSpecFieldsSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'letters, digits, "_", "-", "." (max 128)'),
  /** The SQL, or `{ sql, timeout }` (timeout: a duration, default 30m). */
  model: z.union([z.string().min(1), z.strictObject({ sql: z.string().min(1), timeout: durationMs.optional() })]),
  key: z.string().min(1),
  maxDeleteShare: z.number().min(0).max(1).default(0.2),
  sync: syncBlockSchema,
});

/**
 * Builds a SyncSpec from the validated parts of a config. With the destination's `targetSchema`, the target is
 * validated and its defaults filled (see `resolveTarget`); without, the destination's keys are carried as
 * written and `runSync` resolves them.
 */
export function toSyncSpec<T extends object = object>(
  c: z.infer<typeof syncSpecFieldsSchema>,
  destination?: Pick<Destination<T>, 'name' | 'targetSchema'>,
): SyncSpec<T> {
  const { fields, onDelete, nulls, ...own } = c.sync;
  const target = { ...own, onDelete, nulls } as SyncTarget<T>;
  return {
    name: c.name,
    model: typeof c.model === 'string' ? c.model : c.model.sql,
    modelTimeoutMs: typeof c.model === 'string' ? MODEL_TIMEOUT_MS : (c.model.timeout ?? MODEL_TIMEOUT_MS),
    key: c.key,
    fields,
    maxDeleteShare: c.maxDeleteShare,
    target: destination ? resolveTarget(destination, target) : target,
  };
}
