import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decideAlert, runHealth, type RunOutcome, type SyncHealth } from '../src/index.js';

const rows = (sent: number, bad: number) => ({ added: sent, changed: 0, removed: 0, failed: bad, invalid: 0 });

describe('runHealth', () => {
  test.each([
    ['failed', rows(0, 0), 'failed'],
    ['resume_later', rows(5, 0), 'resume_later'],
    ['succeeded', rows(0, 0), 'ok'],
    ['partial', rows(100, 5), 'ok'], // exactly 5 % is not above the threshold
    ['partial', rows(100, 6), 'row_failures'],
    ['aborted', rows(100, 50), undefined],
  ] as const)('a %s run with %o is %s at the default 5 %% threshold', (status, r, expected) => {
    expect(runHealth({ status, rows: r }, 0.05)).toBe(expected);
  });

  test('invalid rows are among the rows to send (core counts them once, apart from added/changed)', () => {
    // 1 invalid of 20 rows to send is exactly 5 %: not above the threshold.
    expect(runHealth({ status: 'succeeded', rows: { added: 19, changed: 0, removed: 0, failed: 0, invalid: 1 } }, 0.05)).toBe('ok');
  });

  test('counts invalid rows as failed rows', () => {
    expect(runHealth({ status: 'succeeded', rows: { added: 10, changed: 0, removed: 0, failed: 0, invalid: 1 } }, 0.05)).toBe(
      'row_failures',
    );
  });
});

const outcome: fc.Arbitrary<RunOutcome> = fc.record({
  status: fc.constantFrom('succeeded', 'partial', 'failed', 'resume_later', 'aborted'),
  rows: fc
    .record({ added: fc.nat(50), changed: fc.nat(50), removed: fc.nat(50) })
    .chain((r) => fc.record({ failed: fc.nat(r.added + r.changed + r.removed), invalid: fc.constant(0) }).map((b) => ({ ...r, ...b }))),
});

/** Runs a sequence through decideAlert, carrying the recorded health as the ledger would. */
function replay(runs: RunOutcome[], threshold: number) {
  let health: SyncHealth | undefined;
  const events: (string | undefined)[] = [];
  const healths: SyncHealth[] = [];
  for (const run of runs) {
    const d = decideAlert(health, run, threshold);
    health = d.health;
    events.push(d.event);
    healths.push(d.health);
  }
  return { events, healths };
}

describe('decideAlert (properties)', () => {
  test('alerts exactly when the recorded health changes, and on nothing else', () => {
    fc.assert(
      fc.property(fc.array(outcome, { maxLength: 40 }), fc.double({ min: 0, max: 1, noNaN: true }), (runs, threshold) => {
        const { events, healths } = replay(runs, threshold);
        healths.forEach((h, i) => {
          const before = i === 0 ? 'ok' : healths[i - 1]!;
          expect(events[i] !== undefined).toBe(h !== before);
          if (events[i]) expect(events[i]).toBe(h === 'ok' ? 'recovered' : h);
        });
      }),
    );
  });

  test('a streak of the same bad status alerts once; recovered follows only a bad status', () => {
    fc.assert(
      fc.property(fc.constantFrom('failed', 'resume_later'), fc.integer({ min: 1, max: 30 }), (status, n) => {
        const runs: RunOutcome[] = [
          ...Array.from({ length: n }, () => ({ status, rows: rows(1, 0) })),
          { status: 'succeeded', rows: rows(1, 0) },
        ];
        expect(replay(runs, 0.05).events.filter(Boolean)).toEqual([status, 'recovered']);
      }),
    );
    fc.assert(
      fc.property(fc.array(outcome, { maxLength: 40 }), (runs) => {
        const { events, healths } = replay(runs, 0.05);
        events.forEach((e, i) => {
          if (e === 'recovered') expect(i > 0 && healths[i - 1] !== 'ok').toBe(true);
        });
      }),
    );
  });

  test('an aborted run never alerts and keeps the recorded health', () => {
    fc.assert(
      fc.property(fc.constantFrom<SyncHealth | undefined>(undefined, 'ok', 'failed', 'resume_later', 'row_failures'), (prev) => {
        expect(decideAlert(prev, { status: 'aborted', rows: rows(10, 10) }, 0.05)).toEqual({ health: prev ?? 'ok', event: undefined });
      }),
    );
  });
});
