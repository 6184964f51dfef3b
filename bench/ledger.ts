/**
 * Ledger commit cost against the snapshot's size (issue 10, "keep commit cost flat"): for each size, a
 * DuckDB ledger file whose snapshot already holds N rows (written by SQL, ~150 B payloads like the run
 * bench's users), then the writes a first sync makes for 100,000 more confirmed rows, through the run
 * loop's own `createLedgerWriter`: per chunk of 1,000 keys one mark (keys in doubt, durable before the
 * send), then the chunk's outcome (appended to the snapshot, row results, settled keys, one exchange per
 * bulk job) recorded for the next window. Timed: the whole 100k (marks and outcomes, one write at a time,
 * as the run's `commit` phase counts it), then the end-of-run `fold`. Each size in its own ledger file;
 * sizes are measured in turn in one process, and 0 is measured again at the end as a drift check.
 *
 * Run: npm run bench -- ledger [--sizes 0,1m,5m,10m] [--rows 100k] [--repeat 1] [--chunk 1000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLedgerWriter, openDuckdbLedger, type LedgerWrite } from '@syncline/core';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '0,1m,5m,10m' },
    rows: { type: 'string', default: '100k' },
    repeat: { type: 'string', default: '1' },
    chunk: { type: 'string', default: '1000' },
    /** DuckDB `checkpoint_threshold` for the writes (default: DuckDB's 16 MB). */
    'checkpoint-threshold': { type: 'string' },
  },
});

function size(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text.trim());
  if (!m) throw new Error(`${text}: expected a row count such as 0, 250k or 10m`);
  return Math.round(Number(m[1]) * (m[2]?.toLowerCase() === 'm' ? 1e6 : m[2]?.toLowerCase() === 'k' ? 1e3 : 1));
}

const PAYLOAD_SQL = (i: string): string =>
  `'{"email":"user' || ${i} || '@example.com","name":"Ada Lovelace","phone_number":"+14155550' || (${i} % 1000) || '","timezone":"Europe/Berlin","plan":"pro"}'`;

async function measure(
  n: number,
  rows: number,
  chunk: number,
): Promise<{ build: number; write: number; fold: number; perWrite: number; writes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-bench-ledger-'));
  try {
    const path = join(dir, 'ledger.duckdb');
    const t0 = performance.now();
    const ledger = await openDuckdbLedger({ path });
    if (n > 0) {
      await ledger.connection.run(
        `INSERT INTO snapshot (k, h, payload, run_id, synced_at) SELECT 'u' || lpad(i::VARCHAR, 9, '0'), hash(i)::UHUGEINT, ${PAYLOAD_SQL('i')}, 'r_prev', now() FROM range(0, ${n}) t(i)`,
      );
      await ledger.connection.run('CHECKPOINT');
    }
    const build = performance.now() - t0;
    if (args['checkpoint-threshold']) await ledger.connection.run(`SET checkpoint_threshold = '${args['checkpoint-threshold']}'`);
    let writeMs = 0;
    let writes = 0;
    const writer = createLedgerWriter({
      ledger,
      runId: 'r_bench',
      onWrite: (ms) => {
        writeMs += ms;
        writes += 1;
      },
    });
    for (let from = n; from < n + rows; from += chunk) {
      const keys = Array.from({ length: chunk }, (_, j) => `u${String(from + j).padStart(9, '0')}`);
      const payload = (k: string): string =>
        `{"email":"user${k}@example.com","name":"Ada Lovelace","phone_number":"+14155550${k.slice(-3)}","timezone":"Europe/Berlin","plan":"pro"}`;
      await writer.mark(keys.map((key) => ({ key, payload: payload(key) })));
      const part: Partial<LedgerWrite> = {
        upserts: keys.map((key) => ({ key, hash: '0123456789abcdef0123456789abcdef', payload: payload(key), added: true })),
        results: keys.map((key) => ({ key, action: 'add', status: 'synced' })),
        settled: keys,
        exchanges: [
          {
            method: 'POST',
            path: '/v1/users/bulk/identify',
            status: 200,
            attempt: 1,
            startedAt: new Date().toISOString(),
            durationMs: 5,
          } as never,
        ],
      };
      await writer.record(part);
    }
    await writer.close();
    const f0 = performance.now();
    await ledger.fold();
    const fold = performance.now() - f0;
    await ledger.close();
    return { build, write: writeMs, fold, perWrite: writeMs / writes, writes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const sizes = args.sizes!.split(',').map(size);
const rows = size(args.rows!);
const chunk = Number(args.chunk);
process.stdout.write(
  `ledger commit cost per ${rows.toLocaleString('en')} confirmed rows (chunks of ${chunk}), load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}\n`,
);
process.stdout.write(`| snapshot rows | build | writes | commit time | per write | fold |\n|---|---|---|---|---|---|\n`);
for (let r = 0; r < Number(args.repeat); r++)
  for (const n of [...sizes, ...(sizes.length > 1 && sizes[0] === 0 ? [0] : [])]) {
    const m = await measure(n, rows, chunk);
    process.stdout.write(
      `| ${n.toLocaleString('en')} | ${(m.build / 1000).toFixed(1)} s | ${m.writes} | **${(m.write / 1000).toFixed(2)} s** | ${m.perWrite.toFixed(1)} ms | ${m.fold.toFixed(0)} ms |  (load ${loadavg()[0]!.toFixed(1)})\n`,
    );
  }
