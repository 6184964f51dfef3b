import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { knockDestination } from '../src/index.js';
import { blackhole, type Blackhole } from './blackhole.js';
import { API_KEY, add, sync, usersTarget } from './support.js';

let hole: Blackhole;
beforeAll(async () => {
  hole = await blackhole();
});
afterAll(async () => hole?.close());

const sockets = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('connect timeout (H-06)', () => {
  test.each([
    // ±10 % of 800 ms is 80 ms: room for a busy test machine's event-loop lag.
    [800, 3],
    [2000, 2],
  ])(
    'aborts a connect that never completes at connectMs=%i ±10 %, retries it (%i attempts), and leaves no socket behind',
    async (connectMs, maxAttempts) => {
      const before = { sockets: sockets(), timers: timers() };
      {
        await using knock = knockDestination({
          apiKey: API_KEY,
          baseUrl: hole.url,
          timeouts: { connectMs },
          retry: { maxAttempts, baseMs: 1, capMs: 1 },
        });
        const r = await sync(knock, usersTarget(), [add('u1')]);
        expect(r.exchanges).toHaveLength(maxAttempts);
        for (const x of r.exchanges) {
          expect(x.error).toMatch(/^UND_ERR_CONNECT_TIMEOUT/);
          expect(x.durationMs).toBeGreaterThanOrEqual(connectMs * 0.9);
          expect(x.durationMs).toBeLessThanOrEqual(connectMs * 1.1);
        }
        expect(r.failed).toEqual([expect.objectContaining({ key: 'u1', code: 'connection_failed' })]);
        expect(r.failed[0]!.message).not.toContain(API_KEY);
      }
      // The destination is closed: its pool, sockets and timers are gone.
      await new Promise((r) => setTimeout(r, 20));
      expect(sockets()).toBe(before.sockets);
      expect(timers()).toBeLessThanOrEqual(before.timers);
    },
  );
});
