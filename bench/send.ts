/**
 * Knock destination send throughput: 100k users through `plan` + `apply` against the Knock emulator,
 * (a) with Knock's rate tiers enforced, against the tier ceiling (bulk identify 1 req/s × 1,000 rows +
 * single identify 60 rows/s); (b) with tiers off, against a raw undici baseline posting the same bodies;
 * (c) the same users through a plain script using Knock's official SDK (@knocklabs/node).
 * Run: node --conditions=@syncline/source --import tsx bench/send.ts   (BENCH_ROWS=100000 by default)
 */
import { createOperationPool, type Change, type Destination, type SyncTarget } from '@syncline/core';
import { knockDestination, type KnockOptions } from '@syncline/destination-knock';
import { startEmulator, type RunningEmulator } from '@syncline/knock-emulator';
import Knock from '@knocklabs/node';
import { Pool } from 'undici';

const ROWS = Number(process.env['BENCH_ROWS'] ?? 100_000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 32); // what core's run loop keeps in flight
const PENDING = Number(process.env['BENCH_PENDING'] ?? 256); // operations waiting for a bulk job, as core's run loop allows
const API_KEY = 'sk_test_bench_send';
const target: SyncTarget = { type: 'users', mode: 'upsert', onDelete: 'nothing', nulls: 'skip' };
const CEILING = 1000 + 60; // rows/s: bulk identify (tier 1 × 1,000) + single identify (tier 3)

function payload(i: number): Record<string, unknown> {
  return {
    name: `User ${i}`,
    email: `user${i}@example.com`,
    plan: i % 2 ? 'pro' : 'free',
    seats: i % 50,
    company: { id: `c${i % 97}`, region: 'eu' },
  };
}
const changes: Change[] = Array.from({ length: ROWS }, (_, i) => ({
  action: 'add',
  key: `user_${i}`,
  payload: payload(i),
  hash: String(i),
}));

async function emulator(rateLimits: boolean): Promise<RunningEmulator> {
  return startEmulator({ port: 0, rateLimits, requestLogLimit: 200_000 });
}

/** Plan in chunks of 1,000 with the run totals, apply with bounded concurrency: what core's loop does. */
async function runDestination(dest: Destination): Promise<{ ms: number; planMs: number; ok: number; failed: number; requests: number }> {
  const t0 = performance.now();
  const totals = { add: ROWS, change: 0, remove: 0 };
  const ops = [];
  for (let i = 0; i < ROWS; i += 1000) ops.push(...dest.plan(changes.slice(i, i + 1000), { target, totals }).operations);
  const planMs = performance.now() - t0;
  let ok = 0;
  let failed = 0;
  let requests = 0;
  // As core's run loop: CONCURRENCY operations sending at once, and up to PENDING waiting for their bulk job.
  const pool = createOperationPool({ sending: CONCURRENCY, pending: PENDING });
  for (const op of ops)
    await pool.start(async (onSent) => {
      const r = await dest.apply(op, { target, onSent });
      ok += r.ok.length;
      failed += r.failed.length;
      requests += r.requests;
    });
  await pool.drain();
  return { ms: performance.now() - t0, planMs, ok, failed, requests };
}

/** Raw baseline: the same rows as pre-built bulk bodies, posted with undici, then polled to completion. */
async function runRaw(url: string): Promise<number> {
  const bodies: string[] = [];
  for (let i = 0; i < ROWS; i += 1000)
    bodies.push(JSON.stringify({ users: changes.slice(i, i + 1000).map((c) => ({ ...c.payload, id: c.key })) }));
  const pool = new Pool(url, { connections: 8, pipelining: 1 });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` };
  const t0 = performance.now();
  let next = 0;
  const ids: string[] = [];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < bodies.length) {
        const res = await pool.request({ path: '/v1/users/bulk/identify', method: 'POST', body: bodies[next++]!, headers });
        ids.push(((await res.body.json()) as { id: string }).id);
      }
    }),
  );
  await Promise.all(ids.map((id) => pollRaw(pool, id, headers)));
  const ms = performance.now() - t0;
  await pool.close();
  return ms;
}

async function pollRaw(pool: Pool, id: string, headers: Record<string, string>): Promise<void> {
  for (;;) {
    const res = await pool.request({ path: `/v1/bulk_operations/${id}`, method: 'GET', headers });
    const op = (await res.body.json()) as { status: string };
    if (op.status === 'completed' || op.status === 'failed') return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A plain script with Knock's SDK: bulk identify 1,000 at a time (the SDK retries 429s), then wait for the jobs. */
async function runSdk(url: string): Promise<number> {
  const knock = new Knock({ apiKey: API_KEY, baseURL: url, maxRetries: 5 });
  const t0 = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < ROWS; i += 1000) {
    const users = changes.slice(i, i + 1000).map((c) => ({ ...c.payload, id: c.key }));
    ids.push((await knock.users.bulk.identify({ users })).id);
  }
  for (const id of ids) {
    for (;;) {
      const op = await knock.bulkOperations.get(id);
      if (op.status === 'completed' || op.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return performance.now() - t0;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const lines: string[] = [];
const out = (s: string) => {
  lines.push(s);
  console.log(s);
};

const ONLY = process.env['BENCH_ONLY']; // 'a' or 'b' to run one part

// (a) tiers on
if (ONLY !== 'b') {
  const em = await emulator(true);
  const dest = knockDestination({ apiKey: API_KEY, baseUrl: em.url });
  const t0 = Date.now();
  const r = await runDestination(dest);
  const log = em.control.requests();
  const late429 = log.filter((e) => e.status === 429 && Date.parse(e.time) > t0 + 1000).length;
  const all429 = log.filter((e) => e.status === 429).length;
  const perRoute = new Map<string, number>();
  for (const e of log) perRoute.set(e.route ?? '?', (perRoute.get(e.route ?? '?') ?? 0) + 1);
  const rps = (ROWS / r.ms) * 1000;
  out(
    `(a) tiers on: ${fmt(ROWS)} rows in ${(r.ms / 1000).toFixed(1)} s = ${fmt(rps)} rows/s; ceiling ${fmt(CEILING)} rows/s → ${((rps / CEILING) * 100).toFixed(1)} %`,
  );
  out(
    `    ok ${fmt(r.ok)}, failed ${r.failed}, 429s ${all429} (after the first second: ${late429}); requests ${[...perRoute].map(([k, v]) => `${k} ×${v}`).join(', ')}`,
  );
  await dest.close();
  // (c) the SDK on the same (rate-limited) emulator
  em.control.reset();
  const sdkMs = await runSdk(em.url);
  const sdkRps = (ROWS / sdkMs) * 1000;
  out(
    `(c) @knocklabs/node script, tiers on: ${(sdkMs / 1000).toFixed(1)} s = ${fmt(sdkRps)} rows/s; destination/SDK = ${(rps / sdkRps).toFixed(2)}×`,
  );
  await em.close();
}

// (b) tiers off: one warm-up round of each, then the median of three alternating rounds (the emulator
// shares the process, so whichever runs first would otherwise pay its JIT warm-up).
if (ONLY !== 'a') {
  const em = await emulator(false);
  const unlimited: KnockOptions = {
    apiKey: API_KEY,
    baseUrl: em.url,
    tiers: { 1: 1_000, 2: 1_000, 3: 1_000, 4: 10_000, 5: 10_000 },
    bulk: { pollIntervalMs: 50, maxPollIntervalMs: 50 }, // the raw baseline polls every 50 ms too
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ours: number[] = [];
  const applyOnly: number[] = [];
  const raw: number[] = [];
  const sdk: number[] = [];
  let failed = 0;
  for (let round = 0; round < 4; round++) {
    em.control.reset();
    const dest = knockDestination(unlimited);
    const r = await runDestination(dest);
    await dest.close();
    failed += r.failed;
    em.control.reset();
    const rawMs = await runRaw(em.url);
    em.control.reset();
    const sdkMs = await runSdk(em.url);
    if (round > 0) {
      ours.push(r.ms);
      applyOnly.push(r.ms - r.planMs);
      raw.push(rawMs);
      sdk.push(sdkMs);
    }
  }
  const rps = (ROWS / median(ours)) * 1000;
  const rawRps = (ROWS / median(raw)) * 1000;
  const sdkRps = (ROWS / median(sdk)) * 1000;
  out(
    `(b) tiers off: destination ${fmt(rps)} rows/s (median ${(median(ours) / 1000).toFixed(2)} s, failed ${failed}); raw undici baseline ${fmt(rawRps)} rows/s (${(median(raw) / 1000).toFixed(2)} s) → ${((rps / rawRps) * 100).toFixed(1)} %`,
  );
  const applyRps = (ROWS / median(applyOnly)) * 1000;
  out(
    `    apply only (bodies built by plan, like the baseline's pre-built ones): ${fmt(applyRps)} rows/s → ${((applyRps / rawRps) * 100).toFixed(1)} % of raw`,
  );
  out(
    `    @knocklabs/node script, tiers off: ${fmt(sdkRps)} rows/s (${(median(sdk) / 1000).toFixed(2)} s); destination/SDK = ${(rps / sdkRps).toFixed(2)}×`,
  );
  await em.close();
}
out(`(node ${process.version}, ${fmt(ROWS)} users, concurrency ${CONCURRENCY}, emulator in the same process)`);
