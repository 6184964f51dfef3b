import type { FieldSpec, Row, RowIssue } from '@syncline/core';
import { idProblem } from './encode-id.js';
import { fieldCatalog, SERVER_OWNED_FIELDS } from './field-catalog.js';
import { MAX_CUSTOM_BYTES, ROW_RULES } from './row-rules.js';
import { type KnockTarget, type KnockSyncType } from './knock-target.js';

const catalogs = new Map<KnockSyncType, Map<string, FieldSpec>>();
/** The field catalog of a target type by field name (built once per type). */
export const catalogOf = (type: KnockSyncType): Map<string, FieldSpec> => {
  let c = catalogs.get(type);
  if (!c) catalogs.set(type, (c = new Map(fieldCatalog({ type }).map((f) => [f.name, f]))));
  return c;
};

/**
 * An upper bound of the UTF-8 size of `JSON.stringify(record)` for a record of strings, numbers, booleans
 * and nulls (NaN when it holds anything else): a UTF-16 unit takes at most 6 bytes in JSON (`\u001f`),
 * a number at most 24 characters. It spares nearly every row a stringify just to learn that it is small.
 */
function jsonBytesAtMost(record: Record<string, unknown>): number {
  let n = 2;
  for (const key in record) {
    const v = record[key];
    n += 6 * key.length + 4;
    if (typeof v === 'string') n += 6 * v.length + 2;
    else if (typeof v === 'number' || typeof v === 'boolean' || v === null) n += 24;
    else return NaN;
  }
  return n;
}

/**
 * Validates one mapped row against the target's field catalog. Returns one issue per bad field; messages
 * name the field and the rule, never the value.
 * @example validateRow({ key: 'u1', payload: { email: 'nope' } }, target) // [{ field: 'email', rule: 'email', … }]
 */
export function validateRow(row: Row, target: Pick<KnockTarget, 'type'>): RowIssue[] {
  const issues: RowIssue[] = [];
  const issue = (field: string, rule: string, message: string): void => {
    issues.push({ key: row.key, field, rule, message: `${field} ${message}` });
  };
  const keyProblem = idProblem(row.key);
  if (keyProblem) issue('key', 'id', `${keyProblem} (it becomes the Knock ${target.type === 'objects' ? 'object' : 'user'} id)`);

  const catalog = catalogOf(target.type);
  const custom: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(row.payload)) {
    const spec = catalog.get(name);
    if (SERVER_OWNED_FIELDS.has(name)) {
      if (!(name === 'id' && value === row.key)) issue(name, 'reserved', 'is set by Knock and cannot be mapped');
      continue;
    }
    if (!spec || spec.name === '*') {
      custom[name] = value;
      continue;
    }
    if (value === null || value === undefined) continue;
    if (typeof value !== 'string') {
      issue(name, 'type', `must be a ${spec.type === 'datetime' ? 'date-time string' : 'string'}`);
      continue;
    }
    const rule = spec.rule ? ROW_RULES[spec.rule] : undefined;
    if (rule && !rule.test(value)) issue(name, spec.rule!, rule.message);
  }
  if (Object.keys(custom).length > 0 && !(jsonBytesAtMost(custom) <= MAX_CUSTOM_BYTES)) {
    let bytes: number;
    try {
      bytes = Buffer.byteLength(JSON.stringify(custom), 'utf8');
    } catch {
      issue('*', 'type', 'custom properties must be JSON values');
      return issues;
    }
    if (bytes > MAX_CUSTOM_BYTES) issue('*', 'size', `custom properties total ${Math.ceil(bytes / 1024)} kB, over Knock's 256 kB`);
  }
  return issues;
}
