/**
 * The playground end to end: the built app served by the real `syncline serve` (a child process on a temp
 * workspace, with the built-in emulator), driven in real Chromium by role and accessible name, the names
 * issue 13 makes part of the UI's contract. Screenshots land in .tmp/playground/.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { ensureBuilt, servePlayground, type Served } from './serve-playground.js';
import { openChromium, type PageWatch } from './chromium.js';

const shots = fileURLToPath(new URL('../../.tmp/playground/', import.meta.url));
const WAIT = 60_000;

/** Replaces the editor's text (insertText: no autocompletion popup, no auto-closed quotes). */
async function setModel(page: Page, sql: string): Promise<void> {
  // Monaco's input is an EditContext element of no size: focus it rather than click it.
  await page.getByRole('textbox', { name: 'Model SQL' }).focus();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(sql);
}

describe('playground in Chromium', () => {
  let served: Served;
  let w: PageWatch;

  beforeAll(async () => {
    ensureBuilt();
    mkdirSync(shots, { recursive: true });
    served = await servePlayground();
    w = await openChromium(served.origin);
  }, 240_000);

  afterAll(async () => {
    await w?.close();
    await served?.stop();
  }, 60_000);

  test('the first load shows the Data screen with the sample tables and a sidebar of the steps', async () => {
    const { page } = w;
    await page.goto(served.url);
    // The token moved into a cookie and left the address bar.
    await expect.poll(() => new URL(page.url()).searchParams.has('token'), { timeout: WAIT }).toBe(false);
    for (const name of ['Data', 'Model', 'Sync', 'Dry run', 'Runs'])
      await page.getByRole('navigation').getByRole('link', { name, exact: true }).waitFor();
    await page.getByRole('heading', { name: 'users', exact: true }).waitFor();
    await page.getByText('built-in emulator').waitFor();
    await page.screenshot({ path: join(shots, '1-data.png') });
  }, 120_000);

  test('an uploaded CSV becomes a table with its columns, types, row count and first rows', async () => {
    const { page } = w;
    await page.getByLabel('Upload data').setInputFiles({
      name: 'people.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        'person_id,mail,display_name,age\np_1,ada@example.com,Ada,36\np_2,alan@example.com,Alan,41\np_3,grace@example.com,Grace,85\n',
      ),
    });
    const card = page.getByRole('region', { name: 'Table people' });
    await card.getByText('3 rows').waitFor();
    await card.getByRole('list', { name: 'Columns of people' }).getByText('BIGINT').waitFor();
    const grid = card.getByRole('table', { name: 'First rows of people' });
    await grid.getByRole('cell', { name: 'grace@example.com' }).waitFor();
    expect(await grid.getByRole('row').count()).toBe(4); // the header and 3 rows
    await page.screenshot({ path: join(shots, '2-data-upload.png') });
  }, 120_000);

  test('the model runs with Ctrl/Cmd+Enter, shows its rows and is saved in the sync file', async () => {
    const { page } = w;
    await page.getByRole('link', { name: 'Model', exact: true }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe('/model');
    await setModel(page, 'select person_id as id, mail as email, display_name as full_name, age\nfrom people\norder by id');
    await page.keyboard.press('ControlOrMeta+Enter');
    await page.getByRole('status').getByText('3 rows · 4 columns').waitFor();
    const grid = page.getByRole('table', { name: 'Model results' });
    await grid.getByRole('cell', { name: 'alan@example.com' }).waitFor();
    await page.screenshot({ path: join(shots, '3-model.png') });
    // State lives in the workspace's sync file: the CLI and a reload see the same model.
    await expect
      .poll(() => readFileSync(join(served.dir, 'syncs', 'example-users.yaml'), 'utf8'), { timeout: WAIT })
      .toMatch(/from people/);
    await page.reload();
    await page.getByRole('button', { name: 'Run model' }).click();
    await page.getByRole('status').getByText('3 rows · 4 columns').waitFor();
    expect(new URL(page.url()).searchParams.get('sync')).toBe('example-users');
  }, 120_000);

  test("invalid SQL shows DuckDB's error at its line, underlined in the editor", async () => {
    const { page } = w;
    await setModel(page, 'select id,\n  emial\nfrom users');
    await page.getByRole('button', { name: 'Run model' }).click();
    const alert = page.getByRole('alert', { name: 'Model error' });
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^Line 2, column 3: .*emial/);
    // Monaco draws the marker on line 2 (its view lines are absolutely positioned; compare their tops).
    const squiggle = page.locator('.squiggly-error').first();
    await squiggle.waitFor();
    const lineTops = await page
      .locator('.view-line')
      .evaluateAll((ls) => ls.map((l) => (l as HTMLElement).offsetTop).sort((a, b) => a - b));
    const top = await squiggle.evaluate((e) => (e.parentElement as HTMLElement).offsetTop);
    expect(top).toBe(lineTops[1]);
    await page.screenshot({ path: join(shots, '4-model-error.png') });
    // The bad model is not saved: the sync file keeps the last one that ran.
    expect(readFileSync(join(served.dir, 'syncs', 'example-users.yaml'), 'utf8')).not.toMatch(/emial/);
  }, 120_000);

  test('the page requested nothing outside its origin and logged no error besides the failed query', async () => {
    expect(w.outside).toEqual([]);
    // Chromium logs the 400 of the invalid SQL as a failed resource; nothing else may be logged.
    expect(w.consoleErrors.filter((m) => !/status of 400/.test(m))).toEqual([]);
    expect(w.consoleErrors.length).toBeLessThanOrEqual(1);
  });
});
