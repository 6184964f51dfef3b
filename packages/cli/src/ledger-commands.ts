import type { Command } from 'commander';
import { withConfig, EXIT, type Io } from './program.js';
import { n } from './format.js';

// @syncline/core (DuckDB) loads on use, not at startup (see program.ts).
const core = () => import('@syncline/core');

/**
 * `syncline ledger verify <config>`, `syncline ledger backup <config> [file]`,
 * `syncline ledger restore <config> <file>`: check, copy and put back the sync's DuckDB ledger.
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
          const r = await (await core()).restoreLedger(config.ledgerPath, from);
          io.stdout.write(`Restored ${r.restored} from ${from}${r.keptAs ? `; the previous file is kept as ${r.keptAs}` : ''}.\n`);
          return EXIT.ok;
        }),
      ),
    );
}
