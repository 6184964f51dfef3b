import type { DuckDBConnection } from '@duckdb/node-api';

/** Status of a run record written when a run starts; replaced by its outcome when the run ends. */
export const RUNNING = 'running';
/** Status of a run that never closed its record (the process was killed hard, or the machine stopped). */
export const CRASHED = 'crashed';

/**
 * Closes the records of runs that started but never finished as `crashed`, with the time of their last
 * commit (the latest of their confirmed snapshot rows and their in-doubt marks; the start when none) and
 * how many rows they confirmed. Called when a run starts: it holds the ledger's lock, so no run that is
 * still `running` can be alive. Returns the run ids closed.
 */
export async function closeCrashedRuns(conn: DuckDBConnection): Promise<string[]> {
  const r = await conn.runAndReadAll(
    `UPDATE runs SET
       status = '${CRASHED}',
       finished_at = coalesce(greatest(
         (SELECT max(synced_at) FROM snapshot s WHERE s.run_id = runs.run_id),
         (SELECT max(since) FROM in_doubt d WHERE d.run_id = runs.run_id)), started_at),
       counts = json_object('synced', (SELECT count(*) FROM snapshot s WHERE s.run_id = runs.run_id),
                            'inDoubt', (SELECT count(*) FROM in_doubt d WHERE d.run_id = runs.run_id))::VARCHAR,
       error = json_object('code', '${CRASHED}', 'message',
         'the process stopped without closing this run (killed or the machine stopped); rows it confirmed were kept, rows in doubt are sent again')::VARCHAR
     WHERE status = '${RUNNING}'
     RETURNING run_id`,
  );
  return r.getRowObjectsJson().map((x) => String(x.run_id));
}
