import type { SyncTarget } from '@syncline/core';
import { z } from 'zod';

/** What a Knock sync writes: users, objects of a collection, or the members of an audience. */
export type KnockSyncType = 'users' | 'objects' | 'audiences';

/**
 * The Knock destination's keys of a config's `sync:` block (core owns `fields`, `onDelete` and `nulls`):
 * the type, its mode (users/objects: `upsert`; audiences: `add`, the default, or `remove`), the objects'
 * collection and the audience's key. Refinement paths are relative to the block, so a loader reports them at
 * `sync.collection`, `sync.mode`… The output has `mode` filled in.
 * @example knockTargetSchema.parse({ type: 'objects', collection: 'projects' }) // { type: 'objects', mode: 'upsert', collection: 'projects' }
 */
export const knockTargetSchema = z
  .strictObject({
    type: z.enum(['users', 'objects', 'audiences']),
    mode: z.enum(['upsert', 'add', 'remove']).optional(),
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
  })
  .transform((s) => ({ ...s, mode: s.mode ?? (s.type === 'audiences' ? ('add' as const) : ('upsert' as const)) }));

/** The Knock part of a sync's target, validated (`mode` filled in). */
export type KnockTargetFields = z.output<typeof knockTargetSchema>;

/** What the Knock destination receives about a sync: its Knock target and core's onDelete and nulls. */
export type KnockTarget = SyncTarget<KnockTargetFields>;

/**
 * Whether a row leaving the model becomes a Knock call: a delete with `onDelete: delete`, a removal from the
 * audience in `add` mode (an audience in `remove` mode never re-adds a leaver).
 */
export function knockSendsRemovals(target: Pick<KnockTarget, 'type' | 'mode' | 'onDelete'>): boolean {
  return target.type === 'audiences' ? target.mode === 'add' : target.onDelete === 'delete';
}

/**
 * The target's parts that shape Knock's payloads and endpoints, in the order the row-hash salt has always used
 * (changing the order would resend every synced row once): type, mode, collection, audience.
 */
export function knockHashParts(target: KnockTarget): Record<string, unknown> {
  return { type: target.type, mode: target.mode, collection: target.collection ?? null, audience: target.audience ?? null };
}
