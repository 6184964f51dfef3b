import { fieldCatalog, ROW_RULES, type KnockTargetFields } from '@syncline/destination-knock';
import type { SyncSpec } from '@syncline/core';
import type { SqlSandbox } from './sql-sandbox.js';

/** One mapped field's check over the whole model: how many values Knock would refuse, with a few of them. */
export interface ValueCheck {
  field: string;
  column: string;
  /** The rule checked (`email`, `e164`, `timezone`, …) or `text` for a column that is not text. */
  rule: string;
  /** Non-null values of the column in the model. */
  values: number;
  invalid: number;
  /** `invalid` is estimated: more values than {@link MAX_CANDIDATES} needed JavaScript, and a share of them was judged. */
  estimated: boolean;
  /** Up to 3 refused values, shortened to 80 characters. */
  examples: string[];
  /** What a refused value is not: `is not a valid email address`. */
  message: string;
}

/** Values the SQL twin does not clear are read and judged by JavaScript up to this many. */
export const MAX_CANDIDATES = 20_000;
const TEXT = /^(VARCHAR|DATE|TIMESTAMP.*)$/i;

const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;
const short = (v: string): string => (v.length > 80 ? `${v.slice(0, 79)}…` : v);

/**
 * Checks every mapped field that has a Knock rule (email, E.164, IANA time zone, locale, ISO-8601, URL) on
 * every row of the model, in the SQL sandbox: each rule's SQL twin clears most values in DuckDB (it implies the
 * JavaScript rule), and the JavaScript rule itself, as the run applies it, judges the rest. A rule field mapped
 * to a column that is not text is refused whole, as `validateRow` does. Fields without a rule are not listed.
 * @example await valueChecks(config.spec, sandbox) // [{ field: 'email', invalid: 3, examples: ['ann@example', …] }]
 */
export async function valueChecks(
  spec: Pick<SyncSpec<KnockTargetFields>, 'model' | 'target' | 'fields'>,
  sandbox: SqlSandbox,
): Promise<ValueCheck[]> {
  const catalog = new Map(fieldCatalog(spec.target).map((f) => [f.name, f]));
  const model = `(\n${spec.model.trim().replace(/;\s*$/, '')}\n) as model`;
  const types = new Map((await sandbox.query(`select * from ${model}`, 0)).columns.map((c) => [c.name, c.type]));
  const checks: ValueCheck[] = [];
  for (const [field, column] of Object.entries(spec.fields)) {
    const rule = catalog.get(field)?.rule;
    const type = types.get(column);
    if (!rule || !type) continue;
    const col = ident(column);
    const counted = await sandbox.query(`select count(${col}) as n from ${model}`, 1);
    const values = Number(counted.rows[0]?.n ?? 0);
    if (!TEXT.test(type)) {
      const sample = await sandbox.query(`select ${col}::VARCHAR as v from ${model} where ${col} is not null`, 3);
      checks.push({
        field,
        column,
        rule: 'text',
        values,
        invalid: values,
        estimated: false,
        examples: sample.rows.map((r) => short(String(r.v))),
        message: `is a ${type}, not text`,
      });
      continue;
    }
    const { test, sql, message } = ROW_RULES[rule];
    const v = `${col}::VARCHAR`;
    const candidates = await sandbox.query(
      `select ${v} as v from ${model} where ${col} is not null${sql ? ` and not coalesce(${sql(v)}, false)` : ''}`,
      MAX_CANDIDATES,
    );
    const refused = candidates.rows.map((r) => String(r.v)).filter((x) => !test(x));
    // Beyond the candidates read, the refused share of those read is extrapolated (and said to be an estimate).
    const estimated = candidates.total > candidates.rows.length;
    const invalid = estimated ? Math.round((refused.length / Math.max(1, candidates.rows.length)) * candidates.total) : refused.length;
    checks.push({ field, column, rule, values, invalid, estimated, examples: refused.slice(0, 3).map(short), message });
  }
  return checks;
}
