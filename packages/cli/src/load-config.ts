import { dirname, join } from 'node:path';
import { z } from 'zod';
import {
  SyncError,
  syncBlockFor,
  syncBlockSchema,
  syncSpecFieldsSchema,
  toSyncSpec,
  type Destination,
  type SyncSpec,
} from '@syncline/core';
import { duckdbSourceOptionsSchema } from '@syncline/source-duckdb';
import { postgresSourceOptionsSchema } from '@syncline/source-postgres';
import { knockTargetSchema, knockTiersSchema, type KnockTargetFields } from '@syncline/destination-knock';
import { alertsSchema, scheduleSchema, type AlertChannelConfig, type Schedule } from '@syncline/alerts';
import { configIssue, readYamlConfig } from './yaml-config.js';

const sourceSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('duckdb'), ...duckdbSourceOptionsSchema.omit({ baseDir: true, restrictFiles: true }).shape }),
  z.strictObject({
    type: z.literal('postgres'),
    ...postgresSourceOptionsSchema.omit({ baseDir: true }).shape,
    /**
     * Where the snapshot and the diff live. `local` (the default): the model streams from Postgres into the
     * sync's DuckDB ledger. `warehouse`: the snapshot, the diff and the run records live in Postgres (schema
     * `schema`), and only changed rows leave it.
     */
    ledger: z
      .enum(['local', 'warehouse'], { error: 'expected "local" (the DuckDB ledger beside the config) or "warehouse" (in Postgres)' })
      .default('local'),
    /** Warehouse ledger: the schema of its tables. Default `syncline`. */
    schema: z.string().min(1).max(63).optional(),
  }),
]);

/**
 * A destination written as a JavaScript module (issue 15): `module` is a path relative to the config's folder
 * (`./my-destination.js`) or a package name; its default export (or `export`, or its only destination-like
 * export) is a `Destination` or a function receiving the block's other keys that returns one. Loading it
 * runs its code: it is trusted as the config and its SQL model are.
 */
const moduleDestinationSchema = z.looseObject({
  type: z.literal('module'),
  module: z.string().min(1),
  /** The export to use when the module has no default export and more than one destination-like export. */
  export: z.string().min(1).optional(),
});

/** A module destination's block: its options are the keys beside `type`, `module` and `export`. */
export type ModuleDestinationConfig = {
  type: 'module';
  module: string;
  export?: string | undefined;
  /** The block's other keys, passed to the module's factory. */
  options: Record<string, unknown>;
  // Knock's keys, absent: code reading them for a Knock destination reads `undefined`.
  apiKey?: undefined;
  baseUrl?: undefined;
  serviceToken?: undefined;
  tiers?: undefined;
};

const destinationSchema = z.discriminatedUnion('type', [
  moduleDestinationSchema,
  z.strictObject({
    type: z.literal('knock'),
    /** Normally from KNOCK_API_KEY; `${KNOCK_API_KEY}` interpolation also works. */
    apiKey: z.string().min(1).optional(),
    baseUrl: z.url().optional(),
    serviceToken: z.string().min(1).optional(),
    /** Requests per second per Knock rate tier (`{ 1: 1, 3: 60 }`, Knock's defaults for the rest), or `off`. */
    tiers: knockTiersSchema.optional(),
  }),
]);

/** How the sync's DuckDB ledger (snapshot, diff, run records) may use the machine. */
const ledgerSchema = z.strictObject({
  /** DuckDB `memory_limit`; beyond it DuckDB spills to `.syncline/<name>.duckdb.tmp`. Default: DuckDB's (80 % of RAM). */
  memoryLimit: z
    .string()
    .regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'a size such as 1.5GB or 512MB')
    .optional(),
  /** DuckDB worker threads. Default 2. */
  threads: z.number().int().min(1).max(256).optional(),
  /** Per-row results and HTTP exchanges kept: runs of the last `days` (default 90), at most the last `runs`. */
  retention: z.strictObject({ days: z.number().int().min(0).optional(), runs: z.number().int().min(1).optional() }).optional(),
  /**
   * Confirmed rows are written to the ledger together, at most this many ms after their confirmation
   * (a kill in between only resends them). Default 200.
   */
  commitWindowMs: z.number().int().min(0).max(60_000).optional(),
  /** Confirmed rows that start a ledger write before the window ends. Default 5,000. */
  commitWindowRows: z.number().int().min(1).optional(),
});

/** The whole config file: a sync spec plus where its rows come from and go to. */
export const configSchema = syncSpecFieldsSchema.extend({
  /** Core's keys (fields, onDelete, nulls) and the Knock destination's (type, mode, collection, audience…). */
  sync: syncBlockFor(knockTargetSchema),
  source: sourceSchema,
  destination: destinationSchema,
  ledger: ledgerSchema.optional(),
  /** Where to alert on a change of status; replaces the folder's `syncline.yaml` alerts when present. */
  alerts: alertsSchema.optional(),
  /** When `syncline schedule` runs the sync: cron, or `{ every: 15m }`. */
  schedule: scheduleSchema.optional(),
});

/**
 * A config whose destination is a module: its `sync:` block is checked for core's keys here, and for the
 * destination's own once the module is loaded (`LoadedConfig.useDestination`).
 */
export const moduleConfigSchema = configSchema.extend({ sync: syncBlockSchema });

/**
 * The schema of a config as read: Knock's unless the config names a module destination.
 * @example readYamlConfig(file, configSchemaFor, env)
 */
export function configSchemaFor(raw: unknown): typeof configSchema {
  const type = (raw as { destination?: { type?: unknown } } | null)?.destination?.type;
  return (type === 'module' ? moduleConfigSchema : configSchema) as typeof configSchema;
}

/** The Knock destination's block. */
export type KnockDestinationConfig = Extract<z.infer<typeof destinationSchema>, { type: 'knock' }>;

export interface LoadedConfig {
  file: string;
  dir: string;
  /** For a module destination, its target is checked and typed once `useDestination` is called. */
  spec: SyncSpec<KnockTargetFields>;
  source: z.infer<typeof sourceSchema>;
  destination: KnockDestinationConfig | ModuleDestinationConfig;
  /**
   * Validates the `sync:` block with a module destination's `targetSchema` (`file:line:col` errors, as for
   * Knock) and sets `spec` from it.
   */
  useDestination(destination: Pick<Destination, 'name' | 'targetSchema'>): void;
  /** `.syncline/<name>.duckdb` beside the config. */
  ledgerPath: string;
  /** The config's `ledger:` block (memory limit, threads). */
  ledger: z.infer<typeof ledgerSchema>;
  /** The sync's own `alerts:` (undefined: inherit the folder's `syncline.yaml`). */
  alerts: AlertChannelConfig[] | undefined;
  schedule: Schedule | undefined;
  /**
   * `file:line:col` of a node of the YAML (as given on the command line), for errors found after parsing:
   * `locate(['sync', 'fields', 'email'])` points at the column name the field maps from. Falls back to the
   * nearest parent that exists.
   */
  locate(path: readonly string[]): string;
  /** `file:line:col` of a position (1-based) inside the model's SQL, e.g. from DuckDB's `LINE 2:` and caret. */
  locateModel(line: number, column: number): string;
}

/**
 * Reads and validates a sync config (YAML). `${NAME}` in any string is replaced by the environment
 * variable (an unset variable is an error naming it). Errors name `file:line:col path: problem`.
 * @example const config = loadConfig('examples/users/sync.yaml')
 */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env, opts: { modules?: boolean } = {}): LoadedConfig {
  const { file, text, doc, data: c, where } = readYamlConfig(path, configSchemaFor, env);
  const dir = dirname(file);
  const nodeAt = (at: readonly string[]): { range?: [number, number, number] | null } | undefined => {
    for (let i = at.length; i > 0; i--) {
      const node = doc.getIn(at.slice(0, i), true) as { range?: [number, number, number] | null } | undefined;
      if (node?.range) return node;
    }
    return undefined;
  };
  const block = c.destination;
  let destination: LoadedConfig['destination'];
  if (block.type === 'module') {
    if (!opts.modules)
      throw new SyncError(
        'config_invalid',
        `${where(nodeAt(['destination', 'type'])?.range?.[0])} destination.type: "module" destinations run with syncline plan, run, validate and schedule; this command supports type: knock only`,
      );
    const { type, module, export: name, ...options } = block;
    destination = { type, module, export: name, options };
  } else destination = block;
  // A module destination's keys are carried as written until its module is loaded and checks them.
  const spec = (
    block.type === 'module' ? toSyncSpec(c) : toSyncSpec(c, { name: 'knock', targetSchema: knockTargetSchema })
  ) as SyncSpec<KnockTargetFields>;
  // The model is `model: <sql>` or `model: { sql: <sql>, timeout: … }`.
  const modelPath = typeof c.model === 'string' ? ['model'] : ['model', 'sql'];
  return {
    useDestination(d) {
      const r = syncBlockFor(d.targetSchema).safeParse(c.sync);
      if (!r.success) throw configIssue(doc, where, r.error.issues[0]!, ['sync']);
      this.spec = toSyncSpec({ ...c, sync: r.data }, d) as SyncSpec<KnockTargetFields>;
    },
    locate: (at) => where(nodeAt(at)?.range?.[0]),
    locateModel: (line, column) => where(modelOffset(text, nodeAt(modelPath)?.range, spec.model, line, column)),
    file,
    dir,
    spec,
    source: c.source,
    destination,
    ledgerPath: join(dir, '.syncline', `${c.name}.duckdb`),
    ledger: c.ledger ?? {},
    alerts: c.alerts,
    schedule: c.schedule,
  };
}

/**
 * The offset in the config text of a line and column of the model's SQL. The model's line is looked up inside
 * the YAML node's source (a block scalar keeps the lines, indented); a line the YAML folded or escaped falls
 * back to the node's start.
 */
function modelOffset(
  text: string,
  range: [number, number, number] | null | undefined,
  model: string,
  line: number,
  column: number,
): number | undefined {
  if (!range) return undefined;
  const source = text.slice(range[0], range[1]);
  const lines = model.split('\n');
  // Line by line from the top, so a repeated line (`from users` twice) maps to the right one.
  let from = 0;
  for (let i = 0; i < line && i < lines.length; i++) {
    const body = lines[i]!.trimStart();
    if (!body) continue;
    const at = source.indexOf(body, from);
    if (at < 0) return range[0];
    if (i === line - 1) return range[0] + at + Math.max(0, column - 1 - (lines[i]!.length - body.length));
    from = at + body.length;
  }
  return range[0];
}
