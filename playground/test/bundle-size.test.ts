/**
 * The built app's own JS (what the first load fetches: the entry and the chunks it imports statically) stays
 * under 400 kB gzip; monaco and its worker load lazily and are not counted (issue 13, Performance).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { expect, test } from 'vitest';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));

test('the first load fetches under 400 kB gzip of JS, none of it monaco', () => {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const scripts = [...html.matchAll(/<(?:script[^>]+src|link[^>]+rel="modulepreload"[^>]+href)="\/([^"]+\.js)"/g)].map((m) => m[1]!);
  expect(scripts.length).toBeGreaterThan(0);
  const bytes = scripts.reduce((sum, file) => sum + gzipSync(readFileSync(join(dist, file))).length, 0);
  expect(bytes).toBeLessThan(400 * 1024);
  for (const file of scripts) expect(readFileSync(join(dist, file), 'utf8')).not.toMatch(/registerCompletionItemProvider/);
});
