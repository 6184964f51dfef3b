import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { spawnBin } from './cli-io.js';

// Issue 9 §5: `syncline …` works right after `npm ci` (the root `prepare` script builds dist/, the bin runs
// it), and its first output comes fast because DuckDB and the other heavy modules load after the first line.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = fileURLToPath(new URL('../../../node_modules/.bin/syncline', import.meta.url));
const config = fileURLToPath(new URL('../../../examples/users/sync.yaml', import.meta.url));

beforeAll(() => {
  // What `npm ci` ran (`prepare`); a cache hit unless the sources changed since.
  const r = spawnSync('npx', ['turbo', 'run', 'build', '--filter=@syncline/cli...', '--output-logs=errors-only'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
}, 900_000);

/** Milliseconds from spawning `command` to its first byte on stdout or stderr. */
function firstByte(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(command, args, { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
    let at: number | undefined;
    const seen = (): void => void (at ??= performance.now() - t0);
    child.stdout.once('data', seen);
    child.stderr.once('data', seen);
    child.on('error', reject);
    child.on('close', () => (at === undefined ? reject(new Error(`${command} printed nothing`)) : resolve(at)));
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('the installed bin', { timeout: 300_000 }, () => {
  test('node_modules/.bin/syncline and `npx syncline` run the built CLI', async () => {
    const direct = await spawnBin(['--version'], { command: [bin] });
    expect(direct).toMatchObject({ code: 0, stderr: '' });
    expect(direct.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    const npx = await spawnBin(['--no-install', 'syncline', '--version'], { command: ['npx'] });
    expect(npx.stdout).toBe(direct.stdout);
    expect(npx.code).toBe(0);
  });

  test('`syncline plan` says something before loading DuckDB: its first byte comes about as soon as a bare node process', async () => {
    // The machine is shared and noisy: interleave the bare `node` start (the floor) with the bin, and compare
    // medians. Loading everything first (as before) took ~10x the floor; the first line now costs a fraction.
    const bare: number[] = [];
    const plan: number[] = [];
    for (let i = 0; i < 5; i++) {
      bare.push(await firstByte(process.execPath, ['-e', 'process.stdout.write("x")']));
      plan.push(await firstByte(bin, ['plan', config, '--offline']));
    }
    console.log(
      `first output: syncline plan median ${Math.round(median(plan))} ms, bare node ${Math.round(median(bare))} ms (ratio ${(median(plan) / median(bare)).toFixed(2)}); runs: plan ${plan.map(Math.round).join(', ')} · node ${bare.map(Math.round).join(', ')}`,
    );
    expect(median(plan) / median(bare)).toBeLessThan(2.5);
  });
});

/** The packages that the modules reachable from bin.ts through static (non-type) imports import. */
function startupPackages(): Map<string, string> {
  const src = fileURLToPath(new URL('../src/', import.meta.url));
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of readFileSync(src + file, 'utf8').matchAll(/^import (?!type )[^;]*? from '([^']+)';/gms)) {
      const spec = m[1]!;
      if (spec.startsWith('./')) visit(spec.slice(2).replace(/\.js$/, '.ts'));
      else if (!spec.startsWith('node:')) packages.set(spec, file);
    }
  };
  visit('bin.ts');
  return packages;
}

test('what bin.ts loads before the first line stays light: commander and picocolors, no DuckDB, zod or yaml', () => {
  // A static import of @syncline/core (DuckDB), zod or yaml anywhere on this path costs most of a second
  // before anything is printed; commands load them with import() instead.
  expect(Object.fromEntries(startupPackages())).toEqual({ commander: 'program.ts', picocolors: 'format.ts' });
});
