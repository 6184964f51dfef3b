import { z } from 'zod';
import type { SyncTarget } from './contract.js';

/**
 * The `sync:` block of a config: what to send and how. Field mapping is `Knock field ← model column`.
 * @example syncTargetSchema.parse({ type: 'users', mode: 'upsert', fields: { email: 'email' } })
 */
export const syncBlockSchema = z
  .strictObject({
    type: z.enum(['users', 'objects', 'audiences']),
    mode: z.enum(['upsert', 'add', 'remove']).optional(),
    fields: z.record(z.string().min(1), z.string().min(1)).default({}),
    onDelete: z.enum(['nothing', 'delete']).default('nothing'),
    nulls: z.enum(['send', 'skip']).default('skip'),
    collection: z.string().min(1).optional(),
    audience: z.string().min(1).optional(),
    createAudience: z.boolean().optional(),
  })
  .superRefine((s, ctx) => {
    const mode = s.mode ?? (s.type === 'audiences' ? 'add' : 'upsert');
    if (s.type === 'audiences' ? mode === 'upsert' : mode !== 'upsert')
      ctx.addIssue({
        code: 'custom',
        path: ['mode'],
        message: `mode "${mode}" is not valid for ${s.type} (users/objects: upsert; audiences: add | remove)`,
      });
    if (s.type === 'objects' && !s.collection) ctx.addIssue({ code: 'custom', path: ['collection'], message: 'required for objects' });
    if (s.type === 'audiences' && !s.audience) ctx.addIssue({ code: 'custom', path: ['audience'], message: 'required for audiences' });
    if (s.type !== 'objects' && s.collection)
      ctx.addIssue({ code: 'custom', path: ['collection'], message: `only for objects, not ${s.type}` });
    if (s.type !== 'audiences' && (s.audience || s.createAudience !== undefined))
      ctx.addIssue({ code: 'custom', path: ['audience'], message: `only for audiences, not ${s.type}` });
  });

export type SyncBlock = z.infer<typeof syncBlockSchema>;

/** What the run loop needs: a model, its key column, the target and its field mapping. */
export interface SyncSpec {
  name: string;
  model: string;
  key: string;
  target: SyncTarget;
  /** Knock field → model column. */
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
 * Whether a row leaving the model becomes a call (a delete, or a removal from the audience): with
 * `onDelete: 'delete'`, or for an audience in `add` mode. Otherwise the record is left at the destination
 * and the removal is only forgotten by the ledger (counted as `kept`, never as `removed`).
 */
export function sendsRemovals(target: SyncTarget): boolean {
  return target.type === 'audiences' ? target.mode === 'add' : target.onDelete === 'delete';
}

export const syncSpecFieldsSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'letters, digits, "_", "-", "." (max 128)'),
  /** The SQL, or `{ sql, timeout }` (timeout: a duration, default 30m). */
  model: z.union([z.string().min(1), z.strictObject({ sql: z.string().min(1), timeout: durationMs.optional() })]),
  key: z.string().min(1),
  maxDeleteShare: z.number().min(0).max(1).default(0.2),
  sync: syncBlockSchema,
});

/** Builds a SyncSpec from the validated parts of a config. */
export function toSyncSpec(c: z.infer<typeof syncSpecFieldsSchema>): SyncSpec {
  const s = c.sync;
  return {
    name: c.name,
    model: typeof c.model === 'string' ? c.model : c.model.sql,
    modelTimeoutMs: typeof c.model === 'string' ? MODEL_TIMEOUT_MS : (c.model.timeout ?? MODEL_TIMEOUT_MS),
    key: c.key,
    fields: s.fields,
    maxDeleteShare: c.maxDeleteShare,
    target: {
      type: s.type,
      mode: s.mode ?? (s.type === 'audiences' ? 'add' : 'upsert'),
      onDelete: s.onDelete,
      nulls: s.nulls,
      collection: s.collection,
      audience: s.audience,
      createAudience: s.createAudience,
    },
  };
}
