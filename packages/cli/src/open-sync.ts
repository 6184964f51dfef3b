import { readFileSync } from 'node:fs';
import { SyncError, openDuckdbLedger, ledgerExists, type Destination, type Ledger, type Source } from '@syncline/core';
import { duckdbSource } from '@syncline/source-duckdb';
import { openPostgresLedger, postgresSource } from '@syncline/source-postgres';
import { knockDestination } from '@syncline/destination-knock';
import type { LoadedConfig } from './load-config.js';
import { displayUrl } from './format.js';

export interface SyncParts {
  source: Source;
  destination: Destination;
  /** `knock`, or `module`: a destination the config names by module (the Knock-only lines are left out). */
  kind: 'knock' | 'module';
  /** Where rows go, as the plan's header says it: `Knock <url> (key from …)`, or `webhook (module ./x.js)`. */
  label: string;
  /** The Knock base URL as shown to the user: any `user:password@` part (a key put there) removed. */
  baseUrl: string;
  keyFrom: string;
}

/** Where the API key comes from: the config (after `${ENV}` interpolation), `--api-key-file`, or KNOCK_API_KEY. */
export function resolveApiKey(
  config: LoadedConfig,
  apiKeyFile: string | undefined,
  env: NodeJS.ProcessEnv,
): { apiKey: string; from: string } {
  if (apiKeyFile) {
    let text: string;
    try {
      text = readFileSync(apiKeyFile === '-' ? 0 : apiKeyFile, 'utf8').trim();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException)?.code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a folder' : code;
      throw new SyncError('config_invalid', `--api-key-file ${apiKeyFile}: cannot read the file (${why ?? 'unreadable'})`);
    }
    if (!text) throw new SyncError('config_invalid', `--api-key-file ${apiKeyFile}: the file is empty`);
    return { apiKey: text, from: apiKeyFile === '-' ? 'stdin' : apiKeyFile };
  }
  if (config.destination.apiKey) return { apiKey: config.destination.apiKey, from: 'the config' };
  if (env.KNOCK_API_KEY) return { apiKey: env.KNOCK_API_KEY, from: 'KNOCK_API_KEY' };
  throw new SyncError(
    'config_invalid',
    'no Knock API key: set KNOCK_API_KEY (or use --api-key-file PATH); for a local emulator run `syncline emulator` and set KNOCK_BASE_URL too',
  );
}

/**
 * The sync's source and destination. `offline` (`plan --offline`): nothing is sent, so a missing key is no
 * error (the destination gets a placeholder it never uses).
 */
export async function openSyncParts(
  config: LoadedConfig,
  opts: { apiKeyFile?: string | undefined; env?: NodeJS.ProcessEnv; offline?: boolean },
): Promise<SyncParts> {
  const env = opts.env ?? process.env;
  const d = config.destination;
  if (d.type === 'module') {
    const { openModuleDestination } = await import('./module-destination.js');
    // The config itself (not a copy): loading the module sets its spec's target.
    const destination = await openModuleDestination(config as LoadedConfig & { destination: typeof d });
    // The source opens after the module, so a bad module fails before any connection.
    return {
      source: openSource(config, env),
      destination,
      kind: 'module',
      label: `${destination.name} (module ${d.module})`,
      baseUrl: '',
      keyFrom: 'none',
    };
  }
  const offlineKey = opts.offline && !opts.apiKeyFile && !config.destination.apiKey && !env.KNOCK_API_KEY;
  const { apiKey, from } = offlineKey ? { apiKey: 'unused-offline', from: 'none: --offline' } : resolveApiKey(config, opts.apiKeyFile, env);
  const baseUrl = config.destination.baseUrl ?? env.KNOCK_BASE_URL ?? 'https://api.knock.app';
  const serviceToken = config.destination.serviceToken ?? env.KNOCK_SERVICE_TOKEN;
  return {
    source: openSource(config, env),
    destination: knockDestination({
      apiKey,
      baseUrl, // the raw URL: userinfo is stripped only where it is shown
      ...(serviceToken ? { serviceToken } : {}),
      ...(config.destination.tiers ? { tiers: config.destination.tiers } : {}),
    }),
    kind: 'knock',
    label: `Knock ${displayUrl(baseUrl)} (key from ${from})`,
    baseUrl: displayUrl(baseUrl),
    keyFrom: from,
  };
}

/**
 * The config's source. DuckDB: the model reads only the config's folder, its tables and `source.allowPaths`
 * (issue 11 §1). Postgres: the model runs in Postgres (read-only) and streams into the local ledger; the URL
 * defaults to `DATABASE_URL`.
 */
export function openSource(config: LoadedConfig, env: NodeJS.ProcessEnv = process.env): Source {
  const s = config.source;
  if (s.type === 'postgres') {
    return postgresSource({
      url: postgresUrl(config, env),
      baseDir: config.dir,
      ...(s.ssl !== undefined ? { ssl: s.ssl } : {}),
      ...(s.batchSize ? { batchSize: s.batchSize } : {}),
    });
  }
  return duckdbSource({ tables: s.tables, baseDir: config.dir, allowPaths: s.allowPaths ?? [], restrictFiles: true });
}

/**
 * The sync's ledger: the DuckDB file beside the config (a dry run before any real run uses a throwaway one,
 * so planning changes no state), or with `source.ledger: warehouse` the tables in Postgres (schema
 * `source.schema`, created by the first run; a dry run creates nothing).
 */
export function openLedger(config: LoadedConfig, dryRun: boolean, env: NodeJS.ProcessEnv = process.env): Promise<Ledger> {
  const s = config.source;
  if (s.type === 'postgres' && s.ledger === 'warehouse') {
    const { memoryLimit: _m, threads: _t, ...rest } = config.ledger;
    return openPostgresLedger({
      url: postgresUrl(config, env),
      sync: config.spec.name,
      baseDir: config.dir,
      ...(s.ssl !== undefined ? { ssl: s.ssl } : {}),
      ...(s.batchSize ? { batchSize: s.batchSize } : {}),
      ...(s.schema ? { schema: s.schema } : {}),
      // A dry run creates nothing in Postgres (a fresh schema is planned against empty temporary tables).
      create: !dryRun,
      ...rest,
    });
  }
  const path = dryRun && !ledgerExists(config.ledgerPath) ? ':memory:' : config.ledgerPath;
  return openDuckdbLedger({ path, ...config.ledger });
}

/**
 * Whether the sync has never run, asked before its ledger is opened (opening a DuckDB ledger creates its
 * file): no ledger file, or (warehouse) no run recorded in Postgres, which the returned check reads once
 * the ledger is open.
 * @example const firstRun = firstRunCheck(config); await using ledger = await openLedger(config, false); if (await firstRun(ledger)) …
 */
export function firstRunCheck(config: LoadedConfig): (ledger: Ledger) => Promise<boolean> {
  const s = config.source;
  if (s.type === 'postgres' && s.ledger === 'warehouse') return async (ledger) => (await ledger.runs(1)).length === 0;
  const none = !ledgerExists(config.ledgerPath);
  return async () => none;
}

/** The Postgres URL of the config (`source.url`, else `DATABASE_URL`). */
function postgresUrl(config: LoadedConfig, env: NodeJS.ProcessEnv): string {
  const url = (config.source.type === 'postgres' ? config.source.url : undefined) ?? env.DATABASE_URL;
  if (!url) throw new SyncError('config_invalid', `${config.file}: source.url: required (or set DATABASE_URL)`);
  return url;
}
