/** What sending one part of a rejected batch gave: accepted, rejected as a whole (400/422), or another failure. */
export type PartOutcome<F> = { ok: true } | { ok: false; rejected: boolean; failure: F };

export interface SplitResult<T, F> {
  /** Items isolated as bad, each with the failure of the smallest rejected request that held it. */
  bad: Array<{ item: T; failure: F }>;
  /** Items left unsent after a part failed for another reason (5xx, rate limit…), with that failure. */
  unsent: Array<{ item: T; failure: F }>;
}

/**
 * Isolates the bad items of a batch that was rejected as a whole (Knock answers 400/422 for the request,
 * naming no row), sending the good ones in as few requests as possible (reliability.md §2.8, H-07).
 *
 * A rejected set holds at least one bad item. Its first half is sent: if accepted, the second half must
 * hold the bad item and is split in turn without being sent; if rejected, the search goes on in the first
 * half and the second half waits. Once one bad item is alone, everything that waited goes out as one
 * request. So one bad item among `n` costs at most ⌈log2 n⌉ + 1 requests after the rejected one, and k bad
 * items at most k·(⌈log2 n⌉ + 1). A bad item found by elimination is never sent alone: it keeps the
 * failure (code, reason) of the smallest rejected request that held it.
 *
 * `send` is called one part at a time, in order.
 * @example const { bad } = await splitRejected(members, failure, async (part) => post(part))
 */
export async function splitRejected<T, F>(
  items: T[],
  failure: F,
  send: (part: T[]) => Promise<PartOutcome<F>>,
): Promise<SplitResult<T, F>> {
  const bad: SplitResult<T, F>['bad'] = [];
  const unsent: SplitResult<T, F>['unsent'] = [];
  let suspect: { items: T[]; failure: F } | undefined = { items, failure };
  let waiting: T[] = [];
  const giveUp = (rest: T[], f: F): void => {
    for (const item of rest) unsent.push({ item, failure: f });
  };
  while (suspect) {
    if (suspect.items.length === 1) {
      bad.push({ item: suspect.items[0]!, failure: suspect.failure });
      suspect = undefined;
    } else if (suspect.items.length > 1) {
      const half = Math.ceil(suspect.items.length / 2);
      const first = suspect.items.slice(0, half);
      const second = suspect.items.slice(half);
      const r = await send(first);
      if (r.ok) suspect = { items: second, failure: suspect.failure };
      else if (r.rejected) {
        waiting = waiting.concat(second);
        suspect = { items: first, failure: r.failure };
      } else {
        giveUp([...first, ...second, ...waiting], r.failure);
        return { bad, unsent };
      }
      continue;
    } else suspect = undefined;
    if (waiting.length === 0) break;
    const rest = waiting;
    waiting = [];
    const r = await send(rest);
    if (r.ok) break;
    if (r.rejected) suspect = { items: rest, failure: r.failure };
    else giveUp(rest, r.failure);
  }
  return { bad, unsent };
}
