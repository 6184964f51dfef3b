import { describe, expect, test } from 'vitest';
import { createProgressPrinter, createRateEstimator } from '../src/progress-printer.js';
import { duration } from '../src/format.js';

function streams(tty: boolean) {
  let out = '';
  let err = '';
  const make = (w: (s: string) => void) =>
    ({
      isTTY: tty,
      columns: 100,
      write: (s: string) => (w(s), true),
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
      on: () => undefined,
      removeListener: () => undefined,
    }) as unknown as NodeJS.WriteStream;
  return { stdout: make((s) => (out += s)), stderr: make((s) => (err += s)), out: () => out, err: () => err };
}

describe('run progress', () => {
  test('without a TTY: one timestamped line per phase and plain progress lines, no escape codes', () => {
    const io = streams(false);
    const p = createProgressPrinter(io, { json: false, style: { color: false, unicode: false } });
    p.onEvent({ type: 'phase', name: 'stage', status: 'end', ms: 900, detail: { rows: 48210 } });
    p.onEvent({ type: 'phase', name: 'send', status: 'start' });
    p.onEvent({ type: 'progress', done: 4017, total: 4017, requests: 6 });
    p.onEvent({ type: 'phase', name: 'send', status: 'end', ms: 5200, detail: { synced: 4015, failed: 2, requests: 7 } });
    p.close();
    expect(io.err()).toMatch(
      /^\d\d:\d\d:\d\d stage model: 48,210 rows \(0\.9s\)\n\d\d:\d\d:\d\d send: 4,017 \/ 4,017 rows · 6 calls\n\d\d:\d\d:\d\d send: 4,015 sent · 2 failed · 7 calls \(5\.2s\)\n$/,
    );
    expect(io.err()).not.toContain('\u001b');
    expect(io.out()).toBe('');
  });

  test('without a TTY: a heartbeat line while sending', async () => {
    const io = streams(false);
    const p = createProgressPrinter(io, { json: false, style: { color: false, unicode: false }, heartbeatMs: 30 });
    p.onEvent({ type: 'phase', name: 'send', status: 'start' });
    p.onEvent({ type: 'progress', done: 10, total: 100, requests: 1 });
    await new Promise((r) => setTimeout(r, 80));
    p.close();
    expect(io.err()).toMatch(/send: still sending, 10 \/ 100 rows \[\d+s elapsed\]/);
  });

  test('on a TTY: finished phases stay as ✔ lines', () => {
    const io = streams(true);
    const p = createProgressPrinter(io, { json: false, style: { color: false, unicode: true }, env: {} });
    p.onEvent({ type: 'phase', name: 'diff', status: 'end', ms: 400, detail: { add: 1134, change: 2871, remove: 12 } });
    p.close();
    expect(io.err()).toMatch(/^✔ Diff\s+\+1,134 ~2,871 -12\s+0\.4s\n$/);
  });

  test('--json: NDJSON events on stdout, requests without bodies', () => {
    const io = streams(false);
    const p = createProgressPrinter(io, { json: true, style: { color: false, unicode: false } });
    p.onEvent({
      type: 'request',
      exchange: {
        method: 'PUT',
        path: '/v1/users/u1',
        status: 200,
        attempt: 1,
        startedAt: '2026-01-01T00:00:00Z',
        durationMs: 12.4,
        requestHeaders: {},
        requestBody: '{"secret":1}',
      },
    });
    const line = JSON.parse(io.out());
    expect(line).toEqual({
      '@timestamp': '2026-01-01T00:00:00Z',
      type: 'request',
      method: 'PUT',
      path: '/v1/users/u1',
      status: 200,
      attempt: 1,
      latency_ms: 12,
    });
  });

  test('under NO_COLOR, TERM=dumb or CI a TTY gets plain lines: no cursor escapes, no redraws', () => {
    for (const env of [{ NO_COLOR: '1' }, { TERM: 'dumb' }, { CI: 'true' }]) {
      const io = streams(true);
      const p = createProgressPrinter(io, { json: false, style: { color: false, unicode: false }, env });
      p.onEvent({ type: 'phase', name: 'diff', status: 'end', ms: 400, detail: { add: 100, change: 0, remove: 0 } });
      p.onEvent({ type: 'phase', name: 'send', status: 'start' });
      p.onEvent({ type: 'progress', done: 100, total: 100, requests: 1 });
      p.onEvent({ type: 'phase', name: 'send', status: 'end', ms: 100, detail: { synced: 100, failed: 0, requests: 1 } });
      p.close();
      expect(io.err()).not.toContain('\u001b');
      expect(io.err()).toMatch(/^\d\d:\d\d:\d\d diff: \+100 ~0 -0 \(0\.4s\)\n\d\d:\d\d:\d\d send: 100 \/ 100 rows · 1 calls\n/);
    }
  });

  test('on a TTY the bar never starts at 0 / 0 rows: it starts with the diff total, or not at all', () => {
    const io = streams(true);
    const p = createProgressPrinter(io, { json: false, style: { color: false, unicode: true }, env: {} });
    p.onEvent({ type: 'phase', name: 'diff', status: 'end', ms: 1, detail: { add: 4000, change: 17, remove: 0 } });
    p.onEvent({ type: 'phase', name: 'send', status: 'start' });
    p.close();
    expect(io.err()).toContain('0 / 4,017 rows');
    expect(io.err()).not.toMatch(/\b0 \/ 0 rows/);
    const empty = streams(true);
    const q = createProgressPrinter(empty, { json: false, style: { color: false, unicode: true }, env: {} });
    q.onEvent({ type: 'phase', name: 'diff', status: 'end', ms: 1, detail: { add: 0, change: 0, remove: 0 } });
    q.onEvent({ type: 'phase', name: 'send', status: 'start' });
    q.close();
    expect(empty.err()).not.toMatch(/rows ·/);
  });

  test('the ETA is seeded from the plan estimate and smoothed: a burst and a stall move it by bounded steps', () => {
    let t = 0;
    const io = streams(false);
    const p = createProgressPrinter(io, { json: false, style: { color: false, unicode: false }, env: {}, now: () => t });
    p.seed(100); // the plan: 10,000 rows in 100 s at Knock's limits
    p.onEvent({ type: 'phase', name: 'diff', status: 'end', ms: 1, detail: { add: 10_000, change: 0, remove: 0 } });
    p.onEvent({ type: 'phase', name: 'send', status: 'start' });
    const etas: number[] = [];
    // Steady 100 rows/s, then a burst of 500 rows in 1 s (a bulk job confirming), then a 10 s stall (a 429).
    for (let i = 1; i <= 20; i++) {
      t = i * 1001;
      p.onEvent({ type: 'progress', done: i * 100, total: 10_000, requests: i });
    }
    t += 1001;
    p.onEvent({ type: 'progress', done: 2500, total: 10_000, requests: 21 });
    t += 10_000;
    p.onEvent({ type: 'progress', done: 2500, total: 10_000, requests: 22 });
    p.close();
    for (const m of io.err().matchAll(/ETA (?:(\d+)m)?(\d+)s/g)) etas.push(Number(m[1] ?? 0) * 60 + Number(m[2]));
    expect(etas).toHaveLength(22);
    expect(etas[0]).toBeGreaterThanOrEqual(95); // seeded: about 99 s, not a guess from one sample
    expect(etas[0]).toBeLessThanOrEqual(100);
    for (let i = 1; i < etas.length; i++) expect(etas[i]! / etas[i - 1]!).toBeGreaterThan(0.5);
    for (let i = 1; i < etas.length; i++) expect(etas[i]! / etas[i - 1]!).toBeLessThan(4);
  });

  test('rate estimator: EWMA over time, unknown until seeded or sampled twice', () => {
    const r = createRateEstimator(10_000);
    expect(r.eta(100)).toBeUndefined();
    r.sample(0, 0);
    r.sample(1000, 50);
    expect(r.eta(100)).toBeCloseTo(2);
    // One 100 ms burst at 10,000 rows/s weighs 1 - e^-0.01 ≈ 1 %: the rate moves from 50 to about 150, not 10,000.
    r.sample(1100, 1050);
    expect(r.eta(1000)).toBeGreaterThan(1000 / 200);
    expect(duration(21_300)).toBe('5h55m');
    expect(duration(41)).toBe('41s');
    expect(duration(undefined)).toBe('…');
  });
});
