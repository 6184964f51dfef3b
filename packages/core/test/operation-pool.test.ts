import { describe, expect, test } from 'vitest';
import { createOperationPool } from '../src/operation-pool.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('createOperationPool', () => {
  test('keeps at most `sending` tasks sending and `pending` tasks started', async () => {
    const pool = createOperationPool({ sending: 2, pending: 5 });
    let sending = 0;
    let maxSending = 0;
    let maxStarted = 0;
    const confirms: (() => void)[] = [];
    const started: Promise<void>[] = [];
    for (let i = 0; i < 8; i++)
      started.push(
        pool.start(async (onSent) => {
          sending += 1;
          maxSending = Math.max(maxSending, sending);
          maxStarted = Math.max(maxStarted, pool.size + 1);
          await tick();
          sending -= 1;
          onSent();
          // Then wait for a confirmation that the test hands out later.
          await new Promise<void>((r) => confirms.push(r));
        }),
      );
    // Five start (two at a time), then the pool is full of tasks waiting for confirmation.
    for (let i = 0; i < 20 && confirms.length < 5; i++) await tick();
    expect(confirms).toHaveLength(5);
    expect(pool.size).toBe(5);
    expect(maxSending).toBe(2);
    confirms.splice(0).forEach((c) => c());
    for (let i = 0; i < 20 && confirms.length < 3; i++) await tick();
    confirms.splice(0).forEach((c) => c());
    await Promise.all(started);
    await pool.drain();
    expect(pool.size).toBe(0);
    expect(maxStarted).toBeLessThanOrEqual(5);
  });

  test('a task that never calls onSent holds its sending slot until it ends', async () => {
    const pool = createOperationPool({ sending: 1, pending: 10 });
    const order: string[] = [];
    await pool.start(async () => {
      await tick();
      order.push('a');
    });
    await pool.start(async () => {
      order.push('b');
    });
    await pool.drain();
    expect(order).toEqual(['a', 'b']);
  });
});
