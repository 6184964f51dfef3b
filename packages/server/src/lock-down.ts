import type { DuckDBConnection } from '@duckdb/node-api';
import { literal } from '@syncline/core';

/**
 * Locks a DuckDB instance down to the workspace, per DuckDB's "Securing DuckDB" guide: only files under
 * `dir` are readable, nothing else outside is (no other files, no URLs, no extension downloads), and no
 * later `SET` can undo it. These must run after opening: DuckDB refuses them as instance options.
 * @example await lockDown(connection, { dir: '/home/me/workspace' })
 */
export async function lockDown(
  connection: DuckDBConnection,
  opts: { dir: string; memoryLimit?: string; threads?: number; tempDirectory?: string },
): Promise<void> {
  const statements = [
    ...(opts.tempDirectory ? [`SET temp_directory = ${literal(opts.tempDirectory)}`] : []),
    ...(opts.memoryLimit ? [`SET memory_limit = ${literal(opts.memoryLimit)}`] : []),
    ...(opts.threads ? [`SET threads = ${Number(opts.threads)}`] : []),
    `SET autoinstall_known_extensions = false`,
    `SET autoload_known_extensions = false`,
    `SET allowed_directories = [${literal(opts.dir)}]`,
    `SET enable_external_access = false`,
    `SET lock_configuration = true`,
  ];
  for (const s of statements) await connection.run(s);
}
