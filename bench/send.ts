/**
 * Knock destination send throughput: 100k users through `plan` + `apply` against the Knock emulator,
 * (a) with Knock's rate tiers enforced, against the tier ceiling (bulk identify 1 req/s × 1,000 rows +
 * single identify 60 rows/s); (b) with tiers off, against a raw undici baseline posting the same bodies;
 * (c) the same users through a plain script using Knock's official SDK (@knocklabs/node).
 * The emulator runs in a child process of its own (as Knock is a remote server), for every side alike.
 * Run: npm run bench -- send   (env: BENCH_ROWS=100000, BENCH_ONLY=a|b, BENCH_ROUNDS=9, BENCH_CONCURRENCY, BENCH_PENDING,
 * BENCH_DESTINATION_MODULE, BENCH_PAYLOAD_TEXT=0)
 */
import { createOperationPool, type Change, type Destination } from '@syncline/core';
import { knockDestination as currentDestination, type KnockOptions, type KnockTarget } from '@syncline/destination-knock';
import { startEmulator, type RunningEmulator } from '@syncline/knock-emulator';
import Knock from '@knocklabs/node';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

const ROWS = Number(process.env['BENCH_ROWS'] ?? 100_000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 32); // what core's run loop keeps in flight
const PENDING = Number(process.env['BENCH_PENDING'] ?? 256); // operations waiting for a bulk job, as core's run loop allows
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 9); // measured rounds of (b), after one warm-up round
const CONNECTIONS = 32; // undici Pool connections, destination (its default) and raw baseline alike
// BENCH_DESTINATION_MODULE=<path to another build's index.ts>: the same bench against that build (before/after runs).
const knockDestination: typeof currentDestination = process.env['BENCH_DESTINATION_MODULE']
  ? ((await import(process.env['BENCH_DESTINATION_MODULE'])) as { knockDestination: typeof currentDestination }).knockDestination
  : currentDestination;
const API_KEY = 'sk_test_bench_send';
const target: KnockTarget = { type: 'users', mode: 'upsert', onDelete: 'nothing', nulls: 'skip' };
const CEILING = 1000 + 60; // rows/s: bulk identify (tier 1 × 1,000) + single identify (tier 3)

// A child started by emulator() below serves the emulator and nothing else.
if (process.argv[2] === '--emulator') {
  await serveEmulator(process.argv[3] === 'true');
  await new Promise(() => {}); // served until the parent says exit
}

function payload(i: number): Record<string, unknown> {
  return {
    name: `User ${i}`,
    email: `user${i}@example.com`,
    plan: i % 2 ? 'pro' : 'free',
    seats: i % 50,
    company: { id: `c${i % 97}`, region: 'eu' },
  };
}
// As core's run loop makes them: each payload parsed from the JSON text it read, which the change keeps
// (`payloadJson`). BENCH_PAYLOAD_TEXT=0: payload objects only (a caller without the text).
const PAYLOAD_TEXT = process.env['BENCH_PAYLOAD_TEXT'] !== '0';
const changes: Change[] = Array.from({ length: ROWS }, (_, i) => {
  const payloadJson = JSON.stringify(payload(i));
  return {
    action: 'add',
    key: `user_${i}`,
    payload: JSON.parse(payloadJson) as Record<string, unknown>,
    hash: String(i),
    ...(PAYLOAD_TEXT ? { payloadJson } : {}),
  };
});

/** What the bench needs from an emulator running in another process (control over IPC). */
interface RemoteEmulator {
  url: string;
  reset(): Promise<void>;
  /** 429s (all, and after `sinceMs`) and requests per route, from the emulator's request log. */
  stats(sinceMs: number): Promise<{ all429: number; late429: number; perRoute: Array<[string, number]> }>;
  /** CPU time the emulator process has used so far (ms). */
  cpuMs(): Promise<number>;
  close(): Promise<void>;
}

type EmulatorMessage =
  | { type: 'ready'; url: string }
  | { type: 'reset' }
  | { type: 'stats'; all429: number; late429: number; perRoute: Array<[string, number]> }
  | { type: 'cpu'; cpuMs: number };

/**
 * The emulator in a child process of its own, like the remote server Knock is: its CPU and heap do not
 * compete with the client under test (on a 2-core machine both sides still share the cores equally).
 */
async function emulator(rateLimits: boolean): Promise<RemoteEmulator> {
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--cpu-prof'));
  const proc = fork(fileURLToPath(import.meta.url), ['--emulator', String(rateLimits)], { execArgv, stdio: 'inherit' });
  const waiters: Array<{ type: string; resolve: (m: EmulatorMessage) => void }> = [];
  proc.on('message', (m: EmulatorMessage) => {
    const i = waiters.findIndex((w) => w.type === m.type);
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(m);
  });
  const ask = <T extends EmulatorMessage['type']>(msg: object, type: T) =>
    new Promise<Extract<EmulatorMessage, { type: T }>>((resolve) => {
      waiters.push({ type, resolve: resolve as (m: EmulatorMessage) => void });
      if (type !== 'ready') proc.send(msg);
    });
  const { url } = await ask({}, 'ready');
  return {
    url,
    reset: async () => void (await ask({ type: 'reset' }, 'reset')),
    stats: (sinceMs) => ask({ type: 'stats', sinceMs }, 'stats'),
    cpuMs: async () => (await ask({ type: 'cpu' }, 'cpu')).cpuMs,
    close: () =>
      new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.send({ type: 'exit' });
      }),
  };
}

/** Child: the emulator alone in its process. */
async function serveEmulator(rateLimits: boolean): Promise<void> {
  const em: RunningEmulator = await startEmulator({ port: 0, rateLimits, requestLogLimit: 200_000 });
  process.on('message', (m: { type: string; sinceMs?: number }) => {
    if (m.type === 'reset') {
      em.control.reset();
      process.send!({ type: 'reset' } satisfies EmulatorMessage);
    } else if (m.type === 'stats') {
      const log = em.control.requests();
      const perRoute = new Map<string, number>();
      for (const e of log) perRoute.set(e.route ?? '?', (perRoute.get(e.route ?? '?') ?? 0) + 1);
      process.send!({
        type: 'stats',
        all429: log.filter((e) => e.status === 429).length,
        late429: log.filter((e) => e.status === 429 && Date.parse(e.time) > m.sinceMs!).length,
        perRoute: [...perRoute],
      } satisfies EmulatorMessage);
    } else if (m.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send!({ type: 'cpu', cpuMs: (user + system) / 1000 } satisfies EmulatorMessage);
    } else if (m.type === 'exit') void em.close().then(() => process.exit(0));
  });
  process.send!({ type: 'ready', url: em.url } satisfies EmulatorMessage);
}

/**
 * As core's run loop (run-sync.ts): plan a chunk of 1,000 with the run totals, start its operations (at
 * most CONCURRENCY sending and PENDING waiting for a bulk job), then plan the next chunk.
 */
async function runDestination(dest: Destination): Promise<{ ms: number; planMs: number; ok: number; failed: number; requests: number }> {
  const t0 = performance.now();
  const totals = { add: ROWS, change: 0, remove: 0 };
  let planMs = 0;
  let ok = 0;
  let failed = 0;
  let requests = 0;
  const pool = createOperationPool({ sending: CONCURRENCY, pending: PENDING });
  for (let i = 0; i < ROWS; i += 1000) {
    // run-sync awaits each chunk's read from DuckDB, so the event loop turns between chunks (and requests
    // go out while later chunks are planned); without it, 32 chunks would be planned before the first POST.
    await new Promise((r) => setImmediate(r));
    const p0 = performance.now();
    const { operations } = dest.plan(changes.slice(i, i + 1000), { target, totals });
    planMs += performance.now() - p0;
    for (const op of operations)
      await pool.start(async (onSent) => {
        const r = await dest.apply(op, { target, onSent });
        ok += r.ok.length;
        failed += r.failed.length;
        requests += r.requests;
      });
  }
  await pool.drain();
  return { ms: performance.now() - t0, planMs, ok, failed, requests };
}

/** Raw baseline: the same rows as pre-built bulk bodies, posted with undici, then polled to completion. */
async function runRaw(url: string): Promise<{ ms: number; requests: number }> {
  const bodies: string[] = [];
  for (let i = 0; i < ROWS; i += 1000)
    bodies.push(JSON.stringify({ users: changes.slice(i, i + 1000).map((c) => ({ ...c.payload, id: c.key })) }));
  // The destination's pool size (option `connections`, default 32), and as many POSTs at once as it sends
  // with fast tiers (8); polls run on all connections.
  const pool = new Pool(url, { connections: CONNECTIONS, pipelining: 1 });
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
  const polls = await Promise.all(ids.map((id) => pollRaw(pool, id, headers)));
  const ms = performance.now() - t0;
  await pool.close();
  return { ms, requests: bodies.length + polls.reduce((a, b) => a + b, 0) };
}

/** Polls one job every 50 ms until it is done; returns the polls made. */
async function pollRaw(pool: Pool, id: string, headers: Record<string, string>): Promise<number> {
  for (let polls = 1; ; polls++) {
    const res = await pool.request({ path: `/v1/bulk_operations/${id}`, method: 'GET', headers });
    const op = (await res.body.json()) as { status: string };
    if (op.status === 'completed' || op.status === 'failed') return polls;
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
  const { all429, late429, perRoute } = await em.stats(t0 + 1000);
  const rps = (ROWS / r.ms) * 1000;
  out(
    `(a) tiers on: ${fmt(ROWS)} rows in ${(r.ms / 1000).toFixed(1)} s = ${fmt(rps)} rows/s; ceiling ${fmt(CEILING)} rows/s → ${((rps / CEILING) * 100).toFixed(1)} %`,
  );
  out(
    `    ok ${fmt(r.ok)}, failed ${r.failed}, 429s ${all429} (after the first second: ${late429}); requests ${[...perRoute].map(([k, v]) => `${k} ×${v}`).join(', ')}`,
  );
  await dest.close();
  // (c) the SDK on the same (rate-limited) emulator
  await em.reset();
  const sdkMs = await runSdk(em.url);
  const sdkRps = (ROWS / sdkMs) * 1000;
  out(
    `(c) @knocklabs/node script, tiers on: ${(sdkMs / 1000).toFixed(1)} s = ${fmt(sdkRps)} rows/s; destination/SDK = ${(rps / sdkRps).toFixed(2)}×`,
  );
  await em.close();
}

// (b) tiers off: one warm-up round of each, then the median of alternating rounds.
if (ONLY !== 'a') {
  const em = await emulator(false);
  const unlimited: KnockOptions = {
    apiKey: API_KEY,
    baseUrl: em.url,
    connections: CONNECTIONS,
    tiers: { 1: 1_000, 2: 1_000, 3: 1_000, 4: 10_000, 5: 10_000 },
    bulk: { pollIntervalMs: 50, maxPollIntervalMs: 50 }, // the raw baseline polls every 50 ms too
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ours: number[] = [];
  const applyOnly: number[] = [];
  const raw: number[] = [];
  const sdk: number[] = [];
  const ratios: number[] = [];
  let failed = 0;
  const cpu = { dest: [] as number[], raw: [] as number[], emDest: [] as number[], emRaw: [] as number[] };
  /** Client CPU (this process) and emulator CPU (its process) of one run, besides its wall time. */
  const withCpu = async <T>(run: () => Promise<T>): Promise<{ r: T; cpuMs: number; emulatorCpuMs: number }> => {
    await em.reset();
    const e0 = await em.cpuMs();
    const c0 = process.cpuUsage();
    const r = await run();
    const c = process.cpuUsage(c0);
    return { r, cpuMs: (c.user + c.system) / 1000, emulatorCpuMs: (await em.cpuMs()) - e0 };
  };
  const destinationRound = () =>
    withCpu(async () => {
      const dest = knockDestination(unlimited);
      const r = await runDestination(dest);
      await dest.close();
      failed += r.failed;
      return r;
    });
  const rawRound = () => withCpu(() => runRaw(em.url));
  // Round 0 warms up (JIT, connections); then the order alternates (destination first, raw first, …).
  for (let round = 0; round <= ROUNDS; round++) {
    let d: Awaited<ReturnType<typeof destinationRound>>;
    let b: Awaited<ReturnType<typeof rawRound>>;
    if (round % 2 === 0) {
      d = await destinationRound();
      b = await rawRound();
    } else {
      b = await rawRound();
      d = await destinationRound();
    }
    await em.reset();
    const sdkMs = await runSdk(em.url);
    const r = d.r;
    const rawMs = b.r.ms;
    if (round > 0) {
      ours.push(r.ms);
      applyOnly.push(r.ms - r.planMs);
      raw.push(rawMs);
      sdk.push(sdkMs);
      ratios.push(rawMs / r.ms);
      cpu.dest.push(d.cpuMs);
      cpu.raw.push(b.cpuMs);
      cpu.emDest.push(d.emulatorCpuMs);
      cpu.emRaw.push(b.emulatorCpuMs);
      console.log(
        `    round ${round} (${round % 2 ? 'raw' : 'destination'} first): destination ${(r.ms / 1000).toFixed(3)} s (plan ${(r.planMs / 1000).toFixed(3)} s, ${r.requests} requests), raw ${(rawMs / 1000).toFixed(3)} s (${b.r.requests} requests) → ${((rawMs / r.ms) * 100).toFixed(1)} %` +
          ` | CPU client/emulator: destination ${d.cpuMs.toFixed(0)}/${d.emulatorCpuMs.toFixed(0)} ms, raw ${b.cpuMs.toFixed(0)}/${b.emulatorCpuMs.toFixed(0)} ms`,
      );
    }
  }
  const rps = (ROWS / median(ours)) * 1000;
  const rawRps = (ROWS / median(raw)) * 1000;
  const sdkRps = (ROWS / median(sdk)) * 1000;
  out(
    `(b) tiers off: destination ${fmt(rps)} rows/s (median ${(median(ours) / 1000).toFixed(2)} s, failed ${failed}); raw undici baseline ${fmt(rawRps)} rows/s (${(median(raw) / 1000).toFixed(2)} s) → ${((rps / rawRps) * 100).toFixed(1)} %`,
  );
  const sorted = [...ratios].sort((a, b) => a - b);
  out(
    `    median of per-round ratios ${(median(ratios) * 100).toFixed(1)} % (${ROUNDS} rounds, spread ${(sorted[0]! * 100).toFixed(1)}–${(sorted.at(-1)! * 100).toFixed(1)} %)`,
  );
  out(
    `    CPU per round (median), client / emulator process: destination ${median(cpu.dest).toFixed(0)} / ${median(cpu.emDest).toFixed(0)} ms, raw ${median(cpu.raw).toFixed(0)} / ${median(cpu.emRaw).toFixed(0)} ms`,
  );
  const applyRps = (ROWS / median(applyOnly)) * 1000;
  out(
    `    wall time minus time in plan (the baseline's bodies are pre-built): ${fmt(applyRps)} rows/s → ${((applyRps / rawRps) * 100).toFixed(1)} % of raw`,
  );
  out(
    `    @knocklabs/node script, tiers off: ${fmt(sdkRps)} rows/s (${(median(sdk) / 1000).toFixed(2)} s); destination/SDK = ${(rps / sdkRps).toFixed(2)}×`,
  );
  await em.close();
}
out(
  `(node ${process.version}, ${fmt(ROWS)} users, concurrency ${CONCURRENCY}, emulator in its own process, payload text ${PAYLOAD_TEXT ? 'on' : 'off'})`,
);
