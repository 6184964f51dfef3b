import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LineCounter, parseDocument, isScalar, type Document } from 'yaml';
import type { z } from 'zod';
import { SyncError, closest } from '@syncline/core';

/** A YAML config file read, interpolated and validated, with positions for later errors. */
export interface YamlConfig<T> {
  /** Absolute path. */
  file: string;
  text: string;
  doc: Document;
  data: T;
  /** `file:line:col` (the path as given) of an offset in the text; the bare path without one. */
  where(offset: number | undefined): string;
}

/**
 * Reads a YAML config and validates it with `schema`. `${NAME}` in any string is replaced by the environment
 * variable (an unset variable is an error naming it). Errors name `file:line:col path: problem`.
 * @example const { data } = readYamlConfig('syncline.yaml', workspaceSchema, process.env)
 */
export function readYamlConfig<S extends z.ZodType>(
  path: string,
  schema: S | ((raw: unknown) => S),
  env: NodeJS.ProcessEnv,
): YamlConfig<z.output<S>> {
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
  const raw = doc.toJS();
  const parsed = (typeof schema === 'function' ? schema(raw) : schema).safeParse(raw);
  if (!parsed.success) throw configIssue(doc, where, parsed.error.issues[0]!);
  return { file, text, doc, data: parsed.data as z.output<S>, where };
}

/**
 * The error of a zod issue found in a YAML config: `file:line:col path: problem`, at the node the issue's
 * path (under `prefix`, for a schema that validated a part of the config) names; an unknown key at the key.
 * @example throw configIssue(doc, where, result.error.issues[0], ['sync'])
 */
export function configIssue(
  doc: Document,
  where: (offset: number | undefined) => string,
  issue: z.core.$ZodIssue,
  prefix: readonly string[] = [],
): SyncError {
  const at = [...prefix, ...issue.path.map(String)];
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
  const message = issue.code === 'unrecognized_keys' ? 'unknown key' : (choiceProblem(issue, doc.getIn(at)) ?? issue.message);
  return new SyncError('config_invalid', `${where(node?.range?.[0])} ${label}: ${message}`, { details: { path: at } });
}

/**
 * A value that must be one of a few words (an enum, or the tag of a tagged union such as `channel:`), said
 * with the choices and the closest one: `"slak" is not one of slack, pagerduty, … (did you mean "slack"?)`.
 */
function choiceProblem(issue: z.core.$ZodIssue, actual: unknown): string | undefined {
  const raw = issue as { values?: unknown[]; options?: unknown[] };
  const choices = (raw.values ?? raw.options)?.filter((v): v is string => typeof v === 'string');
  // A message the schema states itself (not zod's own "Invalid …") says more than the list of choices.
  if (!choices?.length || typeof actual !== 'string' || !issue.message.startsWith('Invalid')) return undefined;
  const hint = closest(actual, choices);
  return `"${actual}" is not one of ${choices.join(', ')}${hint ? ` (did you mean "${hint}"?)` : ''}`;
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
