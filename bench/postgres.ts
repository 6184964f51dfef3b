/**
 * Postgres local-ledger benchmark (issue 15, local mode only): a `users` table in a throwaway real
 * PostgreSQL cluster (initdb + pg_ctl, as the tests start it), synced through `@syncline/source-postgres` into
 * a DuckDB ledger file. Measured, each in its own child process so its peak RSS is its own:
 * - floor: Postgres alone scanning the model and md5-hashing every row's text once (`pg` client, one row out);
 * - first run: every row streamed through the cursor into the ledger and "sent" to a destination that
 *   confirms everything and keeps nothing (so RSS is the engine's);
 * - plan: after 1 % of the rows changed in Postgres, a dry run (stream, stage, diff, plan).
 * Run: npm run bench -- postgres [--sizes 250k,1m] [--batch 10000]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import {
  openDuckdbLedger,
  runSync,
  sendsRemovals,
  syncSpecFieldsSchema,
  toSyncSpec,
  type Destination,
  type Operation,
} from '@syncline/core';
import { postgresSource } from '@syncline/source-postgres';
import { realPostgres, runSql, startPostgres } from '@syncline/test-utils/postgres-server';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '250k,1m' },
    batch: { type: 'string', default: '10000' },
    phase: { type: 'string' },
    url: { type: 'string' },
    ledger: { type: 'string' },
  },
});
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
    supports: { types: ['users'] },
    fields: () => [],
    validate: () => [],
    plan(changes, { target }) {
      const send = changes.filter((c) => c.action !== 'remove' || sendsRemovals(target));
      const operations: Operation[] = [];
      for (let i = 0; i < send.length; i += 1000) operations.push({ id: `s${++n}`, endpoint: 'sink', changes: send.slice(i, i + 1000) });
      return { operations, skipped: changes.filter((c) => !send.includes(c)) };
    },
    apply: async (op) => ({ ok: op.changes.map((c) => c.key), failed: [], requests: 1 }),
  };
};

async function phase(name: string, url: string, ledgerPath: string): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  if (name === 'floor') {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const r = await c.query(`SELECT count(DISTINCT md5(m::text)) AS n FROM (${MODEL}) AS m`);
    await c.end();
    return { ms: performance.now() - t0, rows: Number(r.rows[0].n) };
  }
  const ledger = await openDuckdbLedger({ path: ledgerPath, memoryLimit: '1GB' });
  const source = postgresSource({ url, batchSize: Number(args.batch) });
  try {
    const r = await runSync({ spec, source, destination: sink(), ledger, dryRun: name === 'plan' });
    if (r.error) throw new Error(r.error.message);
    return { ms: performance.now() - t0, rows: r.rows, phases: r.phases };
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
const db = await startPostgres(server.bin);
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
try {
  for (const size of args.sizes!.split(',')) {
    const n = Number(size.replace(/k$/i, '000').replace(/m$/i, '000000'));
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
    const floor = child('floor', ledgerPath);
    const first = child('run', ledgerPath);
    await runSql(db.url, `UPDATE users SET plan = 'changed' WHERE id % 100 = 0`);
    await runSql(db.url, 'VACUUM ANALYZE users');
    const floor2 = child('floor', ledgerPath);
    const plan = child('plan', ledgerPath);
    const fmt = (x: Record<string, unknown>): string => `${(Number(x.ms) / 1000).toFixed(1)} s, peak RSS ${String(x.maxRssMB)} MB`;
    console.log(`\n${size} rows (batch ${args.batch}):`);
    console.log(`  floor (Postgres scans + md5s the model once): ${fmt(floor)}; after the update ${fmt(floor2)}`);
    console.log(
      `  first run (stream ${size} rows into the ledger, all sent): ${fmt(first)} = ${(Number(first.ms) / Number(floor.ms)).toFixed(1)}× floor`,
    );
    console.log(`  plan with 1 % changed: ${fmt(plan)} = ${(Number(plan.ms) / Number(floor2.ms)).toFixed(1)}× floor`);
    console.log(`  plan phases: ${JSON.stringify(plan.phases)}; rows ${JSON.stringify(plan.rows)}`);
  }
} finally {
  await db.stop();
}
