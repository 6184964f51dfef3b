import { describe, expect, test } from 'vitest';
import { createProgressPrinter } from '../src/progress-printer.js';

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
    const p = createProgressPrinter(io, { json: false, style: { color: false, unicode: true } });
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
});
