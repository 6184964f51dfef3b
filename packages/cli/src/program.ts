import { existsSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { LoadedConfig } from './load-config.js';
import type { SavedPlanHeader } from './saved-plan.js';
import type { DiffCounts } from './send-eta.js';
import { duration, styleFor } from './format.js';
import { version } from './version.js';
import { registerInspectCommands } from './inspect-commands.js';
import { registerEmulatorCommands } from './emulator-commands.js';
import { registerAlertsCommands } from './alerts-commands.js';
import { registerScheduleCommand } from './schedule-command.js';
import { registerInitCommand } from './init-command.js';
import { registerValidateCommand } from './validate-command.js';
import { registerLedgerCommands } from './ledger-commands.js';
import { registerServeCommand } from './serve-command.js';
import { handleStopSignals } from './stop-signals.js';
import { deleteWindowLine } from './delete-window-line.js';

// Startup time (ux.md §1: say something within 100 ms): this module and the modules it imports statically stay
// light (commander, picocolors). DuckDB, zod, yaml, undici and the emulator load with `import()` inside the
// commands, after their first line is printed. packages/cli/test/first-output.test.ts pins it.

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
  limit?: number;
  detailedExitcode?: boolean;
  apiKeyFile?: string;
  offline?: boolean;
  remote?: boolean;
  all?: boolean;
  dir?: string;
  stopTimeout?: string;
  out?: string;
  plan?: string;
  maxRows?: string;
  maxDuration?: string;
}

/** Commander's messages (`error: unknown command 'plna'\n(Did you mean plan?)`) as one `Error:` line. */
function usageLine(message: string): string {
  const text = message
    .replace(/^error:\s*/i, '')
    .replace(/\(Did you mean/g, '(did you mean')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ');
  return `Error: ${text} · \`syncline --help\` lists the commands and options\n`;
}

/** `--limit abc` is a usage error naming the option, not NaN. */
function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('Expected a whole number ≥ 0, e.g. 10.');
  return Number(value);
}

/** Builds the `syncline` program. `run` resolves to the exit code. */
export function createProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('syncline')
    .description('Sync the rows of a SQL model to Knock: only what changed since the last run.')
    .version(version)
    .option('--no-color', 'no colours')
    .exitOverride()
    // Errors are one line, the last one printed (ux.md §1), without a help dump above them.
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(usageLine(s)),
    });

  const syncCommand = (name: 'plan' | 'run') =>
    program
      .command(`${name} ${name === 'plan' ? '<config>' : '[config]'}`)
      .description(
        name === 'plan' ? 'dry run: show what would be sent; sends nothing, changes no state' : 'send the changes and commit the ledger',
      )
      .option('--json', name === 'plan' ? 'print one JSON document' : 'NDJSON events; the last line is the run summary')
      .option('--full-resync', 'send every row of the model again')
      .option('--allow-mass-delete', 'allow an empty model or removals above maxDeleteShare')
      .option('--api-key-file <path>', 'read the Knock API key from a file (- for stdin)')
      .option('--limit <n>', 'changes shown field by field per action (plan)', wholeNumber, 10);

  syncCommand('plan')
    .option('--detailed-exitcode', 'exit 4 when there are changes to send (0 when none)')
    .option('--out <file>', 'also write every change to this file (NDJSON after a header line) for `syncline run --plan`')
    .option('--offline', "don't check the API key and URL with Knock (one read call) before planning")
    .option('--remote', 'read the sample rows from Knock: Knock now → last sent → will send, with drift marked')
    .action(async (file: string, flags: SyncFlags) => setExit(await plan(file, flags, program.opts().color === false, io)));
  syncCommand('run')
    .option('--reset', 'forget the snapshot (the next run sends every row) without sending anything')
    .option('--stop-timeout <seconds>', 'on SIGINT/SIGTERM/SIGHUP, how long calls in flight may take to finish', '10')
    .option('--plan <file>', 'send exactly this saved plan (`plan --out`); refused if the model, config or ledger moved since')
    .option('--max-rows <n>', 'send at most N changes, then stop cleanly (the next run sends the rest)')
    .option('--max-duration <time>', 'start no new call after this long (e.g. 30m, 2h, 90s), then stop cleanly')
    .option('--all', 'run every sync config of --dir one after another; exit with the worst outcome')
    .option('--dir <dir>', 'the folder of sync configs for --all', '.')
    .action(async (file: string | undefined, flags: SyncFlags) =>
      setExit(await runCommand(file, flags, program.opts().color === false, io)),
    );
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
  // Printed before DuckDB and the rest load (they take most of a second).
  io.stderr.write('Reading model…\n');
  return withConfig(file, io, async (config, env) => {
    const [
      { runSync, remoteBefore, SyncError },
      { openLedger, openSyncParts, firstRunCheck },
      { formatPlan, planJson, planDocument, formatRemote },
      { configProblem },
      { writePlanFile },
      { sendSeconds, tierRates },
      { firstRunNotice },
    ] = await Promise.all([
      import('@syncline/core'),
      import('./open-sync.js'),
      import('./print-plan.js'),
      import('./config-problem.js'),
      import('./saved-plan.js'),
      import('@syncline/destination-knock'),
      import('./first-run-notice.js'),
    ]);
    if (flags.remote && flags.offline)
      throw new SyncError('invalid_option', '--remote reads the sample rows from Knock; it cannot be used with --offline');
    const parts = await openSyncParts(config, { apiKeyFile: flags.apiKeyFile, env, offline: flags.offline ?? false });
    const knock = parts.kind === 'knock';
    if (!knock && (flags.remote || flags.out)) {
      await parts.destination.close?.();
      throw new SyncError(
        'invalid_option',
        `${flags.remote ? '--remote' : '--out'} works with the Knock destination only, not with ${parts.label}`,
      );
    }
    // DuckDB writes the changes next to the plan file; they are copied after its header line.
    const changesFile = flags.out ? `${resolve(flags.out)}.changes.tmp` : undefined;
    try {
      // One cheap read (the destination's check): a rejected key or a dead URL fails the plan, as it would the run.
      if (!flags.offline) await parts.destination.check?.(config.spec.target, { dryRun: true });
      const firstRunOf = firstRunCheck(config);
      await using ledger = await openLedger(config, true, env);
      const firstRun = await firstRunOf(ledger);
      const result = await runSync({
        spec: config.spec,
        source: parts.source,
        destination: parts.destination,
        ledger,
        dryRun: true,
        fullResync: flags.fullResync ?? false,
        allowMassDelete: flags.allowMassDelete ?? false,
        // --json prints the summary and a sample, like the text plan; --out writes every change.
        previewLimit: flags.limit ?? 10,
        ...(changesFile ? { planFile: changesFile } : {}),
      });
      const problem = result.error && configProblem(config, result.error);
      if (problem) {
        io.stderr.write(problem.text);
        return problem.exit;
      }
      if (knock && firstRun && !result.error && result.rows.added > 0)
        io.stderr.write(firstRunNotice(result.rows.added, file, config.destination.tiers, result.endpoints));
      if (!knock) {
        const { formatModulePlan, modulePlanJson } = await import('./print-module-plan.js');
        const module = config.destination.type === 'module' ? config.destination.module : '';
        io.stdout.write(
          (flags.json
            ? JSON.stringify({
                ...modulePlanJson(config, parts.destination, result, { version, module }),
                delete_window: result.deleteWindow ?? null,
              })
            : formatModulePlan(config, parts.destination, result, { version, label: parts.label }, styleFor(io.stdout, noColor))) + '\n',
        );
      }
      // The sample rows as Knock holds them now, beside what Syncline last sent and what it will send.
      const remote =
        flags.remote && !result.error ? await remoteBefore(parts.destination, ledger, config.spec.target, result.preview) : undefined;
      if (flags.out && changesFile && !result.error) {
        const doc = planJson(config, result, { version, baseUrl: parts.baseUrl });
        const { changes: _sample, ...rest } = doc;
        await writePlanFile(
          flags.out,
          {
            ...rest,
            kind: 'syncline.plan',
            format: 'ndjson',
            config_path: resolve(config.file),
            digests: result.digests!,
            summary: doc.summary,
            estimate: { seconds: sendSeconds(result.endpoints, tierRates(config.destination.tiers)), requests: doc.estimate.requests },
          },
          changesFile,
        );
        io.stderr.write(`Wrote every change to ${flags.out}; send exactly this plan with \`syncline run --plan ${flags.out}\`\n`);
      }
      if (!knock) {
        // Printed above.
      } else if (flags.json) io.stdout.write(JSON.stringify(planDocument(config, result, { baseUrl: parts.baseUrl }, remote)) + '\n');
      else io.stdout.write(formatPlan(config, result, { version, target: parts.label }, styleFor(io.stdout, noColor)) + '\n');
      if (remote && !flags.json) io.stdout.write(formatRemote(remote, config.spec.key, styleFor(io.stdout, noColor)) + '\n');
      const window = flags.json ? undefined : deleteWindowLine(result);
      if (window) io.stdout.write(window + '\n');
      if (result.error) return result.error.code === 'config_invalid' ? EXIT.usage : EXIT.failed;
      const r = result.rows;
      return flags.detailedExitcode && r.added + r.changed + r.removed > 0 ? EXIT.changes : EXIT.ok;
    } finally {
      if (changesFile) rmSync(changesFile, { force: true });
      await parts.destination.close?.();
    }
  });
}

/**
 * `syncline run [config]`: with `--plan`, the config comes from the saved plan (a config given too must be
 * the same file) and the run sends exactly that plan or refuses. Options are checked before anything opens.
 */
async function runCommand(file: string | undefined, flags: SyncFlags, noColor: boolean, io: Io): Promise<number> {
  if (flags.all) return runAll(file, flags, noColor, io);
  // Printed before DuckDB and the rest load (they take most of a second). With --plan the first line is the
  // run header with the saved plan's ETA instead.
  if (!flags.json && !flags.reset && !flags.plan) io.stderr.write('Reading model…\n');
  const [{ SyncError, isSyncError, redact }, { parseCount, parseDuration }, { readPlanHeader }] = await Promise.all([
    import('@syncline/core'),
    import('./parse-duration.js'),
    import('./saved-plan.js'),
  ]);
  try {
    const limits = {
      ...(flags.maxRows === undefined ? {} : { maxRows: parseCount(flags.maxRows, '--max-rows') }),
      ...(flags.maxDuration === undefined ? {} : { maxDurationMs: parseDuration(flags.maxDuration, '--max-duration') }),
    };
    const saved = flags.plan ? await readPlanHeader(flags.plan) : undefined;
    if (saved && file && resolve(file) !== saved.config_path)
      throw new SyncError('invalid_option', `--plan ${flags.plan} was made for ${saved.config_path}, not ${resolve(file)}`);
    const config = file ?? saved?.config_path;
    if (!config)
      throw new SyncError('invalid_option', 'run needs a config file, or --plan <file> made by `syncline plan <config> --out <file>`');
    return await run(config, flags, noColor, io, { ...limits, saved });
  } catch (e) {
    if (!isSyncError(e)) throw e;
    io.stderr.write(`Error: ${redact(e.message)}\n`);
    return EXIT.usage;
  }
}

/** Exit codes from the least to the most severe: `run --all` exits with the worst of its runs. */
const SEVERITY: number[] = [EXIT.ok, EXIT.changes, EXIT.resumeLater, EXIT.rowsFailed, EXIT.failed, EXIT.usage];
const severity = (code: number): number => (SEVERITY.includes(code) ? SEVERITY.indexOf(code) : SEVERITY.length);

/**
 * `syncline run --all [--dir DIR]`: every sync config of the folder, one after another. A failure of one
 * does not stop the others; a stop signal (Ctrl-C, SIGTERM) does. The exit code is the worst of them.
 */
async function runAll(file: string | undefined, flags: SyncFlags, noColor: boolean, io: Io): Promise<number> {
  const dir = flags.dir ?? '.';
  if (file || flags.plan) {
    io.stderr.write(`Error: --all runs every sync of --dir (${dir}); give no config${flags.plan ? ' and no --plan' : ''}\n`);
    return EXIT.usage;
  }
  const { syncConfigFiles } = await import('./sync-config-files.js');
  let files: string[];
  try {
    files = syncConfigFiles(dir);
  } catch (e) {
    io.stderr.write(`Error: --dir ${dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (e as Error).message}\n`);
    return EXIT.usage;
  }
  if (files.length === 0) {
    io.stderr.write(`Error: ${dir}: no sync configs (YAML files with a top-level sync:)\n`);
    return EXIT.usage;
  }
  let worst: number = EXIT.ok;
  const outcomes: string[] = [];
  for (const [i, f] of files.entries()) {
    io.stderr.write(`${i ? '\n' : ''}[${i + 1}/${files.length}] ${f}\n`);
    const code = await runCommand(f, { ...flags, all: false }, noColor, io);
    outcomes.push(`${f}: exit ${code}`);
    if (severity(code) > severity(worst)) worst = code;
    // A stop signal stops the whole series, not only the run it arrived in.
    if (code >= 128) {
      worst = code;
      break;
    }
  }
  io.stderr.write(`\nRan ${outcomes.length} of ${files.length} syncs: ${outcomes.join(', ')}\n`);
  return worst;
}

async function run(
  file: string,
  flags: SyncFlags,
  noColor: boolean,
  io: Io,
  extra: { maxRows?: number; maxDurationMs?: number; saved?: SavedPlanHeader | undefined } = {},
): Promise<number> {
  return withConfig(file, io, async (config, env) => {
    const t0 = performance.now();
    const [
      { SyncError, runSync },
      { openLedger, openSyncParts, firstRunCheck },
      { formatRunSummary, runJson },
      { createProgressPrinter },
      { configProblem },
      { sendEta },
      { firstRunNotice },
    ] = await Promise.all([
      import('@syncline/core'),
      import('./open-sync.js'),
      import('./print-run.js'),
      import('./progress-printer.js'),
      import('./config-problem.js'),
      import('./send-eta.js'),
      import('./first-run-notice.js'),
    ]);
    if (flags.reset) {
      await using ledger = await openLedger(config, false, env);
      await ledger.reset();
      io.stdout.write(`Forgot the snapshot of ${config.spec.name}; the next run sends every row.\n`);
      return EXIT.ok;
    }
    const parts = await openSyncParts(config, { apiKeyFile: flags.apiKeyFile, env });
    const knock = parts.kind === 'knock';
    const firstRunOf = firstRunCheck(config);
    await using ledger = await openLedger(config, false, env);
    const firstRun = await firstRunOf(ledger);
    // The ETA comes from Knock's tier ceilings: known on the first line with a saved plan, else once staged
    // (nothing confirmed yet: every row is an add) or diffed.
    const eta = extra.saved ? ` · ETA ≈ ${duration(extra.saved.estimate.seconds)} at Knock's rate limits` : '';
    if (!flags.json)
      io.stderr.write(
        `Syncline ${version} · run · ${config.spec.name} → ${knock ? `Knock ${config.spec.target.type} (${parts.baseUrl})` : parts.label}${eta}\n${extra.saved ? 'Reading model…\n' : ''}`,
      );
    const stopTimeout = Number(flags.stopTimeout ?? 10);
    if (!Number.isFinite(stopTimeout) || stopTimeout < 0)
      throw new SyncError('invalid_option', `--stop-timeout ${flags.stopTimeout}: expected a number of seconds, e.g. 10`);
    let inFlight = 0;
    const signals = handleStopSignals(io, stopTimeout * 1000, () => inFlight);
    const progress = createProgressPrinter(io, { json: flags.json ?? false, style: styleFor(io.stderr, noColor), env: io.env });
    // The progress ETA starts from Knock's rate limits (the same figure as the first line), then follows the
    // measured, smoothed rate.
    if (extra.saved) progress.seed(extra.saved.estimate.seconds);
    // Nothing confirmed yet (a first sync, maybe resumed after a kill before any commit): every model row is
    // an add, so the ETA is known as soon as the model is staged, before the key checks and the diff (which
    // for 10M rows take seconds). The diff's exact line follows only if it says otherwise.
    const nothingKnown = !extra.saved && (await ledger.knownSize()) === 0;
    const showEta = (counts: DiffCounts, shown?: string): string => {
      // Knock's rate tiers give the ETA; another destination's pace is unknown until it sends.
      if (!knock) return '';
      const send = sendEta(parts.destination, config.spec.target, counts, extra.maxRows, config.destination.tiers);
      if (send.line === shown) return send.line;
      if (!flags.json) io.stderr.write(send.line);
      if (send.seconds !== undefined) progress.seed(send.seconds);
      return send.line;
    };
    let earlyEta: string | undefined;
    try {
      const result = await runSync({
        spec: config.spec,
        source: parts.source,
        destination: parts.destination,
        ledger,
        fullResync: flags.fullResync ?? false,
        allowMassDelete: flags.allowMassDelete ?? false,
        signal: signals.stop,
        hardSignal: signals.hard,
        onEvent: (e) => {
          if (e.type === 'calls') inFlight = e.inFlight;
          if (e.type === 'phase' && e.name === 'stage' && e.status === 'end' && nothingKnown)
            earlyEta = showEta({ add: Number(e.detail?.rows ?? 0), change: 0, remove: 0 });
          if (e.type === 'phase' && e.name === 'diff' && e.status === 'end') {
            if (knock && firstRun && Number(e.detail?.add) > 0)
              io.stderr.write(firstRunNotice(Number(e.detail!.add), file, config.destination.tiers));
            if (!extra.saved && e.detail) showEta(e.detail as DiffCounts, earlyEta);
          }
          progress.onEvent(e);
        },
        ...(extra.saved ? { expectDigests: extra.saved.digests } : {}),
        ...(extra.maxRows === undefined ? {} : { maxRows: extra.maxRows }),
        ...(extra.maxDurationMs === undefined ? {} : { maxDurationMs: extra.maxDurationMs }),
      });
      progress.close();
      // A mistake in the config (file:line:col on stderr, exit 2) instead of the run summary.
      const problem = result.error && configProblem(config, result.error);
      if (problem) io.stderr.write(problem.text);
      else if (flags.json) io.stdout.write(JSON.stringify(runJson(result)) + '\n');
      else
        io.stdout.write(
          formatRunSummary(result, { key: config.spec.key, file }, performance.now() - t0, styleFor(io.stdout, noColor)) + '\n',
        );
      await (await import('./alert-hook.js')).runAlerts({ config, file, result, ledger, io, env });
      if (problem) return problem.exit;
      if (result.error?.code === 'plan_stale') return EXIT.usage;
      return result.status === 'succeeded' || (result.status === 'stopped' && result.rows.failed === 0)
        ? EXIT.ok
        : result.status === 'stopped'
          ? EXIT.rowsFailed
          : result.status === 'partial'
            ? EXIT.rowsFailed
            : result.status === 'aborted'
              ? (signals.exitCode() ?? EXIT.interrupted)
              : result.status === 'resume_later'
                ? EXIT.resumeLater
                : result.error?.code === 'config_invalid'
                  ? EXIT.usage
                  : EXIT.failed;
    } finally {
      signals.dispose();
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
  const { loadConfig } = await import('./load-config.js');
  return withEnv(io, (env) => fn(loadConfig(file, env, { modules: true }), env));
}

/** The environment with `./.env` under it, and errors mapped to exit codes as {@link withConfig} does. */
export async function withEnv(io: Io, fn: (env: NodeJS.ProcessEnv) => Promise<number>): Promise<number> {
  const { isSyncError, redact } = await import('@syncline/core');
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
