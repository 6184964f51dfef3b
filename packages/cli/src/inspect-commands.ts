import type { Command } from 'commander';
import type { LoadedConfig } from './load-config.js';
import { withConfig, EXIT, type Io } from './program.js';
import { n } from './format.js';

// @syncline/core (DuckDB) and what imports it load on use, not at startup (see program.ts).
const openExisting = async (config: LoadedConfig) => {
  const { openDuckdbLedger, ledgerExists, SyncError } = await import('@syncline/core');
  // A warehouse ledger lives in Postgres: no file to look for; reading it creates nothing.
  if (config.source.type === 'postgres' && config.source.ledger === 'warehouse') {
    const ledger = await (await import('./open-sync.js')).openLedger(config, true);
    if ('ephemeral' in ledger && ledger.ephemeral) {
      await ledger.close();
      throw new SyncError('ledger_failed', `${config.spec.name} has no runs yet (no ledger tables ${ledgerPlace(config)})`);
    }
    return ledger;
  }
  if (!ledgerExists(config.ledgerPath))
    throw new SyncError('ledger_failed', `${config.spec.name} has no runs yet (no ledger at ${config.ledgerPath})`);
  return openDuckdbLedger({ path: config.ledgerPath, ...config.ledger });
};

/** `syncline runs <config>`, `syncline runs show <config> <runId>`, `syncline rows <config> <key>`. */
export function registerInspectCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('runs <config> [more...]')
    .usage('<config> | show <config> <runId>')
    .description('list the runs of a sync, or show one (`runs show <config> <runId>`)')
    .option('--json', 'JSON output')
    .action(async (first: string, more: string[], flags: { json?: boolean }) => {
      const [file, runId] = first === 'show' ? [more[0], more[1]] : [first, undefined];
      if (!file || (first === 'show' && !runId) || more.length > (first === 'show' ? 2 : 0)) {
        io.stderr.write('Error: usage: syncline runs show <config> <runId>\n');
        return setExit(EXIT.usage);
      }
      setExit(
        await withConfig(file, io, async (config) => {
          const { KEPT } = await import('./removal-effect.js');
          await using ledger = await openExisting(config);
          if (!runId) {
            const runs = await ledger.runs(50);
            if (flags.json) io.stdout.write(JSON.stringify(runs) + '\n');
            else {
              io.stdout.write(
                `Ledger ${ledgerPlace(config)} · ${bytes(ledger.sizeBytes())} (row results and calls kept ${retentionText(config)})\n`,
              );
              for (const r of runs)
                io.stdout.write(
                  `${r.runId}  ${r.startedAt.slice(0, 19)}  ${r.status.padEnd(9)}  +${n(r.counts.added ?? 0)} ~${n(r.counts.changed ?? 0)} -${n(r.counts.removed ?? 0)}  synced ${n(r.counts.synced ?? 0)} failed ${n(r.counts.failed ?? 0)} invalid ${n(r.counts.invalid ?? 0)}${r.counts.kept ? `  ${n(r.counts.kept)} ${KEPT}` : ''}  ${n(r.requests)} calls${r.error ? `  ${r.error.code}: ${r.error.message}` : ''}\n`,
                );
            }
            return EXIT.ok;
          }
          const run = await ledger.run(runId);
          if (!run) {
            const { SyncError } = await import('@syncline/core');
            throw new SyncError('ledger_failed', `no run ${runId} in ${config.spec.name}`);
          }
          const failed = await ledger.rowResults({ runId, status: 'failed', limit: 50 });
          const exchanges = await ledger.exchanges(runId, 50);
          const alerts = await (await import('@syncline/alerts')).readAlertDeliveries(ledger, runId);
          if (flags.json) io.stdout.write(JSON.stringify({ ...run, failed, exchanges, alerts }) + '\n');
          else {
            io.stdout.write(`Run ${run.runId} · ${run.status} · started ${run.startedAt} · finished ${run.finishedAt ?? '—'}\n`);
            io.stdout.write(
              `  rows    ${Object.entries(run.counts)
                .map(([k, v]) => `${k === 'kept' ? KEPT : k} ${n(v)}`)
                .join(' · ')}\n`,
            );
            io.stdout.write(`  phases  ${run.phases.map((p) => `${p.name} ${p.ms}ms`).join(' · ')}\n`);
            io.stdout.write(`  calls   ${n(run.requests)}\n`);
            if (run.error) io.stdout.write(`  error   ${run.error.code}: ${run.error.message}\n`);
            for (const f of failed) io.stdout.write(`  failed  ${f.key}  ${f.code ?? ''}  ${f.message ?? ''}\n`);
            for (const x of exchanges)
              io.stdout.write(`  ${x.method} ${x.path} → ${x.status ?? x.error} (attempt ${x.attempt}, ${Math.round(x.durationMs)}ms)\n`);
            for (const a of alerts)
              io.stdout.write(
                `  alert   ${a.alert} (${a.channel}, ${a.event}) ${a.ok ? 'delivered' : `not delivered: ${a.error}`} (${a.attempts} attempt${a.attempts > 1 ? 's' : ''})\n`,
              );
          }
          return EXIT.ok;
        }),
      );
    });

  program
    .command('rows <config> <key>')
    .description('what happened to one row key, run by run, and what the snapshot holds for it')
    .option('--json', 'JSON output')
    .action(async (file: string, key: string, flags: { json?: boolean }) =>
      setExit(
        await withConfig(file, io, async (config) => {
          const { KEPT, removalEffect, ruleText } = await import('./removal-effect.js');
          await using ledger = await openExisting(config);
          const results = await ledger.rowResults({ key, limit: 50 });
          const snap = await ledger.snapshotRow(key);
          if (flags.json) io.stdout.write(JSON.stringify({ key, snapshot: snap ? JSON.parse(snap.payload) : null, results }) + '\n');
          else {
            io.stdout.write(`${config.spec.key}=${key}\n  snapshot  ${snap ? snap.payload : '(not synced)'}\n`);
            for (const r of results) {
              // A removal says what happened to the record (deleted, or left in Knock), not a generic message.
              if (r.action === 'remove' && (r.status === 'synced' || r.status === 'skipped')) {
                // The config may have changed since that run: the recorded status decides, the config only words it.
                const { knockSendsRemovals } = await import('@syncline/destination-knock');
                const sends = knockSendsRemovals(config.spec.target);
                const what =
                  r.status === 'skipped'
                    ? sends
                      ? KEPT
                      : removalEffect(config.spec.target, key)
                    : sends
                      ? removalEffect(config.spec.target, key)
                      : 'removed';
                io.stdout.write(`  ${r.runId}  ${r.action.padEnd(6)}  ${r.status.padEnd(7)}  ${what}\n`);
                continue;
              }
              // The field once, then the rule ("email  is not a valid email address").
              const field = r.field ? `  ${r.field}` : '';
              const message = r.message ? `  ${r.field ? ruleText({ field: r.field, message: r.message }) : r.message}` : '';
              io.stdout.write(
                `  ${r.runId}  ${r.action.padEnd(6)}  ${r.status.padEnd(7)}${r.code && r.code !== r.field ? `  ${r.code}` : ''}${field}${message}\n`,
              );
            }
          }
          return EXIT.ok;
        }),
      ),
    );
}

/** A byte count for people: 1.2 MB. */
function bytes(b: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (b >= 1000 && i < units.length - 1) {
    b /= 1000;
    i++;
  }
  return `${i === 0 ? b : b.toFixed(1)} ${units[i]}`;
}

function retentionText(config: LoadedConfig): string {
  const r = config.ledger.retention ?? {};
  return `${r.days ?? 90} days${r.runs === undefined ? '' : `, at most ${r.runs} runs`}`;
}

/** Where the sync's ledger lives: its DuckDB file, or its schema in Postgres (warehouse ledger). */
function ledgerPlace(config: LoadedConfig): string {
  const s = config.source;
  return s.type === 'postgres' && s.ledger === 'warehouse' ? `in Postgres (schema ${s.schema ?? 'syncline'})` : config.ledgerPath;
}
