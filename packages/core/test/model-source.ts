import { afterEach } from 'vitest';
import { openDuckdbLedger, type DuckdbLedger, type Source } from '../src/index.js';

/** A model row of the tests' `people` table; `null` is SQL NULL. */
export interface PersonRow {
  id: string | null;
  email: string | null;
  plan?: string | null;
  note?: string | null;
}

/**
 * A source whose table `people (id, email, plan, note)` holds the given rows, created in the ledger's
 * connection on `attach` (as the DuckDB file source does with views).
 */
export function tableSource(rows: readonly PersonRow[]): Source {
  return {
    name: 'inline',
    describe: async () => [],
    read: async function* () {},
    async attach(conn) {
      await conn.run(`CREATE OR REPLACE TEMP TABLE people (id VARCHAR, email VARCHAR, plan VARCHAR, note VARCHAR)`);
      if (rows.length === 0) return;
      const ap = await conn.createAppender('people', 'main', 'temp');
      for (const r of rows) {
        for (const v of [r.id, r.email, r.plan === undefined ? 'free' : r.plan, r.note ?? ''])
          v === null ? ap.appendNull() : ap.appendVarchar(v);
        ap.endRow();
      }
      ap.closeSync();
    },
  };
}

/** What the memory destination should hold for a model row mapped with `{ email, plan }`. */
export const expectedRecord = (r: PersonRow): Record<string, unknown> => ({ email: r.email, plan: r.plan === undefined ? 'free' : r.plan });

/** Opens ledgers (in memory by default) that are closed after each test. */
export function trackLedgers(): (path?: string) => Promise<DuckdbLedger> {
  let ledgers: DuckdbLedger[] = [];
  afterEach(async () => {
    for (const l of ledgers) await l.close();
    ledgers = [];
  });
  return async (path = ':memory:') => {
    const l = await openDuckdbLedger({ path });
    ledgers.push(l);
    return l;
  };
}
