import { expect, test } from 'vitest';
import { firstRunNotice } from '../src/first-run-notice.js';
import { sendEta } from '../src/send-eta.js';
import { knockDestination } from '@syncline/destination-knock';

const target = { type: 'users', mode: 'upsert', onDelete: 'nothing', nulls: 'skip' } as const;

test("the first-run notice times the send at the sync's tiers: Knock's by default, raised ones, none when off", () => {
  const endpoints = [{ endpoint: 'POST /v1/users/bulk/identify', tier: 1, calls: 10, rows: 10_000 }];
  expect(firstRunNotice(10_000, 'sync.yaml', undefined, endpoints)).toContain("10,000 rows will be sent (≈ 10 s at Knock's limits)");
  expect(firstRunNotice(10_000, 'sync.yaml', { 1: 5 }, endpoints)).toContain('10,000 rows will be sent (≈ 2 s at the configured limits)');
  expect(firstRunNotice(10_000, 'sync.yaml', 'off', endpoints)).toContain('10,000 rows will be sent; if a ledger existed');
});

test("the send's ETA follows destination.tiers too", async () => {
  await using knock = knockDestination({ apiKey: 'sk_test_eta', baseUrl: 'http://127.0.0.1:9' });
  const counts = { add: 100_000, change: 0, remove: 0 };
  const knocks = sendEta(knock, target, counts, undefined);
  const raised = sendEta(knock, target, counts, undefined, { 1: 10, 2: 50, 3: 600, 4: 2_000, 5: 10_000 });
  expect(knocks.line).toMatch(/^Send: 100,000 changes · ETA ≈ \S+ at Knock's rate limits\n$/);
  expect(raised.line).toMatch(/at the configured rate limits\n$/);
  expect(raised.seconds).toBeLessThan(knocks.seconds!);
  expect(sendEta(knock, target, counts, undefined, 'off')).toEqual({
    line: 'Send: 100,000 changes · no pacing (tiers: off)\n',
    seconds: undefined,
  });
});
