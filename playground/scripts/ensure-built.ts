/**
 * Builds the playground when `dist/` is missing or older than its sources, so `npm start` and the tests
 * work after a fresh `npm ci` without a separate build step, and cost nothing when it is current.
 * Run directly (`node --import tsx playground/scripts/ensure-built.ts`) or import {@link ensureBuilt}.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const playground = fileURLToPath(new URL('..', import.meta.url));

/** The newest change under `dir` (a folder's own time counts: a removed or renamed file changes it). */
const newest = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce((t, e) => {
    const p = join(dir, e.name);
    return Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }, statSync(dir).mtimeMs);

/** Builds `playground/dist` with Vite unless it is newer than every source; returns whether it built. */
export function ensureBuilt(log: (line: string) => void = () => undefined): boolean {
  const index = join(playground, 'dist', 'index.html');
  const sources = Math.max(
    newest(join(playground, 'src')),
    ...['index.html', 'vite.config.ts', 'package.json'].map((f) => statSync(join(playground, f)).mtimeMs),
  );
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return false;
  log('Building the playground (playground/dist)…');
  const vite = join(createRequire(import.meta.url).resolve('vite/package.json'), '..', 'bin', 'vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: playground, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vite build failed:\n${r.stdout}\n${r.stderr}`);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) ensureBuilt((l) => process.stderr.write(l + '\n'));
