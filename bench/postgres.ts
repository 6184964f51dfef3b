/**
 * Postgres benchmark (issue 15): a `users` table in a throwaway real PostgreSQL cluster (initdb + pg_ctl, as
 * the tests start it), with 1 % of its rows changed after a first sync, planned three ways. Each measurement
 * runs in its own child process, so its peak RSS is its own:
 * - floor: Postgres alone scanning the model and md5-hashing every row's text once (`pg` client, one row out),
 *   with the server's parallel settings (the plans run with the same ones); `floor-serial` the same on one
 *   backend; `floor-payload` builds each row's payload (the mapping's SQL) and md5s it instead of the row's
 *   text: the least work any diff of this mapping does;
 * - warehouse plan: the warehouse ledger (`openPostgresLedger`): payloads, md5s and the diff inside Postgres;
 *   only changed rows stream out (counted: rows and characters);
 * - local plan: the model streamed through the cursor into a DuckDB ledger file, staged and diffed there
 *   (every model row leaves Postgres);
 * - warehouse plan without fingerprints: the same on a copy of the snapshot without its row fingerprints (a
 *   ledger made before them: the diff builds every row's payload and md5 to compare);
 * - warehouse run: the same 1 % sent to a destination that confirms everything, committed in Postgres.
 * Both ledgers start from the snapshot a first sync leaves (every row confirmed), written by SQL instead of a
 * first run (a first run sends every row: minutes per million rows on the commit path, not what is measured
 * here): the warehouse snapshot by the ledger's own payload SQL, the DuckDB one from the same payload texts
 * (equal in both engines for these column types, so each row hashes the same). `--first` also measures a
 * local-ledger first run.
 * Bytes leaving Postgres: each child process counts the bytes its sockets receive (all of them come from
 * Postgres: the destination is in-process), and the cluster runs `pg_stat_statements`, whose rows per
 * statement are printed for the last warehouse and local plan (PostgreSQL 15's view has no byte counts).
 * `--first-warehouse` instead measures a first sync in warehouse mode as users run it: `syncline emulator
 * --no-rate-limits` and `syncline run sync.yaml --json` (source postgres, ledger warehouse, tiers off) in
 * their own processes; wall time, rows/s and the run's peak RSS (bench/_exit-usage.mjs).
 * Run: npm run bench -- postgres [--sizes 1m,5m] [--batch 10000] [--repeat 2] [--first] [--plans warehouse,local] [--first-warehouse]
 */
import { Socket } from 'node:net';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { z } from 'zod';
import { configHash, openDuckdbLedger, runSync, syncSpecFieldsSchema, toSyncSpec, type Destination, type Operation } from '@syncline/core';
import { modelRowSql, openPostgresLedger, payloadSql, postgresSource } from '@syncline/source-postgres';
import { queryRows, realPostgres, runSql, startPostgres } from '@syncline/test-utils/postgres-server';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1m,5m' },
    batch: { type: 'string', default: '10000' },
    repeat: { type: 'string', default: '2' },
    first: { type: 'boolean', default: false },
    /** Only a first sync in warehouse mode through the real CLI against `syncline emulator --no-rate-limits`. */
    'first-warehouse': { type: 'boolean', default: false },
    phase: { type: 'string' },
    url: { type: 'string' },
    ledger: { type: 'string' },
    plans: { type: 'string', default: 'warehouse,local' },
  },
});

/** Bytes received on this process's sockets (in a phase's child process: only its Postgres connections). */
let wireBytes = 0;
const emit = Socket.prototype.emit;
Socket.prototype.emit = function (this: Socket, event: string | symbol, ...a: unknown[]): boolean {
  if (event === 'data') wireBytes += (a[0] as Buffer).length;
  return emit.apply(this, [event, ...a] as Parameters<typeof emit>);
} as typeof Socket.prototype.emit;
const MODEL = 'select id, email, name, plan, created_at, ltv from users';
const spec = toSyncSpec(
  syncSpecFieldsSchema.parse({
    name: 'bench-pg',
    model: MODEL,
    key: 'id',
    sync: {
      type: 'users',
      mode: 'upsert',
      fields: { email: 'email', name: 'name', plan: 'plan', created_at: 'created_at', ltv: 'ltv' },
      onDelete: 'nothing',
    },
  }),
);

/** Confirms every row and keeps nothing: the run's memory is the engine's, not a store's. */
const sink = (): Destination => {
  let n = 0;
  return {
    name: 'sink',
    targetSchema: z.looseObject({}),
    fields: () => [],
    validate: () => [],
    plan(changes, { target }) {
      const send = changes.filter((c) => c.action !== 'remove' || target.onDelete === 'delete');
      const operations: Operation[] = [];
      for (let i = 0; i < send.length; i += 1000) operations.push({ id: `s${++n}`, endpoint: 'sink', changes: send.slice(i, i + 1000) });
      return { operations, skipped: changes.filter((c) => !send.includes(c)) };
    },
    apply: async (op) => ({ ok: op.changes.map((c) => c.key), failed: [], requests: 1 }),
  };
};

const SCHEMA = 'syncline_bench';
/** The same snapshot without fingerprints (as a ledger made before them): the diff compares payload hashes. */
const SCHEMA_NOFP = 'syncline_bench_nofp';
const warehouse = (url: string, schema = SCHEMA, create = true) =>
  openPostgresLedger({ url, sync: spec.name, schema, batchSize: Number(args.batch), create });

async function phase(name: string, url: string, ledgerPath: string): Promise<Record<string, unknown>> {
  let t0 = performance.now();
  if (name === 'floor-payload') {
    const ledger = await warehouse(url);
    const payload = payloadSql(spec.fields, await ledger.describe(MODEL));
    await ledger.close();
    t0 = performance.now();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`SET TimeZone = 'UTC'`);
    const r = await c.query(
      `SELECT count(md5('${configHash(spec)}' || payload)) AS n FROM (SELECT ${payload} AS payload FROM (${MODEL}) AS model) AS m`,
    );
    await c.end();
    return { ms: performance.now() - t0, rows: Number(r.rows[0].n) };
  }
  if (name === 'floor' || name === 'floor-serial') {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    // The serial floor: one backend, as the diff statement runs (it writes a temporary table, so Postgres
    // plans it without parallel workers); the plain floor may use parallel workers.
    if (name === 'floor-serial') await c.query('SET max_parallel_workers_per_gather = 0');
    const r = await c.query(`SELECT count(md5(m::text)) AS n FROM (${MODEL}) AS m`);
    await c.end();
    return { ms: performance.now() - t0, rows: Number(r.rows[0].n) };
  }
  if (name === 'wh-seed') {
    // The snapshot a first sync leaves: every row confirmed, its payload and md5 built by the ledger's own SQL.
    // With the row fingerprints a run stores; a copy without them in a second schema.
    const ledger = await warehouse(url);
    const columns = await ledger.describe(MODEL);
    await ledger.setMeta('config_hash', configHash(spec));
    await ledger.close();
    const noFp = await warehouse(url, SCHEMA_NOFP);
    await noFp.setMeta('config_hash', configHash(spec));
    await noFp.close();
    const row = modelRowSql(spec.key, spec.fields, columns, configHash(spec));
    await runSql(
      url,
      `SET TimeZone = 'UTC'; SET extra_float_digits = 1;
       DELETE FROM ${SCHEMA}.snapshot WHERE sync = '${spec.name}';
       INSERT INTO ${SCHEMA}.snapshot (sync, k, h, payload, run_id, synced_at, f)
       SELECT '${spec.name}', syncline_k, md5('${configHash(spec)}' || ${row.payload})::uuid, ${row.payload}, 'seed', now(), syncline_f
         FROM (SELECT ${row.select} FROM (${MODEL}) AS model) AS m;
       DELETE FROM ${SCHEMA_NOFP}.snapshot WHERE sync = '${spec.name}';
       INSERT INTO ${SCHEMA_NOFP}.snapshot SELECT sync, k, h, payload, run_id, synced_at, NULL FROM ${SCHEMA}.snapshot WHERE sync = '${spec.name}';`,
    );
    await runSql(url, `VACUUM ANALYZE ${SCHEMA}.snapshot`);
    await runSql(url, `VACUUM ANALYZE ${SCHEMA_NOFP}.snapshot`);
    return { ms: performance.now() - t0 };
  }
  if (name === 'local-seed') {
    // The same snapshot in a DuckDB ledger file: the payload texts streamed from the warehouse snapshot, hashed
    // by DuckDB (md5_number of the same text, so each row hashes as it would have when first synced).
    rmSync(ledgerPath, { force: true });
    rmSync(`${ledgerPath}.wal`, { force: true });
    const ledger = await openDuckdbLedger({ path: ledgerPath, memoryLimit: '1GB' });
    const conn = ledger.connection;
    await ledger.setMeta('config_hash', configHash(spec));
    await conn.run(`CREATE TEMP TABLE seed (k VARCHAR, payload VARCHAR)`);
    const appender = await conn.createAppender('seed', 'main', 'temp');
    const source = postgresSource({ url, batchSize: Number(args.batch) });
    for await (const batch of source.read(`SELECT k, payload FROM ${SCHEMA}.snapshot WHERE sync = '${spec.name}'`)) {
      for (const r of batch) {
        appender.appendVarchar(String(r.k));
        appender.appendVarchar(String(r.payload));
        appender.endRow();
      }
      appender.flushSync();
    }
    appender.closeSync();
    await source.close?.();
    await conn.run(
      `INSERT INTO snapshot (k, h, payload, run_id, synced_at) SELECT k, md5_number('${configHash(spec)}' || payload), payload, 'seed', now()::TIMESTAMP FROM temp.seed`,
    );
    await conn.run(`DROP TABLE temp.seed`);
    await ledger.close();
    return { ms: performance.now() - t0 };
  }
  const ledger =
    name === 'wh-nofp-plan'
      ? await warehouse(url, SCHEMA_NOFP, false)
      : name.startsWith('wh-')
        ? await warehouse(url)
        : await openDuckdbLedger({ path: ledgerPath, memoryLimit: '1GB' });
  const source = postgresSource({ url, batchSize: Number(args.batch) });
  try {
    const dryRun = name.endsWith('plan');
    const r = await runSync({ spec, source, destination: sink(), ledger, dryRun });
    if (r.error) throw new Error(r.error.message);
    const traffic = 'traffic' in ledger ? (ledger.traffic as { rows: number; chars: number }) : undefined;
    // Local mode: every model row is streamed out of Postgres.
    const streamed = traffic ?? { rows: r.rows.total, chars: null };
    return { ms: performance.now() - t0, rows: r.rows, phases: r.phases, streamed, wireBytes };
  } finally {
    await source.close?.();
    await ledger.close();
  }
}

if (args.phase) {
  const out = await phase(args.phase, args.url!, args.ledger!);
  process.stdout.write(JSON.stringify({ ...out, maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024) }) + '\n');
  process.exit(0);
}

const server = realPostgres();
if (server.skip) process.exit(1);
// auto_explain is preloaded but off (log_min_duration -1: no instrumentation) until `explainDiffs`.
const db = await startPostgres(server.bin, { shared_preload_libraries: 'pg_stat_statements,auto_explain' });
await runSql(db.url, 'CREATE EXTENSION pg_stat_statements');
/** The statements Postgres ran since the last reset, by time: calls and rows (processed or returned). */
const statements = async (): Promise<string> =>
  (
    await queryRows<{ calls: string; rows: string; ms: string; q: string }>(
      db.url,
      `SELECT calls, rows, round(total_exec_time) AS ms, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS q FROM pg_stat_statements
        WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC LIMIT 6`,
    )
  )
    .map((r) => `\n      ${r.ms} ms, ${r.calls} calls, ${Number(r.rows).toLocaleString('en')} rows: ${r.q}`)
    .join('');
/**
 * One more warehouse plan with and without fingerprints, under `auto_explain` (switched on for new sessions,
 * `log_analyze` on: it slows what it measures, so after the timed runs), and the diff statement's plan
 * nodes from the server's log: parallel workers, rows kept and where the time goes.
 */
async function explainDiffs(ledgerPath: string): Promise<string> {
  const set = async (sql: string): Promise<void> => void (await runSql(db.url, sql));
  await set(`ALTER SYSTEM SET auto_explain.log_min_duration = '500ms'`);
  await set(`ALTER SYSTEM SET auto_explain.log_analyze = on`);
  await set(`SELECT pg_reload_conf()`);
  const log = join(dirname((await queryRows<{ d: string }>(db.url, `SELECT current_setting('data_directory') AS d`))[0]!.d), 'log');
  const from = readFileSync(log, 'utf8').length;
  try {
    for (const name of ['wh-plan', 'wh-nofp-plan']) child(name, ledgerPath);
  } finally {
    await set(`ALTER SYSTEM RESET ALL`);
    await set(`SELECT pg_reload_conf()`);
  }
  const entries = readFileSync(log, 'utf8')
    .slice(from)
    .split(/\n(?=\S)/);
  const names = ['with fingerprints', 'without fingerprints'];
  return entries
    .filter((e) => e.includes('plan:') && e.includes('CREATE TEMP TABLE syncline_staged'))
    .map((e, i) => {
      const nodes = e
        .split('\n')
        .filter((l) => /actual|Workers|Buckets|Cond:|Filter:|Execution Time/.test(l))
        .map((l) => (l.length > 180 ? `${l.slice(0, 180)}…` : l));
      return `\n    ${names[i] ?? ''}:\n${nodes.join('\n')}`;
    })
    .join('');
}
const dir = join(import.meta.dirname, '.data', 'postgres');
mkdirSync(dir, { recursive: true });
const self = fileURLToPath(import.meta.url);
const child = (name: string, ledgerPath: string): Record<string, unknown> => {
  const r = spawnSync(
    process.execPath,
    [
      '--conditions=@syncline/source',
      '--import',
      'tsx',
      self,
      '--phase',
      name,
      '--url',
      db.url,
      '--ledger',
      ledgerPath,
      '--batch',
      args.batch!,
    ],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
};
const BIN = join(import.meta.dirname, '..', 'packages', 'cli', 'src', 'bin.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const USAGE = pathToFileURL(join(import.meta.dirname, '_exit-usage.mjs')).href;
/** `node bin.ts …args` from source with the exit-usage preload; resolves with its stdout lines and usage. */
const cli = (
  argv: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; onLine?: (line: string, child: ChildProcess) => void },
): {
  child: ChildProcess;
  done: Promise<{ lines: string[]; ms: number; usage: { maxRssKb: number } | undefined; code: number | null }>;
} => {
  const usageFile = join(opts.cwd, `usage-${Math.random().toString(36).slice(2)}.json`);
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--conditions=@syncline/source', '--import', TSX, '--import', USAGE, BIN, ...argv], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env, BENCH_USAGE_FILE: usageFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    opts.onLine?.(line, child);
  });
  const done = new Promise<{ lines: string[]; ms: number; usage: { maxRssKb: number } | undefined; code: number | null }>((resolve) =>
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) process.stderr.write(err);
      resolve({
        lines,
        ms: performance.now() - t0,
        usage: existsSync(usageFile) ? (JSON.parse(readFileSync(usageFile, 'utf8')) as { maxRssKb: number }) : undefined,
        code,
      });
    }),
  );
  return { child, done };
};

/** A first sync of the `users` table in warehouse mode through the real CLI, against the emulator without rate limits. */
async function firstWarehouseSync(size: string, n: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-pg-first-'));
  let emulator: ReturnType<typeof cli> | undefined;
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const e = cli(['emulator', '--port', '0', '--no-rate-limits'], {
        cwd: dir,
        onLine: (line) => {
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
          if (m) resolve(m[1]!);
        },
      });
      emulator = e;
      void e.done.then(() => reject(new Error('the emulator exited before listening')));
    });
    writeFileSync(
      join(dir, 'sync.yaml'),
      [
        'name: bench-pg-first',
        'source:',
        '  type: postgres',
        `  url: ${db.url}`,
        '  ledger: warehouse',
        '  schema: syncline_first',
        `model: ${MODEL}`,
        'key: id',
        'destination: { type: knock, tiers: off }',
        'sync:',
        '  type: users',
        '  mode: upsert',
        `  fields: ${JSON.stringify(spec.fields)}`,
        '',
      ].join('\n'),
    );
    await runSql(db.url, 'DROP SCHEMA IF EXISTS syncline_first CASCADE');
    const env = { KNOCK_BASE_URL: url, KNOCK_API_KEY: 'sk_test_bench_pg_first' };
    const load0 = loadavg()[0]!;
    const r = await cli(['run', 'sync.yaml', '--json'], { cwd: dir, env }).done;
    const summary = JSON.parse(r.lines.at(-1)!) as { runId: string; status: string; rows: Record<string, number>; requests: number };
    const runs = await cli(['runs', 'sync.yaml', '--json'], { cwd: dir, env }).done;
    const record = (JSON.parse(runs.lines.join('')) as { runId: string; phases: unknown }[]).find((x) => x.runId === summary.runId);
    console.log(
      `\n${size} rows: first sync in warehouse mode (syncline run, emulator --no-rate-limits, tiers off; load ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}):`,
    );
    console.log(
      `  ${summary.status}: ${(r.ms / 1000).toFixed(1)} s = ${Math.round(n / (r.ms / 1000)).toLocaleString('en')} rows/s, peak RSS ${Math.round((r.usage?.maxRssKb ?? 0) / 1024)} MB, ${summary.requests.toLocaleString('en')} requests; rows ${JSON.stringify(summary.rows)}`,
    );
    console.log(`  phases: ${JSON.stringify(record?.phases)}`);
  } finally {
    // The emulator writes its usage file as it exits: remove the folder after that.
    emulator?.child.kill('SIGINT');
    await emulator?.done;
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (x: Record<string, unknown>): string => `${(Number(x.ms) / 1000).toFixed(1)} s, peak RSS ${String(x.maxRssMB)} MB`;
const median = (xs: Record<string, unknown>[]): Record<string, unknown> =>
  [...xs].sort((a, b) => Number(a.ms) - Number(b.ms))[Math.floor((xs.length - 1) / 2)]!;
try {
  for (const size of args.sizes!.split(',')) {
    const n = Number(size.replace(/k$/i, '000').replace(/m$/i, '000000'));
    const t0 = performance.now();
    await runSql(
      db.url,
      `DROP TABLE IF EXISTS users; CREATE TABLE users AS
         SELECT 9000000000000000 + i AS id, 'user' || i || '@example.com' AS email, 'User ' || i AS name,
                (ARRAY['free','pro','team'])[1 + i % 3] AS plan,
                timestamptz '2020-01-01' + i * interval '17 seconds' AS created_at, round(i * 3.7, 2)::numeric AS ltv
           FROM generate_series(1, ${n}) AS i;
       ALTER TABLE users ADD PRIMARY KEY (id);`,
    );
    await runSql(db.url, 'VACUUM ANALYZE users');
    const ledgerPath = join(dir, `pg-${size}.duckdb`);
    rmSync(ledgerPath, { force: true });
    rmSync(`${ledgerPath}.wal`, { force: true });
    console.log(`\n${size} rows (batch ${args.batch}), table built in ${((performance.now() - t0) / 1000).toFixed(0)} s:`);
    if (args['first-warehouse']) {
      await firstWarehouseSync(size, n);
      continue;
    }
    if (args.first) {
      const first = child('run', ledgerPath);
      console.log(`  local-ledger first run (stream ${size} rows, all sent and committed): ${fmt(first)}`);
    }
    const plans = new Set(args.plans!.split(','));
    const seeded = [child('wh-seed', ledgerPath), ...(plans.has('local') ? [child('local-seed', ledgerPath)] : [])];
    console.log(`  seeded the snapshots (${seeded.map(fmt).join('; ')})`);
    await runSql(db.url, `UPDATE users SET plan = 'changed' WHERE id % 100 = 0`);
    await runSql(db.url, 'VACUUM ANALYZE users');
    // Interleaved, so the machine's load (shared with other work) weighs on each the same way; medians.
    const series: Record<string, Record<string, unknown>[]> = {
      floor: [],
      'floor-serial': [],
      'floor-payload': [],
      'wh-plan': [],
      'wh-nofp-plan': [],
      plan: [],
    };
    const load: number[] = [];
    const stats: Record<string, string> = {};
    for (let i = 0; i < Number(args.repeat); i++) {
      for (const name of Object.keys(series)) {
        if ((name.startsWith('wh-') && !plans.has('warehouse')) || (name === 'plan' && !plans.has('local'))) continue;
        await runSql(db.url, 'SELECT pg_stat_statements_reset()');
        load.push(loadavg()[0]!);
        series[name]!.push(child(name, ledgerPath));
        if (name.endsWith('plan')) stats[name] = await statements();
      }
    }
    const explained = plans.has('warehouse') ? await explainDiffs(ledgerPath) : '';
    const whRun = plans.has('warehouse') ? child('wh-run', ledgerPath) : undefined;
    const floor = median(series.floor!);
    const serialFloor = median(series['floor-serial']!);
    const payloadFloor = median(series['floor-payload']!);
    const ratios = (x: Record<string, unknown>): string =>
      (
        [
          [floor, 'floor'],
          [payloadFloor, 'payload floor'],
          [serialFloor, 'serial floor'],
        ] as const
      )
        .map(([f, what]) => `${(Number(x.ms) / Number(f.ms)).toFixed(2)}× ${what}`)
        .join(' = ');
    const out = (x: Record<string, unknown>): string => {
      const s = x.streamed as { rows: number; chars: number | null };
      return `${s.rows.toLocaleString('en')} rows out of Postgres${s.chars === null ? '' : ` (${(s.chars / 1e6).toFixed(1)} M chars)`}, ${(Number(x.wireBytes) / 1e6).toFixed(2)} MB received from Postgres`;
    };
    const all = (xs: Record<string, unknown>[]): string => `[all: ${xs.map((f) => (Number(f.ms) / 1000).toFixed(1)).join(', ')} s]`;
    console.log(`  load average (1 min) at each measurement: ${load.map((l) => l.toFixed(1)).join(', ')}`);
    console.log(`  floor (Postgres scans + md5s each row's text, parallel workers allowed): ${fmt(floor)} ${all(series.floor!)}`);
    console.log(
      `  payload floor (builds each row's payload + md5, parallel workers allowed): ${fmt(payloadFloor)} ${all(series['floor-payload']!)}`,
    );
    console.log(`  serial floor (floor on one backend): ${fmt(serialFloor)} ${all(series['floor-serial']!)}`);
    for (const [name, what] of [
      ['wh-plan', 'warehouse plan'],
      ['wh-nofp-plan', 'warehouse plan on a snapshot without fingerprints (compares payload hashes, as before them)'],
      ['plan', 'local plan'],
    ] as const) {
      if (series[name]!.length === 0) continue;
      const x = median(series[name]!);
      console.log(`  ${what}, 1 % changed: ${fmt(x)} = ${ratios(x)}; ${out(x)} ${all(series[name]!)}`);
      console.log(`    phases: ${JSON.stringify(x.phases)}; rows ${JSON.stringify(x.rows)}`);
      console.log(`    pg_stat_statements (its last run):${stats[name]}`);
    }
    if (explained)
      console.log(`  EXPLAIN ANALYZE of the diff statement (auto_explain, one more plan each, after the timed ones):${explained}`);
    if (whRun) {
      console.log(`  warehouse run (the 1 % sent and committed in Postgres): ${fmt(whRun)} = ${ratios(whRun)}; ${out(whRun)}`);
      console.log(`    phases: ${JSON.stringify(whRun.phases)}`);
    }
  }
} finally {
  await db.stop();
}
