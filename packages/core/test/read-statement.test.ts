import { DuckDBInstance } from '@duckdb/node-api';
import { expect, test } from 'vitest';
import { checkReadStatement, readStatementProblem } from '../src/index.js';

// The one check of user SQL (models in runSync, the server's /api/query): each caller words the problem.
test('readStatementProblem: one read statement passes; anything else is named by kind', async () => {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  await conn.run('create table users (id varchar, email varchar)');
  await conn.run('create table snapshot (k varchar)');
  for (const ok of ['select * from users', 'from users', 'values (1)', 'describe users', 'summarize users', 'select * from nosuch'])
    expect(await readStatementProblem(conn, ok), ok).toBeUndefined();
  expect(await readStatementProblem(conn, 'selec 1')).toMatchObject({ kind: 'unparsable' });
  expect(await readStatementProblem(conn, 'select 1; select 2')).toEqual({ kind: 'count', count: 2, types: ['SELECT', 'SELECT'] });
  expect(await readStatementProblem(conn, "copy users to 'x.csv'")).toEqual({ kind: 'not_read', type: 'COPY', keyword: 'COPY' });
  // DuckDB types PRAGMA as SET: the keyword keeps what the user wrote.
  expect(await readStatementProblem(conn, '/* hi */ pragma threads=8')).toEqual({ kind: 'not_read', type: 'SET', keyword: 'PRAGMA' });
  expect(await readStatementProblem(conn, "select * from query('select 1')")).toEqual({ kind: 'sql_function', name: 'query' });
  expect(await readStatementProblem(conn, 'select * from snapshot', { forbidden: ['snapshot'] })).toEqual({
    kind: 'forbidden_table',
    table: 'snapshot',
  });
  await expect(checkReadStatement(conn, 'delete from users')).rejects.toThrow(
    /^model: must be exactly one read query: SELECT \(or WITH … SELECT, VALUES, FROM …\); found one DELETE statement$/,
  );
  conn.closeSync();
});
