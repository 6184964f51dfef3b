/**
 * Whole runs as users run them (issue 10, "Benchmarks"): the Knock emulator in its own process
 * (`syncline emulator`, with or without `--no-rate-limits`) and `syncline run sync.yaml --json` as a child
 * process on a generated CSV in a temp folder, its DuckDB ledger included. Scenarios:
 *  1. first sync of N users with Knock's real tiers: rows/s over the whole run against the tier ceiling
 *     (computed with the destination's own `chooseSplit` and Knock's default tiers), and the rate over the
 *     last minute of the send against the first (from the run's NDJSON progress events);
 *  2. the same with `tiers: off` against `--no-rate-limits`: rows/s, and the ledger's share of the run
 *     (the run record's `commit` phase, read back with `syncline runs --json`, against the process's CPU);
 *  3. N rows with 2 % changed, tiers off: end-to-end seconds of the incremental run (target ≤ 10 s);
 *  4. a 1 % rerun of N with Knock's real tiers: requests and rows sent, against a plain `@knocklabs/node`
 *     script (own process) that resends all N rows in bulk (⌈N/1,000⌉ jobs) to the emulator without rate
 *     limits; its time at Knock's 1 bulk request/s is at least ⌈N/1,000⌉ − 1 s;
 *  5. Ctrl-C (SIGINT) of a first sync of N users, tiers off, once half the rows are confirmed: seconds from
 *     the signal to the exit (ux.md: calls in flight get at most 10 s), then the resumed run to the end
 *     and the rows sent twice (only keys left in doubt by the stop may be).
 * Scenarios 3 and 4 start from a copy of a first-synced folder (scenario 2's when the size matches, else a
 * first sync with tiers off is run and reported as setup). Every measured process reports its peak RSS and
 * CPU time at exit (bench/_exit-usage.mjs). Loopback only; temp folders are removed at the end.
 *
 * Run: npm run bench -- run [--scenarios 1,2,3,4,5] [--rows N] [--rows1 N] … [--rows5 N]
 *      [--repeat 1] [--max-minutes 120] [--keep] [--seed run|sql] [--seeded DIR] [--format csv|parquet] [--source]
 *      (sizes accept 250k, 1m, 10m; defaults: 1m, 1m, 10m, 1m, 1m; --scenarios defaults to 1,2,3,4)
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { configHash, literal, openDuckdbLedger, payloadProjection } from '@syncline/core';
import { loadConfig, openSource } from '@syncline/cli';
import { chooseSplit, knockDestination, MAX_BATCH, parseKnockOptions, splitRates } from '@syncline/destination-knock';
import Knock from '@knocklabs/node';

const API_KEY = 'sk_test_bench_run';
const REPO = join(import.meta.dirname, '..');
// Absolute, so a child started in a temp folder still finds them.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const USAGE = pathToFileURL(join(import.meta.dirname, '_exit-usage.mjs')).href;
const FIELDS = { email: 'email', name: 'full_name', phone_number: 'phone', timezone: 'timezone', plan: 'plan' };

const { values: args } = parseArgs({
  options: {
    scenarios: { type: 'string', default: '1,2,3,4' },
    rows: { type: 'string' },
    rows1: { type: 'string' },
    rows2: { type: 'string' },
    rows3: { type: 'string' },
    rows4: { type: 'string' },
    rows5: { type: 'string' },
    'max-minutes': { type: 'string', default: '120' },
    /** Each chosen scenario this many times (3 and 4 each from a fresh copy of the same first-synced folder). */
    repeat: { type: 'string', default: '1' },
    /** Keep the temp folders (ledgers, CSVs, NDJSON) for a look afterwards. */
    keep: { type: 'boolean', default: false },
    /**
     * How scenarios 3 and 4 get their first-synced folder when scenario 2 did not leave one of the size:
     * `run` (a first sync with tiers off, ~1 h at 10M) or `sql` (the snapshot written by SQL with the
     * engine's own projection and hash, as a first sync would leave it; minutes at 10M).
     */
    seed: { type: 'string', default: 'run' },
    /**
     * A first-synced folder kept from an earlier bench (`--keep`; its `seeded-N-…` or `first-N-…` folder,
     * holding `.syncline/` and `sync.yaml`) for scenarios 3 and 4 at its size: the seed of 10M rows is not
     * written again. It is copied, never changed. The churned model it gets is written once per format and
     * churn into the folder (`users-churn2.csv`, …) and reused by later runs.
     */
    seeded: { type: 'string' },
    /**
     * The model's file format for scenarios 3 and 4: `csv` (default) or `parquet` (users with 10M rows keep
     * them in Parquet). The seeded ledger serves both: the fingerprint and hash depend on the columns' types,
     * which are the same (VARCHAR) either way.
     */
    format: { type: 'string', default: 'csv' },
    /**
     * Run the CLI from its TypeScript source through tsx (as benches before 2026-12-08 did: ~0.5 s more
     * start-up per process) instead of the built CLI (`packages/cli/bin/syncline.js`), which users run.
     */
    source: { type: 'boolean', default: false },
    /** Internal: the plain SDK script (scenario 4's baseline) in its own process. */
    'sdk-child': { type: 'string' },
    url: { type: 'string' },
  },
});

/** `250k`, `1m`, `1000000` → a row count. */
function size(text: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text.trim());
  if (!m) throw new Error(`--${name} ${text}: expected a row count such as 250k, 1m or 100000`);
  const n = Math.round(Number(m[1]) * (m[2]?.toLowerCase() === 'm' ? 1e6 : m[2]?.toLowerCase() === 'k' ? 1e3 : 1));
  if (n < 1) throw new Error(`--${name} ${text}: at least 1 row`);
  return n;
}

/** The users model as SQL: `churnPct` % of rows (spread over the keys) get another plan than the first sync's. */
function usersSql(n: number, churnPct: number): string {
  const pick = (k: number, m: number): string => `((i * 2654435761 + ${k * 104729}) % 4294967291) % ${m}`;
  const plan = `(['free', 'pro', 'team'])[1 + ${pick(5, 3)}]`;
  const changed = `((i * 7919) % 10000) < ${Math.round(churnPct * 100)}`;
  return `SELECT 'u' || lpad(i::VARCHAR, 9, '0') AS id,
      'user' || i || '@example.com' AS email,
      (['Ada', 'Grace', 'Linus', 'Barbara', 'Edsger', 'Leslie'])[1 + ${pick(1, 6)}] || ' ' || (['Lovelace', 'Hopper', 'Torvalds', 'Liskov', 'Dijkstra', 'Lamport'])[1 + ${pick(2, 6)}] AS full_name,
      '+1415' || lpad((${pick(3, 10000000)})::VARCHAR, 7, '0') AS phone,
      (['Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'UTC'])[1 + ${pick(4, 4)}] AS timezone,
      ${churnPct > 0 ? `CASE WHEN ${changed} THEN 'enterprise' ELSE ${plan} END` : plan} AS plan
    FROM range(0, ${n}) t(i)`;
}

const FORMAT = args.format === 'parquet' ? 'parquet' : args.format === 'csv' ? 'csv' : undefined;
if (!FORMAT) throw new Error(`--format ${args.format}: expected csv or parquet`);

/** Writes the users model as `users.csv` (or `users.<format>`) into `dir`. */
async function writeCsv(dir: string, n: number, churnPct: number, format: 'csv' | 'parquet' = 'csv'): Promise<number> {
  const t0 = performance.now();
  const db = await DuckDBInstance.create(':memory:', { threads: '2' });
  const c = await db.connect();
  await c.run(
    `COPY (${usersSql(n, churnPct)}) TO ${literal(join(dir, `users.${format}`))} ${format === 'csv' ? '(HEADER)' : '(FORMAT parquet)'}`,
  );
  c.closeSync();
  db.closeSync();
  return performance.now() - t0;
}

/** The sync as a user writes it; `tiers` omitted = Knock's real tiers. */
function writeConfig(dir: string, tiers: 'off' | 'knock', format: 'csv' | 'parquet' = 'csv'): void {
  writeFileSync(
    join(dir, 'sync.yaml'),
    [
      'name: bench-users',
      `source: { type: duckdb, tables: { users: ./users.${format} } }`,
      'model: select * from users',
      'key: id',
      `destination: { type: knock${tiers === 'off' ? ', tiers: off' : ''} }`,
      'sync:',
      '  type: users',
      '  mode: upsert',
      `  fields: { ${Object.entries(FIELDS)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')} }`,
      '  onDelete: nothing',
      '',
    ].join('\n'),
  );
}

// ---------------------------------------------------------------- processes

interface Usage {
  maxRssKb: number;
  userUs: number;
  systemUs: number;
}
/** CPU ms of the main (JavaScript) thread and of all other threads (DuckDB's workers, libuv's pool, GC helpers). */
interface ThreadCpu {
  at: number;
  mainMs: number;
  otherMs: number;
}
interface Exited {
  /** /proc samples every 500 ms while it ran. */
  cpuSamples: ThreadCpu[];
  code: number | null;
  signal: NodeJS.Signals | null;
  wallMs: number;
  usage: Usage | undefined;
  stderrTail: string;
}

const root = mkdtempSync(join(tmpdir(), 'syncline-bench-run-'));
/** The CLI as users run it (built; see `ensureBuilt`), or its source with `--source`. */
const BIN = args.source ? join(REPO, 'packages', 'cli', 'src', 'bin.ts') : join(REPO, 'packages', 'cli', 'bin', 'syncline.js');
const LOADER = args.source ? ['--conditions=@syncline/source', '--import', TSX] : [];

/** Builds the CLI and the packages it uses (turbo's cache makes this a no-op when nothing changed). */
function ensureBuilt(): void {
  if (args.source) return;
  const t0 = performance.now();
  const r = spawnSync(
    join(REPO, 'node_modules', '.bin', 'turbo'),
    ['run', 'build', '--filter=@syncline/cli...', '--output-logs=errors-only'],
    {
      cwd: REPO,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`building the CLI failed (exit ${r.status}): ${r.stdout}${r.stderr}`);
  console.log(`built CLI (turbo, cached when unchanged) in ${s(performance.now() - t0)}: measuring packages/cli/bin/syncline.js`);
}

const deadline = Date.now() + Number(args['max-minutes']) * 60_000;
const live = new Set<ReturnType<typeof spawn>>();
let usageFiles = 0;

/**
 * Starts a process with its peak RSS / CPU written at exit; each stdout line goes to `onLine`. At the
 * `--max-minutes` deadline it gets SIGINT (a run stops cleanly and commits), then SIGKILL 30 s later.
 */
function start(
  argv: string[],
  opts: {
    cwd: string;
    env?: NodeJS.ProcessEnv;
    onLine?: (line: string) => void;
    /** Not stopped at the deadline (a read-back). */ anyTime?: boolean;
    /** argv[0] is a TypeScript file (the SDK script): loaded through tsx whatever `--source` says. */
    typescript?: boolean;
  },
) {
  const usageFile = join(root, `usage-${++usageFiles}.json`);
  const t0 = performance.now();
  const loader = opts.typescript ? ['--conditions=@syncline/source', '--import', TSX] : LOADER;
  const child = spawn(process.execPath, [...loader, '--import', USAGE, ...argv], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env, BENCH_USAGE_FILE: usageFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let stderrTail = '';
  child.stderr.on('data', (d: Buffer) => (stderrTail = (stderrTail + d.toString()).slice(-4000)));
  createInterface({ input: child.stdout }).on('line', (line) => opts.onLine?.(line));
  const stopAt = setTimeout(
    () => {
      process.stderr.write(`--max-minutes reached: stopping ${argv.slice(0, 2).join(' ')}\n`);
      child.kill('SIGINT');
      setTimeout(() => child.kill('SIGKILL'), 30_000).unref();
    },
    opts.anyTime ? 2 ** 31 - 1 : Math.max(0, deadline - Date.now()),
  );
  stopAt.unref();
  const cpuSamples: ThreadCpu[] = [];
  const tick = 1000 / 100; // ms per clock tick (USER_HZ is 100 on Linux)
  const sampler = setInterval(() => {
    try {
      const at = Date.now();
      let mainMs = 0;
      let otherMs = 0;
      for (const tid of readdirSync(`/proc/${child.pid}/task`)) {
        // Fields after the command name: state is 3rd, utime 14th, stime 15th of the whole line.
        const stat = readFileSync(`/proc/${child.pid}/task/${tid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const ms = (Number(f[11]) + Number(f[12])) * tick;
        if (tid === String(child.pid)) mainMs += ms;
        else otherMs += ms;
      }
      cpuSamples.push({ at, mainMs, otherMs });
    } catch {
      // The process (or a thread) ended between the listing and the read.
    }
  }, 500);
  const exited = new Promise<Exited>((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(stopAt);
      clearInterval(sampler);
      live.delete(child);
      const usage = existsSync(usageFile) ? (JSON.parse(readFileSync(usageFile, 'utf8')) as Usage) : undefined;
      resolve({ cpuSamples, code, signal, wallMs: performance.now() - t0, usage, stderrTail });
    });
  });
  return { child, exited };
}

interface Emulator {
  url: string;
  stop(): Promise<Exited>;
}
const emulators = new Map<boolean, Promise<Emulator>>();

/** `syncline emulator --port 0 [--no-rate-limits]` in its own process, started once per kind. */
function emulator(rateLimits: boolean): Promise<Emulator> {
  let e = emulators.get(rateLimits);
  if (!e) {
    e = new Promise<Emulator>((resolve, reject) => {
      const p = start([BIN, 'emulator', '--port', '0', ...(rateLimits ? [] : ['--no-rate-limits'])], {
        cwd: root,
        onLine: (line) => {
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
          if (m) resolve({ url: m[1]!, stop: () => (p.child.kill('SIGINT'), p.exited) });
        },
      });
      void p.exited.then((x) => reject(new Error(`the emulator exited before listening: ${x.stderrTail}`)));
    });
    emulators.set(rateLimits, e);
  }
  return e;
}

// ---------------------------------------------------------------- one `syncline run`

interface RunFigures {
  exited: Exited;
  summary: { runId: string; status: string; rows: Record<string, number>; requests: number; error?: { message: string } };
  phases: { name: string; ms: number }[];
  /** [ms since epoch, rows done] from the progress events. */
  progress: [number, number][];
  sendStart: number;
  sendEnd: number;
  calls: Record<string, number>;
  status429: number;
  /** `performance.now()` when SIGINT was sent (scenario 5). */
  interruptedAt?: number;
  /** `performance.now()` at the exit. */
  exitedAt?: number;
}

/** The kind of call a request event was, for the request counts. */
function callKind(method: string, path: string): string {
  if (path.includes('/bulk_operations/')) return 'bulk polls';
  if (path.includes('/bulk/')) return 'bulk jobs';
  return `${method} single`;
}

async function syncRun(dir: string, url: string, opts: { interruptAt?: number } = {}): Promise<RunFigures> {
  const f: Omit<RunFigures, 'exited' | 'phases'> = { summary: undefined!, progress: [], sendStart: 0, sendEnd: 0, calls: {}, status429: 0 };
  const env = { KNOCK_BASE_URL: url, KNOCK_API_KEY: API_KEY };
  const p = start([BIN, 'run', 'sync.yaml', '--json'], {
    cwd: dir,
    env,
    onLine: (line) => {
      const e = JSON.parse(line) as Record<string, unknown>;
      const at = Date.parse(String(e['@timestamp']));
      if (e.type === 'progress') {
        f.progress.push([at, Number(e.done)]);
        // Ctrl-C as a user presses it, once `interruptAt` rows are done (scenario 5).
        if (opts.interruptAt !== undefined && f.interruptedAt === undefined && Number(e.done) >= opts.interruptAt) {
          f.interruptedAt = performance.now();
          p.child.kill('SIGINT');
        }
      } else if (e.type === 'request') {
        const kind = callKind(String(e.method), String(e.path));
        f.calls[kind] = (f.calls[kind] ?? 0) + 1;
        if (e.status === 429) f.status429 += 1;
      } else if (e.type === 'phase' && e.name === 'send') {
        if (e.status === 'start') f.sendStart = at;
        else f.sendEnd = at;
      } else if ('runId' in e) f.summary = e as unknown as RunFigures['summary'];
    },
  });
  const exited = await p.exited;
  // Kept folders keep the run's progress samples ([epoch ms, rows done]) and send phase for a look afterwards.
  if (args.keep)
    writeFileSync(join(dir, 'progress.json'), JSON.stringify({ sendStart: f.sendStart, sendEnd: f.sendEnd, progress: f.progress }));
  f.exitedAt = performance.now();
  if (!f.summary) throw new Error(`syncline run ended without a summary (exit ${exited.code ?? exited.signal}): ${exited.stderrTail}`);
  // The run record keeps the phases, `commit` (time in ledger writes) included.
  let runs = '';
  // Never stopped by --max-minutes: a run stopped at the deadline still reports its phases.
  await start([BIN, 'runs', 'sync.yaml', '--json'], { cwd: dir, env, anyTime: true, onLine: (l) => (runs += l) }).exited;
  const record = (JSON.parse(runs) as { runId: string; phases: { name: string; ms: number }[] }[]).find((r) => r.runId === f.summary.runId);
  return { ...f, exited, phases: record?.phases ?? [] };
}

/** Rows/s over the first and the last `windowMs` of the send phase, from the progress samples. */
function edgeRates(r: RunFigures, windowMs: number): { first: number; last: number } {
  const doneAt = (t: number): number => {
    let done = 0;
    for (const [at, d] of r.progress) if (at <= t) done = Math.max(done, d);
    return done;
  };
  const end = doneAt(r.sendEnd);
  return {
    first: (doneAt(r.sendStart + windowMs) / windowMs) * 1000,
    last: ((end - doneAt(r.sendEnd - windowMs)) / windowMs) * 1000,
  };
}

/** CPU of the main thread and of the other threads between two times (nearest /proc samples inside them). */
function threadCpu(r: RunFigures, from: number, to: number): { mainMs: number; otherMs: number; ms: number } {
  const inside = r.exited.cpuSamples.filter((x) => x.at >= from && x.at <= to);
  const a = inside[0];
  const b = inside[inside.length - 1];
  if (!a || !b || a === b) return { mainMs: NaN, otherMs: NaN, ms: NaN };
  return { mainMs: b.mainMs - a.mainMs, otherMs: b.otherMs - a.otherMs, ms: b.at - a.at };
}

// ---------------------------------------------------------------- output

const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const s = (ms: number): string => `${fmt(ms / 1000, 1)} s`;
const mb = (u: Usage | undefined): string => (u ? `${fmt(u.maxRssKb / 1024)} MB` : '—');
const cpu = (u: Usage | undefined): number => (u ? (u.userUs + u.systemUs) / 1000 : NaN);
const pct = (x: number): string => `${fmt(x * 100, 1)} %`;
const phaseText = (r: RunFigures): string => r.phases.map((p) => `${p.name} ${s(p.ms)}`).join(' · ');
const callText = (r: RunFigures): string =>
  Object.entries(r.calls)
    .map(([k, v]) => `${k} ×${fmt(v)}`)
    .join(', ');
const figures: Record<string, unknown> = {};
const rounds = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };
function report(r: RunFigures, rows: number): void {
  const sendMs = r.sendEnd - r.sendStart;
  console.log(`  exit ${r.exited.code ?? r.exited.signal}, status ${r.summary.status}, rows ${JSON.stringify(r.summary.rows)}`);
  console.log(
    `  whole process ${s(r.exited.wallMs)} = ${fmt((rows / r.exited.wallMs) * 1000)} rows/s · send phase ${s(sendMs)} = ${fmt((rows / sendMs) * 1000)} rows/s`,
  );
  console.log(`  phases: ${phaseText(r)}`);
  console.log(`  requests ${fmt(r.summary.requests)}: ${callText(r)}; 429s ${r.status429}`);
  console.log(`  peak RSS ${mb(r.exited.usage)} · CPU ${s(cpu(r.exited.usage))} (user + system, all threads)`);
  const t = threadCpu(r, r.sendStart, r.sendEnd);
  console.log(
    `  during the send (${s(t.ms)} sampled): main thread ${s(t.mainMs)} CPU (${pct(t.mainMs / t.ms)} of a core), other threads (DuckDB, libuv pool, GC helpers) ${s(t.otherMs)} (${pct(t.otherMs / t.ms)} of a core)`,
  );
  if (r.summary.error) console.log(`  error: ${r.summary.error.message}`);
}

// ---------------------------------------------------------------- scenarios

const defaults = { 1: 1_000_000, 2: 1_000_000, 3: 10_000_000, 4: 1_000_000, 5: 1_000_000 } as const;
const rowsOf = (k: 1 | 2 | 3 | 4 | 5): number => {
  const text = args[`rows${k}`] ?? args.rows;
  return text === undefined ? defaults[k] : size(text, args[`rows${k}`] ? `rows${k}` : 'rows');
};

/** A folder holding a first-synced ledger of n rows (tiers off), by size; scenario 2 leaves one. */
const synced = new Map<number, string>();

async function firstSyncTiersOff(n: number): Promise<RunFigures> {
  const dir = mkdtempSync(join(root, `first-${n}-`));
  console.log(`  CSV of ${fmt(n)} rows written in ${s(await writeCsv(dir, n, 0))}`);
  writeConfig(dir, 'off');
  const r = await syncRun(dir, (await emulator(false)).url);
  if (r.summary.status === 'succeeded') synced.set(n, dir);
  return r;
}

/**
 * A first-synced folder of n rows written by SQL (`--seed sql`): the model staged through the config's own
 * source on the ledger's connection, each row's payload and salted hash computed with the engine's own
 * projection and hash, and the config's hash recorded, so the next run diffs as after a real first sync.
 */
async function seedBySql(n: number): Promise<void> {
  const dir = mkdtempSync(join(root, `seeded-${n}-`));
  console.log(`  setup: CSV of ${fmt(n)} rows written in ${s(await writeCsv(dir, n, 0))}`);
  writeConfig(dir, 'off');
  const t0 = performance.now();
  const config = loadConfig(join(dir, 'sync.yaml'));
  const ledger = await openDuckdbLedger({ path: config.ledgerPath });
  try {
    await openSource(config).attach!(ledger.connection);
    const columns = await ledger.describe(config.spec.model);
    // Salted as runSync salts it: with the destination's defaults filled into the target.
    const salt = configHash(config.spec, knockDestination({ apiKey: API_KEY, baseUrl: 'http://127.0.0.1:9' }));
    // With each row's fingerprint, as a run writes it (see row-fingerprint.ts).
    await ledger.connection
      .run(`INSERT INTO snapshot (k, h, payload, run_id, synced_at, f) SELECT k, ${ledger.rowHash(`(${literal(salt)} || payload)`)}, payload, 'r_seed', now(), f
      FROM (SELECT CAST(${config.spec.key} AS VARCHAR) AS k, ${payloadProjection(config.spec.fields, columns)} AS payload,
                   ${ledger.fingerprintSql(config.spec.fields, columns, salt)} AS f FROM (${config.spec.model}))`);
    await ledger.setMeta('config_hash', salt);
    await ledger.connection.run('CHECKPOINT');
  } finally {
    await ledger.close();
  }
  console.log(`  setup: snapshot of ${fmt(n)} rows written by SQL in ${s(performance.now() - t0)}`);
  synced.set(n, dir);
}

/** A copy of a first-synced folder of n rows, with `churnPct` % of its rows changed in the CSV. */
async function churned(n: number, churnPct: number, tiers: 'off' | 'knock'): Promise<string> {
  if (!synced.has(n) && args.seeded) {
    if (!existsSync(join(args.seeded, '.syncline')))
      throw new Error(`--seeded ${args.seeded}: no .syncline folder there (keep one with --keep; use its seeded-N-… folder)`);
    synced.set(n, args.seeded);
  }
  if (!synced.has(n) && args.seed === 'sql') await seedBySql(n);
  if (!synced.has(n)) {
    console.log(`  setup: first sync of ${fmt(n)} rows, tiers off`);
    const r = await firstSyncTiersOff(n);
    console.log(`  setup done in ${s(r.exited.wallMs)} (${r.summary.status}); peak RSS ${mb(r.exited.usage)}`);
    if (!synced.has(n))
      throw new Error(`the setup's first sync of ${n} rows did not succeed: ${r.summary.error?.message ?? r.summary.status}`);
  }
  const dir = mkdtempSync(join(root, `churn-${n}-`));
  const from = synced.get(n)!;
  cpSync(join(from, '.syncline'), join(dir, '.syncline'), { recursive: true });
  // A kept seed keeps its churned model too (written once, ~12 s at 10M): a link, not a copy.
  const cached = join(from, `users-churn${churnPct}.${FORMAT}`);
  if (args.seeded && existsSync(cached)) console.log(`  model with ${churnPct} % changed: ${cached} (kept)`);
  else {
    const t = await writeCsv(dir, n, churnPct, FORMAT);
    if (from === args.seeded) renameSync(join(dir, `users.${FORMAT}`), cached);
    console.log(`  ${FORMAT} with ${churnPct} % changed written in ${s(t)}`);
  }
  if (existsSync(cached)) symlinkSync(cached, join(dir, `users.${FORMAT}`));
  writeConfig(dir, tiers, FORMAT);
  return dir;
}

async function scenario1(n: number): Promise<void> {
  console.log(`\n1. first sync of ${fmt(n)} users, Knock's real tiers (emulator with rate limits)`);
  const dir = mkdtempSync(join(root, 'tiers-'));
  console.log(`  CSV of ${fmt(n)} rows written in ${s(await writeCsv(dir, n, 0))}`);
  writeConfig(dir, 'knock');
  const r = await syncRun(dir, (await emulator(true)).url);
  report(r, n);
  // The ceiling the tiers allow for n upserts: the destination's own split of bulk jobs (tier 1) and single
  // identifies (tier 3), with Knock's default tiers and the destination's default bulk latency.
  const o = parseKnockOptions({ apiKey: API_KEY });
  const split = chooseSplit(n, splitRates({ tiers: o.tiers, singleOnlySeconds: o.bulk.singleOnlySeconds }, 'users', 'upsert'));
  const ceiling = n / split.seconds;
  const whole = (n / r.exited.wallMs) * 1000;
  const send = (n / (r.sendEnd - r.sendStart)) * 1000;
  const windowMs = Math.min(60_000, (r.sendEnd - r.sendStart) / 2);
  const edge = edgeRates(r, windowMs);
  console.log(
    `  tier ceiling ${fmt(ceiling, 1)} rows/s (${fmt(split.bulkCalls)} bulk jobs at ${o.tiers[1]}/s + ${fmt(split.singles)} singles at ${o.tiers[3]}/s in ${s(split.seconds * 1000)})`,
  );
  console.log(`  whole process ${pct(whole / ceiling)} of the ceiling (target ≥ 95 %) · send phase ${pct(send / ceiling)}`);
  console.log(
    `  last ${s(windowMs)} of the send ${fmt(edge.last)} rows/s vs first ${fmt(edge.first)} rows/s = ${pct(edge.last / edge.first)} (target ≥ 95 %)`,
  );
  figures[`1.${++rounds[1]}`] = {
    n,
    wallMs: r.exited.wallMs,
    phases: r.phases,
    calls: r.calls,
    status429: r.status429,
    usage: r.exited.usage,
    ceiling,
    whole,
    send,
    edge,
    windowMs,
  };
}

async function scenario2(n: number): Promise<void> {
  console.log(`\n2. first sync of ${fmt(n)} users, tiers: off (emulator --no-rate-limits)`);
  const r = await firstSyncTiersOff(n);
  report(r, n);
  const commit = r.phases.find((p) => p.name === 'commit')?.ms ?? NaN;
  const edge = edgeRates(r, Math.min(60_000, (r.sendEnd - r.sendStart) / 2));
  console.log(
    `  ledger writes (run record 'commit': wall time inside ledger writes, one at a time, overlapping the sending) ${s(commit)} = ${pct(commit / (r.sendEnd - r.sendStart))} of the send phase, ${pct(commit / r.exited.wallMs)} of the whole run`,
  );
  console.log(
    `  send rate, first vs last ${s(Math.min(60_000, (r.sendEnd - r.sendStart) / 2))}: ${fmt(edge.first)} → ${fmt(edge.last)} rows/s`,
  );
  figures[`2.${++rounds[2]}`] = {
    n,
    wallMs: r.exited.wallMs,
    phases: r.phases,
    calls: r.calls,
    usage: r.exited.usage,
    commit,
    edge,
    sendCpu: threadCpu(r, r.sendStart, r.sendEnd),
  };
}

async function scenario3(n: number): Promise<void> {
  console.log(`\n3. ${fmt(n)} rows, 2 % changed, tiers: off (emulator --no-rate-limits), model in ${FORMAT}`);
  const dir = await churned(n, 2, 'off');
  const r = await syncRun(dir, (await emulator(false)).url);
  report(r, r.summary.rows['synced'] ?? 0);
  console.log(
    `  end to end ${s(r.exited.wallMs)} (target ≤ 10 s: ${r.exited.wallMs <= 10_000 ? 'met' : `${s(r.exited.wallMs - 10_000)} over`})`,
  );
  figures[`3.${++rounds[3]}`] = {
    n,
    format: FORMAT,
    wallMs: r.exited.wallMs,
    phases: r.phases,
    calls: r.calls,
    usage: r.exited.usage,
    rows: r.summary.rows,
  };
}

async function scenario4(n: number): Promise<void> {
  console.log(`\n4. 1 % rerun of ${fmt(n)} users, Knock's real tiers (emulator with rate limits)`);
  const dir = await churned(n, 1, 'knock');
  const r = await syncRun(dir, (await emulator(true)).url);
  report(r, r.summary.rows['synced'] ?? 0);
  // The plain script: every row again, bulk identify 1,000 at a time, then wait for the jobs.
  let out = '';
  const sdk = await start(
    [join(import.meta.dirname, 'run.ts'), '--sdk-child', join(dir, 'users.csv'), '--url', (await emulator(false)).url],
    {
      cwd: dir,
      typescript: true,
      onLine: (l) => (out = l),
    },
  ).exited;
  const plain = JSON.parse(out || '{}') as { posts?: number; polls?: number; rows?: number; sendMs?: number };
  const jobs = Math.ceil(n / MAX_BATCH);
  console.log(
    `  plain @knocklabs/node resend of every row: ${fmt(plain.rows ?? NaN)} rows in ${fmt(plain.posts ?? NaN)} bulk jobs (⌈N/1,000⌉ = ${fmt(jobs)}) + ${fmt(plain.polls ?? NaN)} polls; ${s(plain.sendMs ?? NaN)} without rate limits, ≥ ${fmt(jobs - 1)} s at Knock's 1 bulk request/s; process peak RSS ${mb(sdk.usage)}`,
  );
  console.log(
    `  Syncline sent ${fmt(r.summary.rows['synced'] ?? 0)} rows in ${fmt(r.summary.requests)} requests = ${pct((r.summary.rows['synced'] ?? 0) / (plain.rows ?? NaN))} of the rows, ${pct(r.summary.requests / ((plain.posts ?? NaN) + (plain.polls ?? 0)))} of the requests`,
  );
  figures[`4.${++rounds[4]}`] = {
    n,
    wallMs: r.exited.wallMs,
    phases: r.phases,
    calls: r.calls,
    usage: r.exited.usage,
    rows: r.summary.rows,
    requests: r.summary.requests,
    plain,
    sdkUsage: sdk.usage,
  };
}

async function scenario5(n: number): Promise<void> {
  console.log(`\n5. Ctrl-C of a first sync of ${fmt(n)} users once half are confirmed, tiers: off; then the resumed run`);
  const dir = mkdtempSync(join(root, `stop-${n}-`));
  console.log(`  CSV of ${fmt(n)} rows written in ${s(await writeCsv(dir, n, 0))}`);
  writeConfig(dir, 'off');
  const url = (await emulator(false)).url;
  const stopped = await syncRun(dir, url, { interruptAt: Math.floor(n / 2) });
  const stopMs = stopped.exitedAt! - stopped.interruptedAt!;
  console.log(
    `  stopped: exit ${stopped.exited.code ?? stopped.exited.signal}, status ${stopped.summary.status}, rows ${JSON.stringify(stopped.summary.rows)}`,
  );
  console.log(
    `  SIGINT → exit ${s(stopMs)} (ux.md: calls in flight get at most 10 s, then the process ends) · whole process ${s(stopped.exited.wallMs)} · peak RSS ${mb(stopped.exited.usage)}`,
  );
  const resumed = await syncRun(dir, url);
  const synced = (stopped.summary.rows['synced'] ?? 0) + (resumed.summary.rows['synced'] ?? 0);
  console.log(
    `  resumed: exit ${resumed.exited.code ?? resumed.exited.signal}, status ${resumed.summary.status}, ${fmt(resumed.summary.rows['synced'] ?? 0)} rows in ${s(resumed.exited.wallMs)} (phases: ${phaseText(resumed)}); rows confirmed over both runs ${fmt(synced)} of ${fmt(n)} (a key left in doubt by the stop is sent again but confirmed once: the sum is n when nothing is lost or confirmed twice)`,
  );
  figures[`5.${++rounds[5]}`] = {
    n,
    stopMs,
    stoppedWallMs: stopped.exited.wallMs,
    stoppedRows: stopped.summary.rows,
    stoppedPhases: stopped.phases,
    resumedWallMs: resumed.exited.wallMs,
    resumedRows: resumed.summary.rows,
    resumedPhases: resumed.phases,
    usage: [stopped.exited.usage, resumed.exited.usage],
  };
}

/** Scenario 4's baseline, in its own process: what a user without Syncline writes with Knock's SDK. */
async function sdkChild(csv: string, url: string): Promise<void> {
  const db = await DuckDBInstance.create(':memory:', { threads: '2' });
  const c = await db.connect();
  const reader = await c.runAndReadAll(`SELECT * FROM read_csv(${literal(csv)}, all_varchar = true) ORDER BY id`);
  const rows = reader.getRowObjectsJS() as Record<string, string>[];
  c.closeSync();
  db.closeSync();
  const knock = new Knock({ apiKey: API_KEY, baseURL: url, maxRetries: 5 });
  const t0 = performance.now();
  const ids: string[] = [];
  let posts = 0;
  let polls = 0;
  for (let i = 0; i < rows.length; i += MAX_BATCH) {
    const users = rows.slice(i, i + MAX_BATCH).map((r) => ({
      id: r.id!,
      ...Object.fromEntries(Object.entries(FIELDS).map(([to, from]) => [to, r[from]])),
    }));
    posts += 1;
    ids.push((await knock.users.bulk.identify({ users })).id);
  }
  for (const id of ids) {
    for (;;) {
      polls += 1;
      const op = await knock.bulkOperations.get(id);
      if (op.status === 'completed' || op.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  process.stdout.write(JSON.stringify({ posts, polls, rows: rows.length, sendMs: performance.now() - t0 }) + '\n');
}

// ---------------------------------------------------------------- main

if (args['sdk-child']) {
  // The child needs no temp folder of its own (the module made one on load).
  rmSync(root, { recursive: true, force: true });
  await sdkChild(args['sdk-child'], args.url!);
} else {
  const chosen = new Set(args.scenarios.split(',').map((x) => x.trim()));
  for (const k of chosen)
    if (!['1', '2', '3', '4', '5'].includes(k)) throw new Error(`--scenarios ${args.scenarios}: expected a list of 1, 2, 3, 4, 5`);
  const cleanup = (): void => {
    for (const child of live) child.kill('SIGKILL');
    if (!args.keep) rmSync(root, { recursive: true, force: true });
  };
  process.once('SIGINT', () => (cleanup(), process.exit(130)));
  console.log(
    `syncline run bench · Node ${process.version} · ${new Date().toISOString()} · temp ${root} · --max-minutes ${args['max-minutes']}`,
  );
  try {
    ensureBuilt();
    // What every whole-process figure includes before any work: Node loading the CLI (built, or from source
    // through tsx with --source).
    const startups: number[] = [];
    for (let i = 0; i < 3; i++) startups.push((await start([BIN, '--version'], { cwd: root }).exited).wallMs);
    console.log(`process start-up (\`syncline --version\`, 3×): ${startups.map((x) => s(x)).join(', ')}`);
    figures['startupMs'] = startups;
    for (let round = 1; round <= Number(args.repeat); round++) {
      if (Number(args.repeat) > 1) console.log(`\n--- round ${round}`);
      if (chosen.has('1')) await scenario1(rowsOf(1));
      if (chosen.has('2')) await scenario2(rowsOf(2));
      if (chosen.has('3')) await scenario3(rowsOf(3));
      if (chosen.has('4')) await scenario4(rowsOf(4));
      if (chosen.has('5')) await scenario5(rowsOf(5));
    }
    for (const [limited, e] of emulators) {
      const x = await (await e).stop();
      console.log(`\nemulator${limited ? '' : ' --no-rate-limits'}: CPU ${s(cpu(x.usage))} over ${s(x.wallMs)}, peak RSS ${mb(x.usage)}`);
    }
    console.log(`\n${JSON.stringify(figures)}`);
  } finally {
    cleanup();
  }
}
