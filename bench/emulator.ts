/**
 * Emulator throughput: bulk identify (1,000 users per request) against the Knock emulator with rate
 * limits off, side by side with a bare node:http server that only parses the same JSON bodies.
 * Run: node --conditions=@syncline/source --import tsx bench/emulator.ts
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { startEmulator } from '@syncline/knock-emulator';

const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 600);
const CONNECTIONS = 8;
const ROUNDS = 5;

function body(round: number, batch: number): string {
  const users = [];
  for (let i = 0; i < 1000; i++) {
    const n = (batch * 1000 + i) % 20_000;
    users.push({ id: `user_${n}`, name: `User ${n}`, email: `user${n}@example.com`, plan: round % 2 ? 'pro' : 'free', seats: n % 50, company: { id: `c${n % 97}`, region: 'eu' } });
  }
  return JSON.stringify({ users });
}

async function bareServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

async function drive(url: string, bodies: string[]): Promise<number> {
  const pool = new Pool(url, { connections: CONNECTIONS, pipelining: 1 });
  let next = 0;
  let failures = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < REQUESTS) {
        const b = bodies[next++ % bodies.length]!;
        const res = await pool.request({ path: '/v1/users/bulk/identify', method: 'POST', body: b, headers: { 'content-type': 'application/json', authorization: 'Bearer sk_test_bench' } });
        await res.body.text();
        if (res.statusCode !== 200) failures++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await pool.close();
  if (failures) throw new Error(`${failures} requests failed`);
  return REQUESTS / seconds;
}

const bodies = Array.from({ length: 20 }, (_, i) => body(i, i));
const bare = await bareServer();
const emulator = await startEmulator({ port: 0, rateLimits: false, bulkDelayMs: 100, requestLogLimit: 1000 });
const results: Array<{ bare: number; emulator: number }> = [];
await drive(bare.url, bodies.slice(0, 2)); // warm-up
await drive(emulator.url, bodies.slice(0, 2));
for (let round = 0; round < ROUNDS; round++) {
  const b = await drive(bare.url, bodies);
  const e = await drive(emulator.url, bodies);
  results.push({ bare: b, emulator: e });
  console.log(`round ${round + 1}: bare ${b.toFixed(0)} req/s, emulator ${e.toFixed(0)} req/s, ratio ${(e / b).toFixed(2)}`);
}
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const bareRps = median(results.map((r) => r.bare));
const emuRps = median(results.map((r) => r.emulator));
// Rounds alternate bare/emulator, so the median of per-round ratios is robust to machine noise.
const ratio = median(results.map((r) => r.emulator / r.bare));
emulator.control.flushBulk({ force: true });
console.log(`\nbulk identify, 1,000 users/request (${(bodies[0]!.length / 1024).toFixed(0)} kB), ${REQUESTS} requests × ${ROUNDS} rounds, undici Pool ${CONNECTIONS} connections`);
console.log(`median: bare node:http ${bareRps.toFixed(0)} req/s, emulator ${emuRps.toFixed(0)} req/s ; median per-round ratio ${(ratio * 100).toFixed(0)} % of bare (target ≥ 60 %)`);
await emulator.close();
await bare.close();
