import type { InvalidRow } from '@syncline/core';
import { knockSendsRemovals, type KnockTarget } from '@syncline/destination-knock';

/**
 * What happens in Knock to a row that left the model, in the words a plan, a run summary and `rows` use:
 * `delete user`, `delete object companies/c_1`, `remove from audience vip`, or, when the sync sends no
 * removals, `left in Knock (onDelete: nothing)`. Never "delete" for a record that is kept.
 * @example removalEffect({ type: 'users', onDelete: 'nothing', … }) // 'left in Knock (onDelete: nothing)'
 */
export function removalEffect(target: KnockTarget, key?: string): string {
  if (target.type === 'audiences')
    return target.mode === 'add' ? `remove from audience ${target.audience}` : `stays out of audience ${target.audience} (mode: remove)`;
  if (!knockSendsRemovals(target)) return KEPT;
  return target.type === 'users' ? 'delete user' : `delete object ${target.collection}${key === undefined ? '' : `/${key}`}`;
}

/** The words for a removal the sync does not send (users and objects with `onDelete: nothing`). */
export const KEPT = 'left in Knock (onDelete: nothing)';

/** A validation message without its leading field name (`email is not…` → `is not…`): the field is printed once, beside it. */
export const ruleText = (i: Pick<InvalidRow, 'field' | 'message'>): string =>
  i.message.startsWith(`${i.field} `) ? i.message.slice(i.field.length + 1) : i.message;
