import type { RowSql } from '@syncline/core';
import { SERVER_OWNED_FIELDS } from './field-catalog.js';
import { catalogOf } from './validate-row.js';
import { MAX_CUSTOM_BYTES, ROW_RULES, idSql } from './row-rules.js';
import { type KnockTarget } from './knock-target.js';

/** Column types whose JSON value is a string (projection.ts turns dates and timestamps into ISO text). */
const TEXT = /^(VARCHAR|DATE|TIMESTAMP.*)$/i;

/**
 * The SQL twin of `validateRow` used by large dry runs: TRUE only for rows `validateRow` accepts.
 * @example validRowSql({ type: 'users' }, rowSql('id', { email: 'email' }, columns))
 */
export function validRowSql(target: Pick<KnockTarget, 'type'>, row: RowSql): string {
  const catalog = catalogOf(target.type);
  const tests = [idSql(row.key)];
  let custom = false;
  for (const f of row.fields) {
    // A mapped server-owned field is an issue unless it equals the key: JavaScript decides, row by row.
    if (SERVER_OWNED_FIELDS.has(f.name)) return 'FALSE';
    const spec = catalog.get(f.name);
    if (!spec || spec.name === '*') {
      custom = true;
      continue;
    }
    // A null is skipped; a value that is not a JSON string is a type issue.
    // Each rule's SQL is a sufficient condition of its JavaScript test (row-rules.ts); none: JavaScript decides.
    const rule = spec.rule ? ROW_RULES[spec.rule].sql : undefined;
    const ok = !TEXT.test(f.type) ? 'FALSE' : !spec.rule ? 'TRUE' : rule ? rule(f.value) : 'FALSE';
    if (ok !== 'TRUE') tests.push(`(${f.value} IS NULL OR ${ok})`);
  }
  // JSON.stringify of the custom properties takes at most 24 bytes per byte of DuckDB's payload text
  // (a control character becomes \u001f, a number at most 24 characters).
  // The bound from the raw columns when there is one: then the payload need not be built for every row.
  if (custom) tests.push(`${row.payloadMaxLength ?? `strlen(${row.payload})`} * 24 <= ${MAX_CUSTOM_BYTES}`);
  return tests.join(' AND ');
}
