import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';

/** A database the tests can reach over the Postgres wire protocol on 127.0.0.1. */
export interface TestDatabase {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (no password: trust authentication, loopback only). */
  url: string;
  /** Stops the server and removes its files. */
  stop(): Promise<void>;
}

/**
 * The folder of PostgreSQL's server binaries (`initdb`, `pg_ctl`), or why there is none: `PG_BIN`, then
 * Debian's `/usr/lib/postgresql/<version>/bin` (newest first), then `PATH`.
 */
export function postgresBinaries(): { bin: string } | { missing: string } {
  const candidates = [
    ...(process.env.PG_BIN ? [process.env.PG_BIN] : []),
    ...(existsSync('/usr/lib/postgresql')
      ? readdirSync('/usr/lib/postgresql')
          .sort((a, b) => Number(b) - Number(a))
          .map((v) => `/usr/lib/postgresql/${v}/bin`)
      : []),
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean),
  ];
  const bin = candidates.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl')));
  return bin ? { bin } : { missing: 'PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install -y postgresql' };
}

/**
 * Whether the real-server tests run here. Without the binaries they are skipped with one line saying why;
 * under `CI=true` a missing server is an error (`.ci/run` installs it), so CI cannot go green without them.
 */
export function realPostgres(): { bin: string; skip: false } | { skip: true } {
  const found = postgresBinaries();
  if ('bin' in found) return { bin: found.bin, skip: false };
  if (process.env.CI === 'true') throw new Error(`CI=true but ${found.missing}`);
  console.warn(`skipping the real PostgreSQL tests: ${found.missing}`);
  return { skip: true };
}

const freePort = (): Promise<number> =>
  new Promise((done, failed) => {
    const s = createServer();
    s.once('error', failed);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });

/**
 * Starts a throwaway PostgreSQL cluster (initdb + pg_ctl) under a temporary folder, listening on a free
 * 127.0.0.1 port only, with fsync off. As root it runs as the `postgres` user (initdb refuses root).
 * `settings` are more server settings (`-c name=value`), e.g. `{ shared_preload_libraries: 'pg_stat_statements' }`.
 * @example const db = await startPostgres(realPostgres().bin); … await db.stop()
 */
export async function startPostgres(bin: string, settings: Record<string, string> = {}): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-pg-'));
  const data = join(dir, 'data');
  const asUser: { uid?: number; gid?: number } = {};
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
    Object.assign(asUser, { uid, gid });
  }
  const run = (cmd: string, args: string[]): void => {
    const r = spawnSync(join(bin, cmd), args, { ...asUser, cwd: dir, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
    if (r.status !== 0) {
      const log = existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8') : '';
      throw new Error(`${cmd} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}\n${log}`);
    }
  };
  run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  const extra = Object.entries(settings).map(([k, v]) => {
    if (!/^[a-z_.]+$/.test(k) || !/^[\w.,]+$/.test(v)) throw new Error(`startPostgres: unsupported setting ${k}=${v}`);
    return ` -c ${k}=${v}`;
  });
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off${extra.join('')}`;
  run('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Starts PGlite (Postgres compiled to WebAssembly, in this process) behind a wire-protocol socket on a free
 * 127.0.0.1 port, so `pg` connects to it as to a server.
 */
export async function startPglite(): Promise<TestDatabase> {
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, port: await freePort(), host: '127.0.0.1', maxConnections: 8 });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

/** Runs SQL (several statements allowed) on a test database. */
export async function runSql(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Runs one query (with `$1…` parameters) on a test database and returns its rows. */
export async function queryRows<R extends Record<string, unknown> = Record<string, unknown>>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
