import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { Command, CommanderError } from 'commander';
import { isSyncError, ledgerExists, redact, runSync } from '@syncline/core';
import { loadConfig, type LoadedConfig } from './load-config.js';
import { openLedger, openSyncParts } from './open-sync.js';
import { formatPlan, planJson } from './print-plan.js';
import { formatRunSummary, runJson } from './print-run.js';
import { styleFor } from './format.js';
import { createProgressPrinter } from './progress-printer.js';
import { version } from './version.js';
import { registerInspectCommands } from './inspect-commands.js';
import { registerEmulatorCommands } from './emulator-commands.js';
import { registerAlertsCommands } from './alerts-commands.js';
import { registerScheduleCommand } from './schedule-command.js';
import { registerInitCommand } from './init-command.js';
import { registerValidateCommand } from './validate-command.js';
import { registerLedgerCommands } from './ledger-commands.js';
import { firstRunNotice } from './first-run-notice.js';
import { registerServeCommand } from './serve-command.js';

/**
 * Exit codes (ux.md §1): 0 ok, 1 some rows failed, 2 bad config/usage, 3 the run failed, 4 plan has changes,
 * 75 resume later (Knock asked to wait longer than the destination waits; sysexits.h EX_TEMPFAIL), 130 interrupted.
 */
export const EXIT = { ok: 0, rowsFailed: 1, usage: 2, failed: 3, changes: 4, resumeLater: 75, interrupted: 130 } as const;

export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

interface SyncFlags {
  json?: boolean;
  color?: boolean;
  fullResync?: boolean;
  allowMassDelete?: boolean;
  reset?: boolean;
  limit?: string;
  detailedExitcode?: boolean;
  apiKeyFile?: string;
}

/** Builds the `syncline` program. `run` resolves to the exit code. */
export function createProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('syncline')
    .description('Sync the rows of a SQL model to Knock: only what changed since the last run.')
    .version(version)
    .option('--no-color', 'no colours')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  const syncCommand = (name: 'plan' | 'run') =>
    program
      .command(`${name} <config>`)
      .description(
        name === 'plan' ? 'dry run: show what would be sent; sends nothing, changes no state' : 'send the changes and commit the ledger',
      )
      .option('--json', name === 'plan' ? 'print one JSON document' : 'NDJSON events; the last line is the run summary')
      .option('--full-resync', 'send every row of the model again')
      .option('--allow-mass-delete', 'allow an empty model or removals above maxDeleteShare')
      .option('--api-key-file <path>', 'read the Knock API key from a file (- for stdin)')
      .option('--limit <n>', 'changes shown field by field per action (plan)', '10');

  syncCommand('plan')
    .option('--detailed-exitcode', 'exit 4 when there are changes to send (0 when none)')
    .action(async (file: string, flags: SyncFlags) => setExit(await plan(file, flags, program.opts().color === false, io)));
  syncCommand('run')
    .option('--reset', 'forget the snapshot (the next run sends every row) without sending anything')
    .action(async (file: string, flags: SyncFlags) => setExit(await run(file, flags, program.opts().color === false, io)));
  registerInspectCommands(program, io, setExit);
  registerEmulatorCommands(program, io, setExit);
  registerAlertsCommands(program, io, setExit);
  registerScheduleCommand(program, io, setExit);
  registerInitCommand(program, io, setExit);
  registerValidateCommand(program, io, setExit);
  registerLedgerCommands(program, io, setExit);
  registerServeCommand(program, io, setExit);
  return program;
}

async function plan(file: string, flags: SyncFlags, noColor: boolean, io: Io): Promise<number> {
  return withConfig(file, io, async (config, env) => {
    io.stderr.write('Reading model…\n');
    const parts = openSyncParts(config, { apiKeyFile: flags.apiKeyFile, env });
    const firstRun = !ledgerExists(config.ledgerPath);
    await using ledger = await openLedger(config, true);
    const result = await runSync({
      spec: config.spec,
      source: parts.source,
      destination: parts.destination,
      ledger,
      dryRun: true,
      fullResync: flags.fullResync ?? false,
      allowMassDelete: flags.allowMassDelete ?? false,
      previewLimit: flags.json ? Number.MAX_SAFE_INTEGER : Number(flags.limit ?? 10),
    });
    await parts.destination.close?.();
    if (firstRun && !result.error && result.rows.added > 0) io.stderr.write(firstRunNotice(result.rows.added, file, result.endpoints));
    if (flags.json) io.stdout.write(JSON.stringify(planJson(config, result, { version, baseUrl: parts.baseUrl })) + '\n');
    else
      io.stdout.write(
        formatPlan(
          config,
          result,
          { version, target: `Knock ${parts.baseUrl} (key from ${parts.keyFrom})` },
          styleFor(io.stdout, noColor),
        ) + '\n',
      );
    if (result.error) return EXIT.failed;
    const r = result.rows;
    return flags.detailedExitcode && r.added + r.changed + r.removed > 0 ? EXIT.changes : EXIT.ok;
  });
}

async function run(file: string, flags: SyncFlags, noColor: boolean, io: Io): Promise<number> {
  return withConfig(file, io, async (config, env) => {
    const t0 = performance.now();
    if (flags.reset) {
      await using ledger = await openLedger(config, false);
      await ledger.reset();
      io.stdout.write(`Forgot the snapshot of ${config.spec.name}; the next run sends every row.\n`);
      return EXIT.ok;
    }
    const parts = openSyncParts(config, { apiKeyFile: flags.apiKeyFile, env });
    const firstRun = !ledgerExists(config.ledgerPath);
    await using ledger = await openLedger(config, false);
    if (!flags.json)
      io.stderr.write(
        `Syncline ${version} · run · ${config.spec.name} → Knock ${config.spec.target.type} (${parts.baseUrl})\nReading model…\n`,
      );
    const stop = new AbortController();
    const hard = new AbortController();
    const onSigint = (): void => {
      if (!stop.signal.aborted) {
        io.stderr.write(
          'Interrupt received. Finishing calls in flight and committing confirmed rows… (press Ctrl-C again to stop now; unconfirmed rows are sent again on the next run)\n',
        );
        stop.abort();
      } else hard.abort();
    };
    process.on('SIGINT', onSigint);
    const progress = createProgressPrinter(io, { json: flags.json ?? false, style: styleFor(io.stderr, noColor) });
    try {
      const result = await runSync({
        spec: config.spec,
        source: parts.source,
        destination: parts.destination,
        ledger,
        fullResync: flags.fullResync ?? false,
        allowMassDelete: flags.allowMassDelete ?? false,
        signal: stop.signal,
        hardSignal: hard.signal,
        onEvent: (e) => {
          if (firstRun && e.type === 'phase' && e.name === 'diff' && e.status === 'end' && Number(e.detail?.add) > 0)
            io.stderr.write(firstRunNotice(Number(e.detail!.add), file));
          progress.onEvent(e);
        },
      });
      if (flags.json) io.stdout.write(JSON.stringify(runJson(result)) + '\n');
      else
        io.stdout.write(
          formatRunSummary(result, { key: config.spec.key, file }, performance.now() - t0, styleFor(io.stdout, noColor)) + '\n',
        );
      await (await import('./alert-hook.js')).runAlerts({ config, file, result, ledger, io, env });
      return result.status === 'succeeded'
        ? EXIT.ok
        : result.status === 'partial'
          ? EXIT.rowsFailed
          : result.status === 'aborted'
            ? EXIT.interrupted
            : result.status === 'resume_later'
              ? EXIT.resumeLater
              : EXIT.failed;
    } finally {
      process.off('SIGINT', onSigint);
      progress.close();
      await parts.destination.close?.();
    }
  });
}

/** Loads the config and maps errors to exit codes: config errors 2, run errors 3. Secrets are redacted. */
export async function withConfig(
  file: string,
  io: Io,
  fn: (config: LoadedConfig, env: NodeJS.ProcessEnv) => Promise<number>,
): Promise<number> {
  return withEnv(io, (env) => fn(loadConfig(file, env), env));
}

/** The environment with `./.env` under it, and errors mapped to exit codes as {@link withConfig} does. */
export async function withEnv(io: Io, fn: (env: NodeJS.ProcessEnv) => Promise<number>): Promise<number> {
  try {
    return await fn(withDotenv(io.env));
  } catch (e) {
    if (isSyncError(e)) {
      io.stderr.write(`Error: ${redact(e.message)}\n`);
      return e.code === 'config_invalid' || e.code === 'invalid_option' ? EXIT.usage : EXIT.failed;
    }
    io.stderr.write(`Error: ${redact(String((e as Error)?.message ?? e))}\n`);
    return EXIT.failed;
  }
}

/**
 * Variables from `./.env` (if present) under those already set: secrets can live in a git-ignored file
 * instead of the shell history. Parsed by Node's own `util.parseEnv`.
 */
function withDotenv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!existsSync('.env')) return env;
  return { ...parseEnv(readFileSync('.env', 'utf8')), ...env };
}

/** Runs the CLI with `argv` (without node and script). */
export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  let code = 0;
  const program = createProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT.usage;
    throw e;
  }
  return code;
}
