import type pgModule from 'pg';
import type CursorClass from 'pg-cursor';

export interface PgDriver {
  pg: typeof pgModule;
  Cursor: typeof CursorClass;
}

let loaded: Promise<PgDriver> | undefined;

/**
 * The `pg` driver and `pg-cursor`, loaded on the first connection instead of on import: the CLI imports this
 * package to read any config (its options schema), and loading the driver cost ~100 ms of every command's
 * start-up, DuckDB syncs included.
 * @example const { pg, Cursor } = await loadPg(); const client = new pg.Client(config);
 */
export function loadPg(): Promise<PgDriver> {
  loaded ??= Promise.all([import('pg'), import('pg-cursor')]).then(([p, c]) => ({ pg: p.default, Cursor: c.default }));
  return loaded;
}
