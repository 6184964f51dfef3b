/**
 * Diff and plan benchmark: a users model of 1M and 10M rows (seeded Parquet in bench/.data), a ledger whose
 * snapshot holds the previous state, and `syncline plan` (the CLI's own `main`, in the measuring process:
 * config, ledger, stage + key checks + diff + validate + plan, the printed plan; nothing is sent) with 1 % of
 * rows changed, 0.5 % added and 0.5 % removed. Printed against two baselines measured in the same run: the
 * floor (DuckDB alone reading the model and hashing each row's payload once) and the simple approach (both
 * states loaded into JS Maps and compared). Every measurement runs in its own child process, so its peak RSS
 * is its own. The phase breakdown comes from one more dry run of `runSync` on the same inputs;
 * `--destination memory` times that dry run with an in-memory destination instead (the engine alone).
 *
 * Run: npm run bench -- diff [--sizes 1m,10m] [--memory 1536MB] [--repeat 2] [--destination knock|memory] [--naive-10m] [--first]
 * (`--first`: no ledger, every row an add: a new user's first plan)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  configHash,
  literal,
  memoryDestination,
  openDuckdbLedger,
  payloadProjection,
  runSync,
  syncSpecFieldsSchema,
  toSyncSpec,
  type Destination,
} from '@syncline/core';
import { duckdbSource } from '@syncline/source-duckdb';

const DATA = join(import.meta.dirname, '.data');
const SEED = 42;
/** Bump when the ledger layout changes, so a cached bench ledger is rebuilt. */
const LEDGER_TAG = 'v3';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1m,10m' },
    // 1.5 GB: at 10M rows the snapshot's (key, hash) join table fits (no spill; peak RSS ~1.6 GB); at 1 GB
    // DuckDB spills ~750 MB to the ledger's .tmp and the stage takes ~1.5× as long.
    memory: { type: 'string', default: '1536MB' },
    repeat: { type: 'string', default: '2' },
    'naive-10m': { type: 'boolean', default: false },
    /** A first plan: no ledger (every row is an add), as a new user's first `syncline plan`. */
    first: { type: 'boolean', default: false },
    /** `knock` (default): the real Knock destination's validate + plan; `memory`: the engine alone. */
    destination: { type: 'string', default: 'knock' },
    child: { type: 'string' },
    n: { type: 'string' },
  },
});

const spec = toSyncSpec(
  syncSpecFieldsSchema.parse({
    name: 'bench-users',
    model: 'select * from users',
    key: 'id',
    sync: {
      type: 'users',
      mode: 'upsert',
      onDelete: 'delete',
      fields: { email: 'email', name: 'full_name', phone_number: 'phone', timezone: 'timezone', plan: 'plan', signup_date: 'signup_date' },
    },
  }),
);

const files = (n: number) => ({
  prev: join(DATA, `users-prev-${n}.parquet`),
  cur: join(DATA, `users-cur-${n}.parquet`),
  ledger: join(DATA, `ledger-${LEDGER_TAG}-${n}.duckdb`),
});

/** Deterministic pseudo-random pick in [0, n) for row `i` and column salt `k` (plain integer arithmetic, engine-independent). */
const pick = (k: number, n: number): string => `((i * 2654435761 + ${SEED * 7919 + k * 104729}) % 4294967291) % ${n}`;

/** The users model for row numbers `i`; rows with i % 100 = 50 get a new plan in the current state. */
function usersSql(from: number, to: number, changed: boolean, n: number): string {
  const plan = `(['free', 'pro', 'team'])[1 + ${pick(5, 3)}]`;
  return `SELECT 'u' || lpad(i::VARCHAR, 9, '0') AS id,
      'user' || i || '@example.com' AS email,
      (['Ada', 'Grace', 'Linus', 'Barbara', 'Edsger', 'Leslie'])[1 + ${pick(1, 6)}] || ' ' || (['Lovelace', 'Hopper', 'Torvalds', 'Liskov', 'Dijkstra', 'Lamport'])[1 + ${pick(2, 6)}] AS full_name,
      '+1415' || lpad((${pick(3, 10000000)})::VARCHAR, 7, '0') AS phone,
      (['Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'UTC'])[1 + ${pick(4, 4)}] AS timezone,
      ${changed ? `CASE WHEN i % 100 = 50 AND i < ${n} THEN 'enterprise' ELSE ${plan} END` : plan} AS plan,
      DATE '2020-01-01' + (${pick(6, 2000)})::INTEGER AS signup_date
    FROM range(${from}, ${to}) t(i)`;
}

// ---------------------------------------------------------------- child tasks (one per process)

type Result = Record<string, unknown>;

async function generate(n: number): Promise<Result> {
  const f = files(n);
  const t0 = performance.now();
  if (!existsSync(f.prev) || !existsSync(f.cur)) {
    const db = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: args.memory! });
    const c = await db.connect();
    await c.run(`COPY (${usersSql(0, n, false, n)}) TO ${literal(f.prev)} (FORMAT parquet)`);
    await c.run(`COPY (${usersSql(Math.round(n * 0.005), Math.round(n * 1.005), true, n)}) TO ${literal(f.cur)} (FORMAT parquet)`);
    c.closeSync();
    db.closeSync();
  }
  return { ms: performance.now() - t0 };
}

/** A ledger whose snapshot is the previous state, written with the engine's own projection and hash. */
async function buildLedger(n: number): Promise<Result> {
  const f = files(n);
  const t0 = performance.now();
  for (const p of [f.ledger, `${f.ledger}.wal`]) rmSync(p, { force: true });
  const ledger = await openDuckdbLedger({ path: f.ledger, memoryLimit: args.memory! });
  const columns = await ledger.describe(`SELECT * FROM read_parquet(${literal(f.prev)})`);
  const salt = configHash(spec, await destination());
  // With each row's fingerprint, as a run writes it (see row-fingerprint.ts).
  await ledger.connection
    .run(`INSERT INTO snapshot (k, h, payload, run_id, synced_at, f) SELECT k, ${ledger.rowHash(`(${literal(salt)} || payload)`)}, payload, 'r_bench', now(), f
    FROM (SELECT CAST(id AS VARCHAR) AS k, ${payloadProjection(spec.fields, columns)} AS payload, ${ledger.fingerprintSql(spec.fields, columns, salt)} AS f
            FROM read_parquet(${literal(f.prev)}))`);
  await ledger.setMeta('config_hash', salt);
  await ledger.connection.run('CHECKPOINT');
  await ledger.close();
  return { ms: performance.now() - t0 };
}

/** The floor: DuckDB reads the model and hashes every row's payload once (same projection, same hash, same settings). */
async function floor(n: number): Promise<Result> {
  const f = files(n);
  const ledger = await openDuckdbLedger({ path: ':memory:', memoryLimit: args.memory! });
  const columns = await ledger.describe(`SELECT * FROM read_parquet(${literal(f.cur)})`);
  const salted = `(${literal(configHash(spec, await destination()))} || payload)`;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await ledger.connection.runAndReadAll(
    `SELECT count(*) AS n, max(${ledger.rowHash(salted)}) AS h
       FROM (SELECT CAST(id AS VARCHAR) AS k, ${payloadProjection(spec.fields, columns)} AS payload FROM read_parquet(${literal(f.cur)}))`,
  );
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  await ledger.close();
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, rows: Number((r.getRowObjectsJson()[0] as { n: string }).n) };
}

async function destination(): Promise<Destination> {
  if (args.destination === 'memory') return memoryDestination({ batchSize: 1000 });
  try {
    const { knockDestination } = await import('@syncline/destination-knock');
    // plan and validate are pure: nothing is sent to this address.
    return knockDestination({ apiKey: 'sk_test_bench', baseUrl: 'http://127.0.0.1:9' });
  } catch {
    return memoryDestination();
  }
}

/**
 * `syncline plan <config>` as a user runs it, timed from the CLI's `main` (Node start-up excluded): the
 * config names the same Parquet model, mapping and memory limit, and its ledger is the bench ledger.
 */
async function cliPlan(n: number): Promise<Result> {
  if (args.destination === 'memory') return plan(n);
  const f = files(n);
  const dir = join(DATA, `cli-${n}`);
  mkdirSync(join(dir, '.syncline'), { recursive: true });
  const ledger = join(dir, '.syncline', 'bench-users.duckdb');
  rmSync(ledger, { force: true });
  // A first plan has no ledger: the CLI plans against a throwaway ':memory:' one.
  if (!args.first) symlinkSync(f.ledger, ledger);
  const config = join(dir, 'sync.yaml');
  writeFileSync(
    config,
    [
      'name: bench-users',
      `source: { type: duckdb, tables: { users: ${JSON.stringify(f.cur)} } }`,
      'model: select * from users',
      'key: id',
      // plan --offline sends nothing and checks nothing: nothing listens on this address.
      'destination: { type: knock, apiKey: sk_test_bench, baseUrl: "http://127.0.0.1:9" }',
      'sync:',
      '  type: users',
      '  mode: upsert',
      '  onDelete: delete',
      `  fields: ${JSON.stringify(spec.fields)}`,
      `ledger: { memoryLimit: ${args.memory}, threads: 2 }`,
      '',
    ].join('\n'),
  );
  const { main } = await import('@syncline/cli');
  let out = '';
  const sink = (keep: boolean) =>
    new Writable({
      write(chunk: Buffer, _enc, done) {
        if (keep) out += chunk.toString();
        done();
      },
    }) as unknown as NodeJS.WriteStream;
  let heapPeak = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 20);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const code = await main(['plan', config, '--no-color', '--offline'], { stdout: sink(true), stderr: sink(false), env: {} });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  clearInterval(sampler);
  if (code !== 0) throw new Error(`syncline plan exited ${code}:\n${out}`);
  // The plan's own summary (counts), to show it planned the same changes as the dry run.
  const summary = out.split('\n').find((l) => /\d[\d,]* (to add|adds?|added)/i.test(l)) ?? out.split('\n').slice(0, 3).join(' | ');
  return {
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    destination: 'knock (syncline plan)',
    summary: summary.trim(),
    heapPeakMB: Math.max(heapPeak, process.memoryUsage().heapUsed) / 2 ** 20,
  };
}

async function plan(n: number): Promise<Result> {
  const f = files(n);
  const dest = await destination();
  const ledger = await openDuckdbLedger({ path: args.first ? ':memory:' : f.ledger, memoryLimit: args.memory! });
  const source = duckdbSource({ tables: { users: f.cur } });
  let heapPeak = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 20);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await runSync({ spec, source, destination: dest, ledger, dryRun: true });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  clearInterval(sampler);
  heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  await ledger.close();
  if (r.status !== 'succeeded') throw new Error(`dry run ${r.status}: ${r.error?.message}`);
  return {
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    destination: dest.name,
    rows: r.rows,
    phases: r.phases,
    calls: r.requests,
    heapPeakMB: heapPeak / 2 ** 20,
  };
}

/** What a user would write first: both states as JS Maps of key → JSON text, then compare. */
async function naive(n: number): Promise<Result> {
  const f = files(n);
  const db = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await db.connect();
  const t0 = performance.now();
  const load = async (file: string): Promise<Map<string, string>> => {
    const m = new Map<string, string>();
    const res = await conn.stream(`SELECT * FROM read_parquet(${literal(file)})`);
    for await (const rows of res.yieldRowObjectJson())
      for (const r of rows)
        m.set(
          String(r.id),
          JSON.stringify({
            email: r.email,
            name: r.full_name,
            phone_number: r.phone,
            timezone: r.timezone,
            plan: r.plan,
            signup_date: r.signup_date,
          }),
        );
    return m;
  };
  const prev = await load(f.prev);
  const cur = await load(f.cur);
  const counts = { add: 0, change: 0, remove: 0 };
  for (const [k, v] of cur) {
    const p = prev.get(k);
    if (p === undefined) counts.add += 1;
    else if (p !== v) counts.change += 1;
  }
  for (const k of prev.keys()) if (!cur.has(k)) counts.remove += 1;
  const ms = performance.now() - t0;
  return { ms, counts, heapPeakMB: process.memoryUsage().heapUsed / 2 ** 20 };
}

const TASKS: Record<string, (n: number) => Promise<Result>> = { generate, build: buildLedger, floor, plan: cliPlan, phases: plan, naive };

if (args.child) {
  const result = await TASKS[args.child]!(Number(args.n));
  process.stdout.write(`\nRESULT ${JSON.stringify({ ...result, maxRssMB: process.resourceUsage().maxRSS / 1024 })}\n`);
  process.exit(0);
}

// ---------------------------------------------------------------- parent: orchestrate and print

function child(task: string, n: number): Result & { ms: number; maxRssMB: number } {
  const r = spawnSync(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      '--child',
      task,
      '--n',
      String(n),
      '--memory',
      args.memory!,
      '--destination',
      args.destination!,
      ...(args.first ? ['--first'] : []),
    ],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 2 ** 20,
    },
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line)
    throw Object.assign(new Error(`${task} ${n} failed (exit ${r.status}): ${r.stderr.slice(-2000)}`), { stderr: r.stderr });
  return JSON.parse(line.slice(7));
}

const sizes = args.sizes!.split(',').map((s) => Math.round(Number(s.replace(/m$/i, '')) * (/m$/i.test(s) ? 1e6 : 1)));
const repeat = Number(args.repeat);
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const best = <T extends { ms: number }>(xs: T[]): T => xs.reduce((a, b) => (b.ms < a.ms ? b : a));
mkdirSync(DATA, { recursive: true });
process.stdout.write(
  `${args.first ? 'FIRST plan (no ledger) · ' : ''}diff/plan benchmark · memory_limit ${args.memory} · best of ${repeat} · node ${process.version}\n`,
);
const summary: Record<string, unknown>[] = [];
for (const n of sizes) {
  const label = n >= 1e6 ? `${n / 1e6}M` : String(n);
  const gen = child('generate', n);
  if (gen.ms > 100) process.stdout.write(`${label}: generated the model in ${fmt(gen.ms)}\n`);
  if (!existsSync(files(n).ledger)) {
    const b = child('build', n);
    process.stdout.write(`${label}: built the ledger snapshot in ${fmt(b.ms)} (peak RSS ${b.maxRssMB.toFixed(0)} MB)\n`);
  }
  // Interleaved, so a busy neighbour on this shared machine slows floors and plans alike.
  const floors: ReturnType<typeof child>[] = [];
  const plans: ReturnType<typeof child>[] = [];
  for (let i = 0; i < repeat; i++) {
    floors.push(child('floor', n));
    plans.push(child('plan', n));
  }
  const fl = best(floors);
  const pl = best(plans);
  // The phase breakdown and counts: one dry run of runSync on the same inputs (the CLI prints neither).
  const ph = args.destination === 'memory' ? pl : child('phases', n);
  const rssPeak = Math.max(...plans.map((p) => p.maxRssMB));
  // Each plan is divided by the floor measured just before it, and the median of those ratios is the
  // headline: on a shared machine a neighbour's load slows adjacent measurements alike.
  const pairRatios = plans.map((p, i) => p.ms / floors[i]!.ms).sort((a, b) => a - b);
  const medianRatio = pairRatios[Math.floor(pairRatios.length / 2)]!;
  // CPU time (all threads of each process: DuckDB's and JavaScript's) moves far less than wall time when
  // neighbours load this shared machine; a second view of the same ratio, not the target.
  const cpuRatios = plans.map((p, i) => (p.cpuMs as number) / (floors[i]!.cpuMs as number)).sort((a, b) => a - b);
  const medianCpuRatio = cpuRatios[Math.floor(cpuRatios.length / 2)]!;
  process.stdout.write(
    `${label}: floor ${floors.map((x) => fmt(x.ms)).join(' / ')} · plan ${plans.map((x) => fmt(x.ms)).join(' / ')} → plan/floor median ${medianRatio.toFixed(2)}× (pairs ${pairRatios.map((r) => r.toFixed(2)).join(', ')}; best/best ${(pl.ms / fl.ms).toFixed(2)}×)` +
      ` · plan peak RSS ${rssPeak.toFixed(0)} MB · JS heap peak ${(pl.heapPeakMB as number).toFixed(0)} MB · destination ${pl.destination}\n` +
      `${label}: CPU time (all threads) floor ${floors.map((x) => fmt(x.cpuMs as number)).join(' / ')} · plan ${plans.map((x) => fmt(x.cpuMs as number)).join(' / ')} → median ${medianCpuRatio.toFixed(2)}×\n` +
      (pl.summary ? `${label}: syncline plan printed: ${pl.summary}\n` : '') +
      `${label}: rows ${JSON.stringify(ph.rows)} · ${ph.calls} calls planned\n` +
      `${label}: phases (runSync dry run, ${fmt(ph.ms)}) ${(ph.phases as { name: string; ms: number }[]).map((p) => `${p.name} ${p.ms} ms`).join(' · ')}\n`,
  );
  const row: Record<string, unknown> = {
    n,
    floorMs: fl.ms,
    planMs: pl.ms,
    ratio: medianRatio,
    pairRatios,
    cpuRatio: medianCpuRatio,
    planRssMB: rssPeak,
    floorRssMB: fl.maxRssMB,
    heapPeakMB: pl.heapPeakMB,
    phases: ph.phases,
  };
  if (n <= 2e6 || args['naive-10m']) {
    try {
      const nv = child('naive', n);
      row.naiveMs = nv.ms;
      row.naiveRssMB = nv.maxRssMB;
      process.stdout.write(
        `${label}: JS Maps ${fmt(nv.ms)} (peak RSS ${nv.maxRssMB.toFixed(0)} MB, heap ${(nv.heapPeakMB as number).toFixed(0)} MB) → JS Maps/plan ${(nv.ms / pl.ms).toFixed(2)}×\n`,
      );
    } catch (e) {
      process.stdout.write(
        `${label}: JS Maps did not finish: ${
          String((e as Error).message)
            .split('\n')
            .find((l) => /heap|memory/i.test(l)) ?? (e as Error).message.slice(0, 200)
        }\n`,
      );
    }
  } else
    process.stdout.write(
      `${label}: JS Maps not run (two 10M-entry Maps of JSON text need ~5 GB of heap, above V8's ~4 GB default; --naive-10m tries)\n`,
    );
  summary.push(row);
}
process.stdout.write(`\n${JSON.stringify(summary)}\n`);
