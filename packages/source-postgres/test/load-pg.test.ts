import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Runs an ES module in a fresh Node (this package from source) and returns what it printed. */
const inFreshNode = (code: string): string =>
  execFileSync(process.execPath, ['--conditions=@syncline/source', '--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: import.meta.dirname,
    encoding: 'utf8',
  }).trim();

const DRIVER_LOADED = `Object.keys(createRequire(import.meta.url).cache).some((f) => /node_modules\\/pg(-cursor)?\\//.test(f))`;

describe('the pg driver loads on the first connection, not on import', () => {
  it('importing the package (its options schemas, e.g. to read a config) leaves pg unloaded; loadPg loads it', () => {
    const out = inFreshNode(`
      import { createRequire } from 'node:module';
      const m = await import('@syncline/source-postgres');
      m.postgresSourceOptionsSchema.parse({ url: 'postgres://x@127.0.0.1/db' });
      const before = ${DRIVER_LOADED};
      const { loadPg } = await import('../src/load-pg.ts');
      const { pg, Cursor } = await loadPg();
      console.log(JSON.stringify({ before, after: ${DRIVER_LOADED}, pool: typeof pg.Pool, cursor: typeof Cursor }));`);
    expect(JSON.parse(out)).toEqual({ before: false, after: true, pool: 'function', cursor: 'function' });
  });

  it("the CLI's config loader does not load it for a DuckDB sync", () => {
    const out = inFreshNode(`
      import { createRequire } from 'node:module';
      await import('@syncline/cli');
      console.log(${DRIVER_LOADED});`);
    expect(out).toBe('false');
  });
});
