import { literal, openDuckdbLedger, type Source } from '@syncline/core';
import { ledgerConformance, type PersonRow } from '../src/ledger-conformance.js';

// Core's DuckDB ledger against the suite every ledger must pass (a warehouse ledger calls it the same way):
// once with the model streamed in (local-ledger mode, the suite's default source) and once with the model
// running inside the ledger's DuckDB connection (`attach`, as files do).
const open = () => openDuckdbLedger({ path: ':memory:' });
ledgerConformance('DuckDB ledger, streamed model', { open });
ledgerConformance('DuckDB ledger, attached model', { open, source: attachedPeople });

/** The rows as a temporary table `people` of the ledger's own connection. */
function attachedPeople(rows: readonly PersonRow[]): Source {
  return {
    name: 'attached',
    describe: async () => [],
    read: async function* () {},
    async attach(connection) {
      await connection.run(`CREATE OR REPLACE TEMP TABLE people (id VARCHAR, email VARCHAR, plan VARCHAR)`);
      if (rows.length)
        await connection.run(
          `INSERT INTO people VALUES ${rows.map((r) => `(${[r.id, r.email, r.plan].map(literal).join(', ')})`).join(', ')}`,
        );
    },
  };
}
