import { DuckDBInstance } from '@duckdb/node-api';
import { expect, test } from 'vitest';
import { sqlErrorPosition } from '../src/index.js';

/** DuckDB's message for `sql` run as the ledger's describe runs it (`DESCRIBE (\n<sql>\n)`). */
async function describeError(sql: string): Promise<string> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run(`DESCRIBE (\n${sql}\n)`);
    return '';
  } catch (e) {
    return (e as Error).message;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

test('the line and column of a DuckDB error inside the model, also when DuckDB shows a cut window of a long line', async () => {
  const short = 'select id,\n       emial\nfrom (select 1 as id, 2 as email) t';
  expect(sqlErrorPosition(await describeError(short), short, 2)).toEqual({ line: 2, column: 8 });
  const long = `select ${Array.from({ length: 30 }, (_, i) => `${i} as column_number_${i}`).join(', ')}, emial from (select 1 as email) t`;
  expect(sqlErrorPosition(await describeError(long), long, 2)).toEqual({ line: 1, column: long.indexOf('emial') + 1 });
  // A model ending in a comment still parses inside the describe.
  expect(await describeError('select 1 as id -- the key')).toBe('');
  expect(sqlErrorPosition('Parser Error: syntax error at end of input', short, 2)).toBeUndefined();
});
