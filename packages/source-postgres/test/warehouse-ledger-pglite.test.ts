import { afterAll, beforeAll, describe } from 'vitest';
import { runSql, startPglite, type TestDatabase } from '@syncline/test-utils/postgres-server';
import { ledgerConformance } from '@syncline/test-utils/ledger-conformance';
import { warehouseLedgerUnderTest } from './warehouse-under-test.js';
import { warehouseTests } from './warehouse-cases.js';
import { fingerprintTests } from './fingerprint-cases.js';
import { TYPE_SETUP } from './type-cases.js';

// The warehouse ledger (snapshot, diff and commits inside Postgres) against the suite every ledger passes,
// on PGlite behind its wire-protocol socket.
let db: TestDatabase;
beforeAll(async () => {
  db = await startPglite();
  await runSql(db.url, TYPE_SETUP);
});
afterAll(() => db?.stop());

describe('warehouse ledger on PGlite', () => {
  ledgerConformance(
    'Postgres warehouse ledger (PGlite)',
    warehouseLedgerUnderTest(() => db.url),
  );
});

describe('warehouse ledger on PGlite: payloads and errors', () => {
  warehouseTests(() => db.url);
});

describe('warehouse ledger on PGlite: row fingerprints', () => {
  fingerprintTests(() => db.url);
});
