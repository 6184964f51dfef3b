/**
 * `npm run bench -- playground [exchanges]`: the playground's performance items (issue 13), in real Chromium
 * against the real server on loopback:
 *   1. the JS the first load fetches, gzip (the entry and its static imports; monaco loads lazily);
 *   2. first load to an interactive Data screen (sample tables listed), a fresh browser profile each time;
 *   3. the debugger scrolling a finished run of EXCHANGES HTTP exchanges (default 200,000): frames per second
 *      from requestAnimationFrame timestamps while a script scrolls the list, against the same page idle.
 * The run is seeded into the sync's ledger (a `runs` record and its `exchanges` rows written by DuckDB in one
 * statement), not sent: 200,000 real calls would take minutes and measure the emulator, not the page. The
 * server reads it as any finished run. Not a test: prints figures. Usage: npm run bench -- playground [n]
 */
import { mkdtempSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { openDuckdbLedger } from '@syncline/core';
import { startServer, seedWorkspace, workspaceAt } from '@syncline/server';
import { ensureBuilt } from '../playground/scripts/ensure-built.js';
import { openChromium } from '../playground/test/chromium.js';

const EXCHANGES = Number(process.argv[2] ?? 200_000);
const RUN_ID = 'r_bench_playground_0001';
const dist = fileURLToPath(new URL('../playground/dist/', import.meta.url));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

ensureBuilt((l) => console.log(l));

// 1. The first load's JS, gzip (as test/bundle-size.test.ts counts it).
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const scripts = [...html.matchAll(/<(?:script[^>]+src|link[^>]+rel="modulepreload"[^>]+href)="\/([^"]+\.js)"/g)].map((m) => m[1]!);
const gzip = scripts.reduce((sum, f) => sum + gzipSync(readFileSync(join(dist, f))).length, 0);
console.log(`first-load JS: ${(gzip / 1024).toFixed(1)} kB gzip in ${scripts.length} file(s) (target < 400 kB)`);

// A workspace with the sample data and a finished run of EXCHANGES exchanges in the example sync's ledger.
const dir = mkdtempSync(join(tmpdir(), 'syncline-bench-playground-'));
await seedWorkspace(workspaceAt(dir));
const ledgerPath = join(dir, 'syncs', '.syncline', 'example-users.duckdb');
{
  const t0 = performance.now();
  const ledger = await openDuckdbLedger({ path: ledgerPath });
  const started = new Date(Date.now() - 60_000).toISOString();
  await ledger.saveRun({
    runId: RUN_ID,
    sync: 'example-users',
    startedAt: started,
    finishedAt: new Date().toISOString(),
    status: 'succeeded',
    counts: { total: EXCHANGES, added: EXCHANGES, synced: EXCHANGES, failed: 0, invalid: 0 },
    phases: [{ name: 'send', ms: 60_000 }],
    requests: EXCHANGES,
    error: null,
  });
  await ledger.close();
  // Its own DuckDB instance, closed after (an instance left open would keep the file's lock from the server).
  const instance = await DuckDBInstance.create(ledgerPath);
  const db = await instance.connect();
  // One PUT per user, as a single-call run sends them: every 50th a 429 retried as attempt 2.
  await db.run(`INSERT INTO exchanges
    SELECT '${RUN_ID}', NULL, 'PUT', '/v1/users/u_' || lpad(i::VARCHAR, 7, '0'), CASE WHEN i % 50 = 0 THEN 429 ELSE 200 END,
      CASE WHEN i % 50 = 1 THEN 2 ELSE 1 END, '${started}', 20 + i % 37,
      json_object('method', 'PUT', 'path', '/v1/users/u_' || lpad(i::VARCHAR, 7, '0'),
        'status', CASE WHEN i % 50 = 0 THEN 429 ELSE 200 END, 'attempt', CASE WHEN i % 50 = 1 THEN 2 ELSE 1 END,
        'startedAt', '${started}', 'durationMs', 20 + i % 37,
        'requestHeaders', json_object('authorization', 'Bearer sk_…redacted', 'content-type', 'application/json'),
        'requestBody', json_object('email', 'u' || i || '@example.com', 'name', 'User ' || i)::VARCHAR,
        'responseBody', json_object('id', 'u_' || lpad(i::VARCHAR, 7, '0'), 'email', 'u' || i || '@example.com')::VARCHAR,
        'keys', json_array('u_' || lpad(i::VARCHAR, 7, '0')))::VARCHAR
    FROM range(${EXCHANGES}) t(i)`);
  db.closeSync();
  instance.closeSync();
  console.log(`seeded a finished run of ${EXCHANGES.toLocaleString('en-US')} exchanges in ${Math.round(performance.now() - t0)} ms`);
}

const running = await startServer({ dir, port: 0, print: () => undefined, warn: () => undefined, schedule: false, log: () => undefined });
try {
  // The server finds the seeded run as any finished one (and reads its calls in pages).
  for (const path of [`/api/runs/${RUN_ID}`, `/api/runs/${RUN_ID}/exchanges?limit=1`]) {
    const t = performance.now();
    const r = await fetch(running.origin + path, { headers: { authorization: `Bearer ${running.token}` } });
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    console.log(`GET ${path.replace(RUN_ID, ':runId')}: ${Math.round(performance.now() - t)} ms`);
  }
  // 2. First load to an interactive Data screen: navigation start → the sample table's heading and the upload
  //    input are on screen, in the page's own clock (performance.now()). A fresh profile each time (cold cache).
  const loads: number[] = [];
  for (let i = 0; i < 5; i++) {
    const w = await openChromium(running.origin);
    await w.page.goto(running.url, { waitUntil: 'commit' });
    // Checked on every animation frame in the page: the time is the page's own, not the driver's polling.
    const at = await w.page.waitForFunction(
      () =>
        [...document.querySelectorAll('h2')].some((h) => h.textContent?.trim() === 'users') &&
        document.querySelector('input[type="file"]') &&
        performance.now(),
      null,
      { polling: 'raf', timeout: 60_000 },
    );
    loads.push((await at.jsonValue()) as number);
    await w.close();
  }
  console.log(
    `first load to an interactive Data screen: median ${Math.round(median(loads))} ms (runs: ${loads.map(Math.round).join(', ')} ms; target < 1,500 ms)`,
  );

  // 3. The debugger on the seeded run.
  const w = await openChromium(running.origin);
  const { page } = w;
  await page.goto(running.url);
  await page.waitForURL(/\/data/);
  const t0 = performance.now();
  await page.goto(`${running.origin}/runs?sync=example-users&run=${RUN_ID}`);
  const grid = page.getByRole('table', { name: 'HTTP exchanges' });
  await grid
    .getByRole('cell', { name: '/v1/users/u_0000000', exact: true })
    .waitFor({ timeout: 120_000 })
    .catch(async (e: Error) => {
      await page.screenshot({ path: join(dir, 'debugger.png'), fullPage: true });
      const alerts = await page.getByRole('alert').allTextContents();
      throw new Error(`${e.message}\nalerts: ${alerts.join(' | ')}\nscreenshot: ${join(dir, 'debugger.png')}`, { cause: e });
    });
  const opened = performance.now() - t0;
  const shown = await page
    .getByRole('region', { name: 'Debugger' })
    .getByText(/calls$/)
    .textContent();
  console.log(`debugger: opened the run (${shown}) with its first rows in ${Math.round(opened)} ms`);

  /**
   * rAF timestamps over `ms`, scrolling the list each frame (`steady`: 240 px down; `jump`: to a random place) or
   * not at all (`idle`). Given as source text: tsx would wrap named functions in a helper the page does not have.
   */
  const MEASURE = `({ mode, ms }) => new Promise((resolve) => {
    const body = document.querySelector('[aria-label="HTTP exchanges"] .body');
    const frames = [];
    let seed = 7;
    const start = performance.now();
    requestAnimationFrame(function tick(t) {
      frames.push(t);
      if (mode === 'steady') body.scrollTop += 240;
      if (mode === 'jump') body.scrollTop = ((seed = (seed * 16807) % 2147483647) / 2147483647) * body.scrollHeight;
      if (t - start < ms) return requestAnimationFrame(tick);
      resolve({
        frames,
        rows: body.querySelectorAll('[role="row"]').length,
        heap: performance.memory ? performance.memory.usedJSHeapSize : 0,
      });
    });
  })`;
  const measure = (mode: 'idle' | 'steady' | 'jump', ms: number) =>
    page.evaluate(`(${MEASURE})(${JSON.stringify({ mode, ms })})`) as Promise<{ frames: number[]; rows: number; heap: number }>;
  const fps = (frames: number[]) => ((frames.length - 1) * 1000) / (frames.at(-1)! - frames[0]!);
  const gaps = (frames: number[]) => frames.slice(1).map((t, i) => t - frames[i]!);
  for (let round = 1; round <= 2; round++) {
    const idle = await measure('idle', 3_000);
    const steady = await measure('steady', 5_000);
    const jump = await measure('jump', 3_000);
    // After the last jump: how long until every row in view shows its call (its page fetched), in the page's clock.
    const settle = (await (
      await page.waitForFunction(
        `(() => { const t0 = window.__settleFrom ??= performance.now();
          return document.querySelectorAll('[aria-label="HTTP exchanges"] [aria-busy="true"]').length === 0 && performance.now() - t0; })()`,
        null,
        { polling: 'raf', timeout: 30_000 },
      )
    ).jsonValue()) as number;
    await page.evaluate('delete window.__settleFrom');
    for (const [name, m] of [
      ['idle (baseline)', idle],
      ['steady scroll 240 px/frame', steady],
      ['random jumps each frame', jump],
    ] as const)
      console.log(
        `round ${round} ${name}: ${fps(m.frames).toFixed(1)} fps (${m.frames.length} frames; p95 frame ${pct(gaps(m.frames), 95).toFixed(1)} ms; worst ${Math.max(...gaps(m.frames)).toFixed(1)} ms; ` +
          `ratio to idle ${(fps(m.frames) / fps(idle.frames)).toFixed(2)}) · rows in the DOM ${m.rows} · JS heap ${(m.heap / 2 ** 20).toFixed(1)} MB`,
      );
    console.log(`round ${round}: every row in view showed its call ${Math.round(settle)} ms after the last jump`);
  }
  await w.close();
} finally {
  await running.close();
}
