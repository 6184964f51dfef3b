/**
 * Emulator throughput: bulk identify (1,000 users per request) against the Knock emulator with rate
 * limits off, side by side with a bare node:http server that only buffers and `JSON.parse`s the same
 * bodies and answers a small JSON.
 *
 * Each server under test runs alone in its own child process; the load generator runs in a third
 * process, so the client never shares an event loop (or a heap) with a server. Rounds alternate the
 * order (bare→emulator, emulator→bare, …) and the result is the median of per-round ratios, with the
 * spread. Besides wall-clock throughput, each server reports the CPU time it spent per request, which
 * is far less sensitive to other load on a shared machine. After each emulator round the bench waits
 * until every bulk job of the round has applied, and counts that CPU time too.
 *
 * Run: node --conditions=@syncline/source --import tsx bench/emulator.ts
 * Env: BENCH_ROUNDS (default 10), BENCH_REQUESTS per round and server (default 400),
 * BENCH_EMULATOR_OPTIONS (JSON merged into the emulator options, for experiments), BENCH_EMULATOR_MODULE
 * (import the emulator from this path instead, to compare against another build).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 10);
const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 400);
const CONNECTIONS = 8;
const USERS = 1000;
const self = fileURLToPath(import.meta.url);

type Message =
  { type: 'ready'; url: string } | { type: 'cpu'; cpuMs: number; pending: number } | { type: 'done'; rps: number; failures: number };

/** The 20 request bodies (ids cycle over 20,000 users, so later rounds update existing users). */
function body(round: number, batch: number): string {
  const users = [];
  for (let i = 0; i < USERS; i++) {
    const n = (batch * USERS + i) % 20_000;
    users.push({
      id: `user_${n}`,
      name: `User ${n}`,
      email: `user${n}@example.com`,
      plan: round % 2 ? 'pro' : 'free',
      seats: n % 50,
      company: { id: `c${n % 97}`, region: 'eu' },
    });
  }
  return JSON.stringify({ users });
}

const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Child: one server under test. Answers `cpu` requests with its CPU time and pending bulk jobs. */
async function serve(kind: string): Promise<void> {
  let url: string;
  let pending = (): number => 0;
  let close: () => Promise<void>;
  if (kind === 'bare') {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        JSON.parse(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((r) => server.close(() => r()));
  } else {
    const { startEmulator } = (await import(
      process.env['BENCH_EMULATOR_MODULE'] ?? '@syncline/knock-emulator'
    )) as typeof import('@syncline/knock-emulator');
    const extra = JSON.parse(process.env['BENCH_EMULATOR_OPTIONS'] ?? '{}') as object;
    const emulator = await startEmulator({ port: 0, rateLimits: false, bulkDelayMs: 100, requestLogLimit: 1000, ...extra });
    url = emulator.url;
    // -1: a build without `pendingBulk` (A/B runs against older code); the bench then waits 2 delays.
    pending = typeof emulator.control.pendingBulk === 'function' ? () => emulator.control.pendingBulk() : () => -1;
    close = () => emulator.close();
  }
  process.on('message', (m: { type: string }) => {
    if (m.type === 'cpu') process.send!({ type: 'cpu', cpuMs: cpuMs(), pending: pending() } satisfies Message);
    else if (m.type === 'exit') void close().then(() => process.exit(0));
  });
  process.send!({ type: 'ready', url } satisfies Message);
}

/** Child: the load generator (undici Pool, keep-alive, one request per connection at a time). */
async function client(): Promise<void> {
  const { Pool } = await import('undici');
  // Encoded once, so the client spends its time on the HTTP exchange only.
  const bodies = Array.from({ length: 20 }, (_, i) => Buffer.from(body(i, i)));
  const pools = new Map<string, InstanceType<typeof Pool>>();
  let batch = 0;
  process.on('message', (m: { type: string; url: string; requests: number }) => {
    if (m.type === 'exit') {
      void Promise.all([...pools.values()].map((p) => p.close())).then(() => process.exit(0));
      return;
    }
    let pool = pools.get(m.url);
    if (!pool) pools.set(m.url, (pool = new Pool(m.url, { connections: CONNECTIONS, pipelining: 1 })));
    const p = pool;
    let next = 0;
    let failures = 0;
    const t0 = performance.now();
    void Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (next < m.requests) {
          next++;
          const b = bodies[batch++ % bodies.length]!;
          const res = await p.request({
            path: '/v1/users/bulk/identify',
            method: 'POST',
            body: b,
            headers: { 'content-type': 'application/json', authorization: 'Bearer sk_test_bench' },
          });
          await res.body.text();
          if (res.statusCode !== 200) failures++;
        }
      }),
    ).then(() => process.send!({ type: 'done', rps: m.requests / ((performance.now() - t0) / 1000), failures } satisfies Message));
  });
  process.send!({ type: 'ready', url: '' } satisfies Message);
}

/** A child process with a request/response helper over IPC. */
function child(
  role: string,
  arg = '',
): {
  proc: ChildProcess;
  ask<T extends Message['type']>(msg: object, type: T): Promise<Extract<Message, { type: T }>>;
  ready: Promise<string>;
} {
  const proc = fork(self, [role, arg], { execArgv: process.execArgv, stdio: 'inherit' });
  const waiters: Array<{ type: string; resolve: (m: Message) => void }> = [];
  proc.on('message', (m: Message) => {
    const i = waiters.findIndex((w) => w.type === m.type);
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(m);
  });
  const wait = <T extends Message['type']>(type: T) =>
    new Promise<Extract<Message, { type: T }>>((resolve) => waiters.push({ type, resolve: resolve as (m: Message) => void }));
  const ready = wait('ready').then((m) => m.url);
  return {
    proc,
    ready,
    ask(msg, type) {
      const p = wait(type);
      proc.send(msg);
      return p;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const servers = { bare: child('server', 'bare'), emulator: child('server', 'emulator') };
  const load = child('client');
  const urls = { bare: await servers.bare.ready, emulator: await servers.emulator.ready };
  await load.ready;

  /** One measured run against one server: client req/s and the server's CPU ms per request. */
  const run = async (kind: 'bare' | 'emulator', requests: number): Promise<{ rps: number; cpuPerRequest: number }> => {
    const server = servers[kind];
    const before = await server.ask({ type: 'cpu' }, 'cpu');
    const done = await load.ask({ type: 'run', url: urls[kind], requests }, 'done');
    if (done.failures) throw new Error(`${kind}: ${done.failures} requests failed`);
    // Jobs of this round still pending apply before the next round starts, and count towards its CPU.
    let after = await server.ask({ type: 'cpu' }, 'cpu');
    if (after.pending < 0) {
      await sleep(200);
      after = await server.ask({ type: 'cpu' }, 'cpu');
    }
    while (after.pending > 0) {
      await sleep(20);
      after = await server.ask({ type: 'cpu' }, 'cpu');
    }
    return { rps: done.rps, cpuPerRequest: (after.cpuMs - before.cpuMs) / requests };
  };

  await run('bare', 200); // warm-up (JIT, 20,000 users created in the emulator)
  await run('emulator', 200);
  const rounds: Array<{ bare: number; emulator: number; ratio: number; bareCpu: number; emulatorCpu: number }> = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order: Array<'bare' | 'emulator'> = round % 2 ? ['emulator', 'bare'] : ['bare', 'emulator'];
    const r: Partial<Record<'bare' | 'emulator', { rps: number; cpuPerRequest: number }>> = {};
    for (const kind of order) r[kind] = await run(kind, REQUESTS);
    const b = r.bare!;
    const e = r.emulator!;
    rounds.push({ bare: b.rps, emulator: e.rps, ratio: e.rps / b.rps, bareCpu: b.cpuPerRequest, emulatorCpu: e.cpuPerRequest });
    console.log(
      `round ${String(round + 1).padStart(2)} (${order[0]} first): bare ${b.rps.toFixed(0)} req/s, emulator ${e.rps.toFixed(0)} req/s, ratio ${(e.rps / b.rps).toFixed(2)}` +
        ` | server CPU/request: bare ${b.cpuPerRequest.toFixed(2)} ms, emulator ${e.cpuPerRequest.toFixed(2)} ms`,
    );
  }
  await Promise.all(
    [servers.bare.proc, servers.emulator.proc, load.proc].map((p) => new Promise((r) => (p.once('exit', r), p.send({ type: 'exit' })))),
  );

  const ratios = rounds.map((r) => r.ratio);
  const sorted = [...ratios].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(p * (sorted.length - 1))))]!;
  const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
  const cpuRatio = median(rounds.map((r) => r.bareCpu / r.emulatorCpu));
  console.log(
    `\nbulk identify, ${USERS.toLocaleString('en')} users/request (${(body(0, 0).length / 1024).toFixed(0)} kB), ${REQUESTS} requests × ${ROUNDS} alternating rounds per server, undici Pool ${CONNECTIONS} connections, client in its own process`,
  );
  console.log(
    `median req/s: bare node:http ${median(rounds.map((r) => r.bare)).toFixed(0)}, emulator ${median(rounds.map((r) => r.emulator)).toFixed(0)}`,
  );
  console.log(
    `throughput ratio emulator/bare: median ${pct(median(ratios))} (spread ${pct(sorted[0]!)}–${pct(sorted[sorted.length - 1]!)}, interquartile ${pct(q(0.25))}–${pct(q(0.75))}) — target ≥ 60 %`,
  );
  console.log(
    `server CPU per request: bare ${median(rounds.map((r) => r.bareCpu)).toFixed(2)} ms, emulator ${median(rounds.map((r) => r.emulatorCpu)).toFixed(2)} ms (incl. applying the jobs) → CPU-bound ratio ${pct(cpuRatio)}`,
  );
}

const [role, arg] = process.argv.slice(2);
if (role === 'server') await serve(arg!);
else if (role === 'client') await client();
else await main();
