import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LineCounter, parseDocument, isScalar, type Document } from 'yaml';
import { z } from 'zod';
import { SyncError, syncSpecFieldsSchema, toSyncSpec, type SyncSpec } from '@syncline/core';
import { duckdbSourceOptionsSchema } from '@syncline/source-duckdb';

const sourceSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('duckdb'), ...duckdbSourceOptionsSchema.omit({ baseDir: true }).shape }),
]);

const destinationSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('knock'),
    /** Normally from KNOCK_API_KEY; `${KNOCK_API_KEY}` interpolation also works. */
    apiKey: z.string().min(1).optional(),
    baseUrl: z.url().optional(),
    serviceToken: z.string().min(1).optional(),
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
});

/** The whole config file: a sync spec plus where its rows come from and go to. */
export const configSchema = syncSpecFieldsSchema.extend({
  source: sourceSchema,
  destination: destinationSchema,
  ledger: ledgerSchema.optional(),
});

export interface LoadedConfig {
  file: string;
  dir: string;
  spec: SyncSpec;
  source: z.infer<typeof sourceSchema>;
  destination: z.infer<typeof destinationSchema>;
  /** `.syncline/<name>.duckdb` beside the config. */
  ledgerPath: string;
  /** The config's `ledger:` block (memory limit, threads). */
  ledger: z.infer<typeof ledgerSchema>;
}

/**
 * Reads and validates a sync config (YAML). `${NAME}` in any string is replaced by the environment
 * variable (an unset variable is an error naming it). Errors name `file:line:col path: problem`.
 * @example const config = loadConfig('examples/users/sync.yaml')
 */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new SyncError('config_invalid', `${path}: cannot read the config file`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const where = (offset: number | undefined): string => {
    if (offset === undefined) return path;
    const p = lines.linePos(offset);
    return `${path}:${p.line}:${p.col}`;
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]! as { pos: [number, number]; message: string };
    throw new SyncError('config_invalid', `${where(e.pos[0])} ${e.message.split('\n')[0]}`);
  }
  interpolate(doc, env, (node, name) => {
    throw new SyncError('config_invalid', `${where(node.range?.[0])} environment variable ${name} is not set`);
  });
  const parsed = configSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.map(String);
    let node = doc.getIn(at, true) as { range?: [number, number, number] } | undefined;
    // For unknown keys zod points at the parent map; point at the key itself.
    if (issue.code === 'unrecognized_keys') {
      const parent = (at.length ? doc.getIn(at, true) : doc.contents) as {
        items?: { key?: { value?: unknown; range?: [number, number, number] } }[];
      } | null;
      node = parent?.items?.find((p) => p.key?.value === issue.keys[0])?.key ?? node;
      at.push(issue.keys[0]!);
    }
    for (let i = at.length; !node && i > 0; i--) node = doc.getIn(at.slice(0, i), true) as typeof node;
    const label = at.length ? at.join('.') : 'config';
    const message = issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message;
    throw new SyncError('config_invalid', `${where(node?.range?.[0])} ${label}: ${message}`, { details: { path: at } });
  }
  const c = parsed.data;
  const dir = dirname(file);
  return {
    file,
    dir,
    spec: toSyncSpec(c),
    source: c.source,
    destination: c.destination,
    ledgerPath: join(dir, '.syncline', `${c.name}.duckdb`),
    ledger: c.ledger ?? {},
  };
}

function interpolate(
  doc: Document,
  env: NodeJS.ProcessEnv,
  missing: (node: { range?: [number, number, number] | null }, name: string) => never,
): void {
  const visit = (node: unknown): void => {
    if (isScalar(node)) {
      if (typeof node.value === 'string' && node.value.includes('${'))
        node.value = node.value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? missing(node as never, name));
      return;
    }
    const items = (node as { items?: unknown[] } | null)?.items;
    if (Array.isArray(items))
      for (const it of items) {
        const pair = it as { key?: unknown; value?: unknown };
        if (pair && 'value' in pair && 'key' in pair) visit(pair.value);
        else visit(it);
      }
  };
  visit(doc.contents);
}
