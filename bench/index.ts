/**
 * Benchmark entry point: `npm run bench -- <name> [args…]` runs `bench/<name>.ts` with its own arguments
 * (the name is removed from `process.argv`, so each script reads `process.argv.slice(2)` as if started
 * directly). Benchmarks print ratios against a baseline measured in the same run; they are not tests.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const name = process.argv[2];
const available = readdirSync(import.meta.dirname)
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3));
if (!name || !/^[a-z0-9-]+$/.test(name) || !existsSync(join(import.meta.dirname, `${name}.ts`))) {
  process.stderr.write(`usage: npm run bench -- <name> [args]\navailable: ${available.join(', ')}\n`);
  process.exit(2);
}
process.argv.splice(2, 1);
await import(pathToFileURL(join(import.meta.dirname, `${name}.ts`)).href);
