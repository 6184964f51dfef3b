import type { Command } from 'commander';
import { withConfig, EXIT, type Io } from './program.js';
import { n } from './format.js';
import type { LoadedConfig } from './load-config.js';

// @syncline/core (DuckDB) loads on use, not at startup (see program.ts).
const core = () => import('@syncline/core');

/**
 * These commands read and copy a DuckDB ledger file; a warehouse ledger is tables in Postgres, which its own
 * tools check, back up and restore. Refused with the option at fault and what to use instead.
 */
async function refuseWarehouse(config: LoadedConfig, command: string): Promise<void> {
  const s = config.source;
  if (s.type !== 'postgres' || s.ledger !== 'warehouse') return;
  const schema = s.schema ?? 'syncline';
  const instead =
    command === 'verify'
      ? `Postgres checks its own tables (amcheck); \`syncline runs ${config.file}\` reads the ledger`
      : command === 'backup'
        ? `back up the schema with Postgres' tools: pg_dump --schema=${schema} (with the database's own backups)`
        : `restore the schema with Postgres' tools: pg_restore --schema=${schema}`;
  throw new (await core()).SyncError(
    'invalid_option',
    `${config.file}: source.ledger: warehouse keeps the ledger of ${config.spec.name} in Postgres (schema ${schema}), not in a DuckDB file; \`syncline ledger ${command}\` works on DuckDB ledger files only: ${instead}`,
    { details: { option: 'source.ledger' } },
  );
}

/**
 * `syncline ledger verify <config>`, `syncline ledger backup <config> [file]`,
 * `syncline ledger restore <config> <file>`: check, copy and put back the sync's DuckDB ledger (refused, with
 * what to use instead, for a warehouse ledger: `source.ledger: warehouse`).
 */
export function registerLedgerCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  const ledger = program.command('ledger').description('verify, back up or restore the ledger of a sync');
  ledger
    .command('verify <config>')
    .description('read every block of the ledger and check that its snapshot and in-doubt tables are consistent')
    .option('--json', 'JSON output')
    .action(async (file: string, flags: { json?: boolean }) =>
      setExit(
        await withConfig(file, io, async (config) => {
          await refuseWarehouse(config, 'verify');
          const report = await (await core()).verifyLedger(config.ledgerPath);
          if (flags.json) io.stdout.write(JSON.stringify({ ok: report.problems.length === 0, ...report }) + '\n');
          else {
            io.stdout.write(`Ledger ${report.file}\n`);
            for (const [t, rows] of Object.entries(report.tables)) io.stdout.write(`  ${t.padEnd(12)} ${n(rows)} rows read\n`);
            for (const p of report.problems) io.stdout.write(`  problem: ${p}\n`);
            io.stdout.write(
              report.problems.length ? 'The ledger is inconsistent.\n' : 'OK: every block read, snapshot and in-doubt tables consistent.\n',
            );
          }
          return report.problems.length ? EXIT.failed : EXIT.ok;
        }),
      ),
    );
  ledger
    .command('backup <config> [file]')
    .description('write a consistent, verified copy of the ledger (default: beside it, named with the time)')
    .action(async (file: string, to: string | undefined) =>
      setExit(
        await withConfig(file, io, async (config) => {
          await refuseWarehouse(config, 'backup');
          const written = await (await core()).backupLedger(config.ledgerPath, to);
          io.stdout.write(`Backed up ${config.ledgerPath} to ${written} (verified).\n`);
          return EXIT.ok;
        }),
      ),
    );
  ledger
    .command('restore <config> <file>')
    .description('verify a backup and put it in place of the ledger (the current file is kept beside it)')
    .action(async (file: string, from: string) =>
      setExit(
        await withConfig(file, io, async (config) => {
          await refuseWarehouse(config, 'restore');
          const r = await (await core()).restoreLedger(config.ledgerPath, from);
          io.stdout.write(`Restored ${r.restored} from ${from}${r.keptAs ? `; the previous file is kept as ${r.keptAs}` : ''}.\n`);
          return EXIT.ok;
        }),
      ),
    );
}
