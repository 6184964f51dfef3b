import pg from 'pg';
import type { LedgerUnderTest, PersonRow } from '@syncline/test-utils/ledger-conformance';
import { openPostgresLedger, postgresSource } from '../src/index.js';

let schemas = 0;

/**
 * The warehouse ledger as the conformance suite drives it: each test opens a ledger in a schema of its own,
 * and the suite's rows are loaded into the database's `people` table, which the model reads in Postgres.
 */
export function warehouseLedgerUnderTest(url: () => string): LedgerUnderTest {
  return {
    open: () => openPostgresLedger({ url: url(), sync: 'conformance', schema: `syncline_c${process.pid}_${++schemas}` }),
    async source(rows: readonly PersonRow[]) {
      await loadPeople(url(), rows);
      return postgresSource({ url: url() });
    },
  };
}

/** Replaces the rows of the table `people (id, email, plan)`. */
export async function loadPeople(url: string, rows: readonly { id: string; email: string; plan: string }[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS people (id text, email text, plan text)`);
    await client.query(`TRUNCATE people`);
    if (rows.length)
      await client.query(`INSERT INTO people SELECT * FROM unnest($1::text[], $2::text[], $3::text[])`, [
        rows.map((r) => r.id),
        rows.map((r) => r.email),
        rows.map((r) => r.plan),
      ]);
  } finally {
    await client.end();
  }
}
