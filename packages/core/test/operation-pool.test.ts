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

describe('createOperationPool lanes', () => {
  test("a lane whose tasks wait (one endpoint's rate limit) neither blocks the caller nor another lane", async () => {
    const pool = createOperationPool({ sending: 2, pending: 10 });
    const gate: (() => void)[] = [];
    const order: string[] = [];
    // Four single calls of one endpoint: two send, two are queued behind them.
    for (let i = 0; i < 4; i++)
      await pool.start(async () => {
        order.push(`single ${i}`);
        await new Promise<void>((r) => gate.push(r));
      }, 'PUT /v1/users/{id}');
    expect(order).toEqual(['single 0', 'single 1']);
    // The next chunk's bulk job is queued at once and starts in its own lane at once.
    await pool.start(async () => {
      order.push('bulk');
    }, 'POST /v1/users/bulk/identify');
    expect(order).toEqual(['single 0', 'single 1', 'bulk']);
    expect(pool.size).toBe(2);
    // Each single that ends lets the next queued one of its lane start, in order.
    gate.shift()!();
    for (let i = 0; i < 20 && order.length < 4; i++) await tick();
    expect(order.at(-1)).toBe('single 2');
    while (order.length < 5 || gate.length > 0) {
      gate.shift()?.();
      await tick();
    }
    await pool.drain();
    expect(order).toEqual(['single 0', 'single 1', 'bulk', 'single 2', 'single 3']);
    expect(pool.size).toBe(0);
  });

  test('`pending` counts queued tasks too: the caller waits when that many are queued or running', async () => {
    const pool = createOperationPool({ sending: 1, pending: 3 });
    const gate: (() => void)[] = [];
    const task = () => new Promise<void>((r) => gate.push(r));
    for (let i = 0; i < 3; i++) await pool.start(task, 'a');
    let fourth = false;
    const p = pool.start(task, 'a').then(() => (fourth = true));
    await tick();
    expect(fourth).toBe(false);
    gate.shift()!();
    await p;
    expect(fourth).toBe(true);
    while (gate.length > 0 || pool.size > 0) {
      gate.shift()?.();
      await tick();
    }
    await pool.drain();
  });
});
