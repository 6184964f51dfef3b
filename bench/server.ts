/**
 * `npm run bench -- server`: the server's load items (issue 12), on loopback over real HTTP, bounded:
 *   1. 50 concurrent `POST /api/query` previews over a 1M-row Parquet table, with `/api/health` polled;
 *   2. an SSE client following a run of ROWS rows (default 200,000) against the emulator, counting the
 *      exchanges it receives against those the ledger recorded for the run; `/api/health` polled meanwhile;
 *   2b. the Runs screen paging through that finished run's exchanges (100 a page), `/api/health` polled;
 *   3. one runaway query (`select count(*) from range(10000000000000)`) interrupted at its timeout.
 * The health baseline is measured in the same run with nothing else going on. Not a test: prints figures.
 * The server and its built-in emulator run in a process of their own (bench/_server-process.ts), as
 * `syncline serve` runs them, apart from this load generator; that process reports its event loop's delays
 * for each item. The emulator runs without rate limits and the sync's tier 1 is raised to 50 req/s (the
 * bench measures the server, not Knock's pacing). Usage: npm run bench -- server [rows] [--emulator-on-loop |
 * --emulator-apart] (default: the emulator in a worker thread of the server process, as `syncline serve` runs it;
 * `--emulator-on-loop`: on the server's main thread, as before that; `--emulator-apart`: in a process of its own,
 * so the server process holds the server alone).
 */
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadConfig } from '@syncline/cli';
import { openDuckdbLedger } from '@syncline/core';
import { seedWorkspace, workspaceAt } from '@syncline/server';

const EMULATOR = process.argv.includes('--emulator-apart') ? 'apart' : process.argv.includes('--emulator-on-loop') ? 'loop' : 'thread';
const ROWS = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 200_000);
const TOKEN = 'bench-token-0123456789';
const TIMEOUT_MS = 5_000;

const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};
const fmt = (xs: number[]): string => `p50 ${pct(xs, 50).toFixed(1)} ms · p99 ${pct(xs, 99).toFixed(1)} ms · n=${xs.length}`;

const dir = mkdtempSync(join(tmpdir(), 'syncline-bench-server-'));
await seedWorkspace(workspaceAt(dir));
{
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  await db.run(
    `COPY (SELECT i AS id, 'user ' || i AS name, i % 97 AS score, now()::DATE - (i % 1000)::INT AS day FROM range(1000000) t(i)) TO '${join(dir, 'data', 'big.parquet')}' (FORMAT parquet)`,
  );
  await db.run(
    `COPY (SELECT 'b_' || lpad(i::VARCHAR, 7, '0') AS id, 'b' || i || '@example.com' AS email, 'Bench ' || i AS name FROM range(${ROWS}) t(i)) TO '${join(dir, 'data', 'many.parquet')}' (FORMAT parquet)`,
  );
  db.closeSync();
}
const serverProcess = fork(join(import.meta.dirname, '_server-process.ts'), [], {
  ...(process.env.BENCH_SERVER_PROF
    ? { execArgv: [...process.execArgv, '--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SERVER_PROF}`] }
    : {}),
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
serverProcess.send({ dir, token: TOKEN, timeoutMs: TIMEOUT_MS, emulator: EMULATOR });
const { origin } = await new Promise<{ origin: string }>((r) => serverProcess.once('message', (m) => r(m as { origin: string })));
/** The server process's event-loop delays since the last ask. */
const loop = async (): Promise<string> => {
  const m = await new Promise<{ p50: number; p99: number; max: number }>((r) => {
    serverProcess.once('message', (x) => r(x as never));
    serverProcess.send({ type: 'loop' });
  });
  return `server event loop delay p50 ${m.p50.toFixed(1)} ms · p99 ${m.p99.toFixed(1)} ms · max ${m.max.toFixed(1)} ms`;
};
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
let errors = 0;
const api = async (method: string, path: string, body?: unknown): Promise<Response> => {
  const r = await fetch(origin + path, { method, headers: auth, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  if (r.status >= 400 && !(path === '/api/query' && r.status === 504)) {
    errors++;
    if (process.env.BENCH_DEBUG) console.error(method, path, r.status, await r.clone().text());
  }
  return r;
};
/** Polls /api/health every 10 ms until `stop` resolves; returns the latencies. */
const pollHealth = async (stop: Promise<unknown>): Promise<number[]> => {
  const out: number[] = [];
  let done = false;
  void stop.finally(() => (done = true));
  while (!done) {
    const t0 = performance.now();
    const r = await fetch(`${origin}/api/health`);
    await r.arrayBuffer();
    if (r.status !== 200) errors++;
    out.push(performance.now() - t0);
    await new Promise((res) => setTimeout(res, 10));
  }
  return out;
};

console.log(
  `server bench · ${new Date().toISOString()} · ${ROWS.toLocaleString('en')} rows for the run · emulator ${{ apart: 'in its own process', loop: "on the server process's main thread", thread: 'in a worker thread of the server process' }[EMULATOR]} · machine shared with other agents · load average ${load()}`,
);
await api('GET', '/api/tables'); // starts the sandbox and reads the tables
const idle: number[] = [];
for (let i = 0; i < 200; i++) {
  const t0 = performance.now();
  await (await fetch(`${origin}/api/health`)).arrayBuffer();
  idle.push(performance.now() - t0);
}
console.log(`health, idle (baseline):            ${fmt(idle)} · ${await loop()}`);

// 1. 50 concurrent previews over the 1M-row Parquet table.
await loop();
const queries: number[] = [];
const q = Promise.all(
  Array.from({ length: 50 }, async (_, i) => {
    const t0 = performance.now();
    const r = await api('POST', '/api/query', { sql: `select * from big where score = ${i % 97} order by id`, limit: 100 });
    const body = (await r.json()) as { total?: number };
    if (r.status !== 200 || !body.total) errors++;
    queries.push(performance.now() - t0);
  }),
);
const healthQ = await pollHealth(q);
console.log(`50 concurrent previews (1M rows):    ${fmt(queries)}`);
console.log(
  `health during the previews:          ${fmt(healthQ)} · p99 / idle p99 = ${(pct(healthQ, 99) / pct(idle, 99)).toFixed(2)}x · ${await loop()}`,
);

// 2. An SSE client following a run against the emulator.
await api('PUT', '/api/syncs/many', {
  model: 'select * from many',
  key: 'id',
  destination: { type: 'knock', tiers: { 1: 50 } },
  sync: { type: 'users', fields: { email: 'email', name: 'name' } },
});
await loop();
const t0 = performance.now();
const { runId } = (await (await api('POST', '/api/syncs/many/run', {})).json()) as { runId: string };
const follow = (async () => {
  const res = await fetch(`${origin}/api/runs/${runId}/events`, { headers: auth });
  let buffer = '';
  let exchanges = 0;
  let end = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      if (block.includes('event: exchange')) exchanges++;
      if (block.includes('event: end')) end = block;
    }
  }
  return { exchanges, end };
})();
const healthRun = await pollHealth(follow);
const streamed = await follow;
const ms = performance.now() - t0;
const loopRun = await loop();
// The run's end reaches the stream before its record is read back from the ledger: wait until it is.
while (((await (await api('GET', `/api/runs/${runId}`)).json()) as { run: { finishedAt: string | null } }).run.finishedAt === null)
  await new Promise((r) => setTimeout(r, 100));
// Counted in the run's ledger itself (the API answers a run it still holds from memory).
const config = loadConfig(join(dir, 'syncs', 'many.yaml'), {});
const recorded = await (async () => {
  await using ledger = await openDuckdbLedger({ path: config.ledgerPath, ...config.ledger });
  return (await ledger.exchanges(runId, Number.MAX_SAFE_INTEGER)).length;
})();
const status = /"status":"(\w+)"/.exec(streamed.end)?.[1];
console.log(
  `run of ${ROWS.toLocaleString('en')} rows followed over SSE:   ${status} in ${(ms / 1000).toFixed(1)} s · ${streamed.exchanges} exchanges streamed, ${recorded} recorded by the ledger${streamed.exchanges === recorded ? ' (all delivered)' : ' (MISMATCH)'}`,
);
console.log(
  `health during the run:               ${fmt(healthRun)} · p99 / idle p99 = ${(pct(healthRun, 99) / pct(idle, 99)).toFixed(2)}x · ${loopRun}`,
);

// 2b. The Runs screen paging through the finished run's exchanges (read from its ledger), 100 a page, every page.
await loop();
const pages: number[] = [];
let bytes = 0;
const paging = (async () => {
  for (let offset = 0; offset < recorded; offset += 100) {
    const t0 = performance.now();
    const r = await api('GET', `/api/runs/${runId}/exchanges?offset=${offset}&limit=100`);
    bytes += (await r.arrayBuffer()).byteLength;
    pages.push(performance.now() - t0);
  }
})();
const healthPaging = await pollHealth(paging);
console.log(
  `exchange pages of the finished run:  ${fmt(pages)} · ${(bytes / 1e6).toFixed(1)} MB · health p99 ${pct(healthPaging, 99).toFixed(1)} ms (n=${healthPaging.length}) · ${await loop()}`,
);

// 3. A runaway query, interrupted at its timeout.
const tr = performance.now();
const runaway = await api('POST', '/api/query', { sql: 'select count(*) from range(10000000000000)' });
const took = performance.now() - tr;
const rbody = (await runaway.json()) as { error?: { code: string } };
console.log(
  `runaway query: ${runaway.status} ${rbody.error?.code} after ${took.toFixed(0)} ms (timeout ${TIMEOUT_MS} ms: ${(took - TIMEOUT_MS).toFixed(0)} ms past it)`,
);
const after = await api('POST', '/api/query', { sql: 'select 1 as ok' });
console.log(`next query after the runaway: ${after.status}`);
console.log(`errors: ${errors} · load average at the end ${load()}`);

await new Promise<void>((r) => {
  serverProcess.once('exit', () => r());
  serverProcess.disconnect();
});
