import { expect, test } from 'vitest';
import { memoryDestination, runSync, syncSpecFieldsSchema, toSyncSpec, type Destination, type RunEvent } from '../src/index.js';
import { tableSource, trackLedgers } from './model-source.js';

// ux.md §3: the interrupt line says how many calls are in flight. runSync counts an operation from its
// first request leaving (`ApplyContext.onRequest`) until `apply` returns, and reports each change as a
// `calls` event; an operation still waiting (no request left) is not in flight.
const ledger = trackLedgers();
const spec = toSyncSpec(
  syncSpecFieldsSchema.parse({
    name: 't',
    model: 'select * from people',
    key: 'id',
    sync: { type: 'users', mode: 'upsert', fields: { email: 'email' }, onDelete: 'nothing' },
  }),
);
const people = Array.from({ length: 10 }, (_, i) => ({ id: `u${i}`, email: `u${i}@example.com` }));

test('calls events count operations from their first request until they finish, and end at 0', async () => {
  const memory = memoryDestination({ batchSize: 1 });
  let applying = 0;
  let most = 0;
  const destination: Destination = {
    ...memory,
    async apply(op, ctx) {
      // Odd keys send a request (twice: a retry is the same call); even keys finish without one.
      const sends = Number(op.changes[0]!.key.slice(1)) % 2 === 1;
      applying += 1;
      most = Math.max(most, applying);
      if (sends) {
        ctx.onRequest?.();
        ctx.onRequest?.();
      }
      await new Promise((r) => setTimeout(r, 30));
      applying -= 1;
      return memory.apply(op, ctx);
    },
  };
  const events: number[] = [];
  const r = await runSync({
    spec,
    source: tableSource(people),
    destination,
    ledger: await ledger(),
    onEvent: (e: RunEvent) => e.type === 'calls' && events.push(e.inFlight),
  });
  expect(r.status).toBe('succeeded');
  // One rise and one fall per operation that sent; none for those that did not.
  expect(events.filter((n, i) => n > (events[i - 1] ?? 0))).toHaveLength(5);
  expect(events).toHaveLength(10);
  expect(events.at(-1)).toBe(0);
  expect(Math.max(...events)).toBeGreaterThan(1);
  expect(Math.max(...events)).toBeLessThanOrEqual(Math.min(5, most));
});
