import { afterAll, beforeAll } from 'vitest';
import { realPostgres, runSql, startPostgres, type TestDatabase } from '@syncline/test-utils/postgres-server';
import { TYPE_SETUP } from './type-cases.js';

/**
 * A throwaway cluster (initdb + pg_ctl) on a free 127.0.0.1 port, holding the type-mapping tables; `skip` when
 * the server is not installed (said in one line), a failure under CI=true (.ci/run installs it).
 */
export const server = realPostgres();

/**
 * Starts the cluster for the enclosing `describe` (with `TYPE_SETUP` run in it) and stops it afterwards.
 * @example const db = useRealPostgres(); test('…', async () => { await runSql(db().url, '…') });
 */
export function useRealPostgres(): () => TestDatabase {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    if (server.skip) return;
    db = await startPostgres(server.bin);
    await runSql(db.url, TYPE_SETUP);
  }, 120_000);
  afterAll(() => db?.stop());
  return () => db!;
}
