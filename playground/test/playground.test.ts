/**
 * The playground end to end: the built app served by the real `syncline serve` (a child process on a temp
 * workspace, with the built-in emulator), driven in real Chromium by role and accessible name, the names
 * issue 13 makes part of the UI's contract. Screenshots land in .tmp/playground/.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Locator, Page, Route } from 'playwright-core';
import { servePlayground, type Served } from './serve-playground.js';
import { openChromium, type PageWatch } from './chromium.js';

const shots = fileURLToPath(new URL('../../.tmp/playground/', import.meta.url));
const WAIT = 60_000;

/** Replaces a monaco editor's text (insertText: no autocompletion popup, no auto-closed quotes). */
async function setEditor(page: Page, name: string, text: string): Promise<void> {
  // Monaco's input is an EditContext element of no size: focus it rather than click it.
  await page.getByRole('textbox', { name }).focus();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}
const setModel = (page: Page, sql: string) => setEditor(page, 'Model SQL', sql);
/** Replaces the YAML panel's text by pasting it (typed text would be auto-indented line after line, as monaco does). */
async function setYaml(page: Page, yaml: string): Promise<void> {
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(page.url()).origin });
  await page.evaluate((text) => navigator.clipboard.writeText(text), yaml);
  await page.getByRole('textbox', { name: 'Sync file (YAML)' }).focus();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('ControlOrMeta+V');
}

/** The text of the monaco editor in `within`: its view lines in order of their tops, non-breaking spaces as spaces. */
const editorText = (within: Locator) =>
  within.locator('.view-lines').evaluate((el) =>
    [...el.querySelectorAll<HTMLElement>('.view-line')]
      .sort((a, b) => a.offsetTop - b.offsetTop)
      .map((l) => l.textContent!.replace(/\u00a0/g, ' '))
      .join('\n'),
  );

/** The Model screen's editor text as monaco shows it. */
const modelText = (page: Page) => editorText(page.locator('.monaco-editor').first());

/** The sidebar's step dots, in order: `done`, `needs attention`, `blocked` or `not yet`. */
async function dots(page: Page): Promise<string[]> {
  const labels = await page
    .getByRole('navigation', { name: 'Steps' })
    .getByRole('img')
    .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
  return labels.map((l) => /^[^:]+: (.+?) \(/.exec(l)?.[1] ?? l);
}
/** The Sync screen's YAML panel as monaco shows it (the editor grows with its text, so every line is rendered). */
const yamlPanel = (page: Page) => editorText(page.getByRole('region', { name: 'Sync file' }));

/** The text of the lines monaco underlines in the editor of `region` (matched to its view lines by their tops). */
const underlinedLines = (page: Page, region: string) =>
  page
    .getByRole('region', { name: region })
    .locator('.monaco-editor')
    .evaluate((ed) => {
      const lines = new Map(
        [...ed.querySelectorAll<HTMLElement>('.view-line')].map((l) => [l.offsetTop, l.textContent!.replace(/\u00a0/g, ' ')]),
      );
      return [...ed.querySelectorAll<HTMLElement>('.squiggly-error, .squiggly-warning')].map(
        (s) => lines.get(s.parentElement!.offsetTop)?.trim() ?? '?',
      );
    });

/** Opens the app (its URL sets the access cookie) unless an earlier test left it open: a test run alone with `-t` works too. */
async function opened(page: Page, served: Served): Promise<void> {
  if (!page.url().startsWith(served.origin)) await page.goto(served.url);
}

/** Runs `steps`; on a failure the error also says the run status and the alerts on screen, with a screenshot. */
async function explained(page: Page, name: string, steps: () => Promise<void>): Promise<void> {
  try {
    await steps();
  } catch (e) {
    const alerts = await page
      .getByRole('alert')
      .allTextContents()
      .catch(() => []);
    const status = await page
      .getByRole('status', { name: 'Run status' })
      .textContent()
      .catch(() => '');
    await page.screenshot({ path: join(shots, `failed-${name}.png`), fullPage: true }).catch(() => undefined);
    throw new Error(`${(e as Error).message}\nRun status: ${status}\nAlerts: ${alerts.join(' | ')}\nURL: ${page.url()}`, { cause: e });
  }
}

describe('playground in Chromium', () => {
  let served: Served;
  let w: PageWatch;

  beforeAll(async () => {
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
    // Each step's dot: the sample data, its model and its sync are ready; nothing dry-run or run yet.
    await expect.poll(() => dots(page), { timeout: WAIT }).toEqual(['done', 'done', 'done', 'not yet', 'not yet']);
    await page.screenshot({ path: join(shots, '1-data.png') });
  }, 120_000);

  test('the theme follows the OS (light and dark) and the keyboard alone moves between steps', async () => {
    const { page } = w;
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.emulateMedia({ colorScheme: 'dark' });
    await expect.poll(background).toBe('rgb(21, 24, 28)');
    await page.screenshot({ path: join(shots, '9-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(background).toBe('rgb(255, 255, 255)');
    // Tab from the top of the page reaches the sidebar; Enter on a link changes the step, with a visible focus ring.
    await page.getByRole('link', { name: 'Data', exact: true }).focus();
    await page.keyboard.press('Tab');
    const focused = page.locator(':focus');
    expect(await focused.textContent()).toBe('Model');
    expect(await focused.evaluate((e) => getComputedStyle(e).outlineStyle)).toBe('solid');
    await page.keyboard.press('Enter');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/model');
    await page.goBack();
    await expect.poll(() => new URL(page.url()).pathname).toBe('/data');
    // `?` lists the shortcuts (Esc closes the list).
    await page.locator('body').focus();
    await page.keyboard.press('?');
    const shortcuts = page.getByRole('dialog', { name: 'Shortcuts' });
    await shortcuts.getByRole('cell', { name: 'Save the sync file (syncs/<name>.yaml)' }).waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => shortcuts.isVisible()).toBe(false);
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
    // Files dropped anywhere on the page load too (the overlay shows while they are dragged over it).
    const dropped = await page.evaluateHandle(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['code,label\nx1,one\nx2,two\n'], 'Dropped Codes.csv', { type: 'text/csv' }));
      return dt;
    });
    await page.dispatchEvent('main', 'dragover', { dataTransfer: dropped });
    await page.getByRole('status', { name: 'Drop files' }).waitFor();
    await page.dispatchEvent('main', 'drop', { dataTransfer: dropped });
    const card2 = page.getByRole('region', { name: 'Table dropped_codes' });
    await card2.getByText('2 rows').waitFor();
    // Its first rows too: the page reads them after the upload, and deleting the table under that read would fail it (400).
    await card2.getByRole('table', { name: 'First rows of dropped_codes' }).getByRole('cell', { name: 'two', exact: true }).waitFor();
    expect(await page.getByRole('status', { name: 'Drop files' }).count()).toBe(0);
    // Dropped again through the API, so the later steps see the workspace as before.
    const del = await page.evaluate(async () => (await fetch('/api/tables/dropped_codes', { method: 'DELETE' })).status);
    expect(del).toBe(200);
    await page.reload();
    await page.getByRole('region', { name: 'Table people' }).waitFor();
    expect(await page.getByRole('region', { name: 'Table dropped_codes' }).count()).toBe(0);
  }, 120_000);

  test('Data: Enter opens the focused table card, Delete removes it, Undo brings it back without an upload (or re-imports it); CSV options re-read a file', async () => {
    const { page } = w;
    await opened(page, served);
    await page.getByRole('link', { name: 'Data', exact: true }).click();
    const file = { name: 'undo_me.csv', mimeType: 'text/csv', buffer: Buffer.from('k,v\na,1\nb,2\n') };
    await page.getByLabel('Upload data').setInputFiles(file);
    const card = page.getByRole('region', { name: 'Table undo_me' });
    await card.getByText('2 rows').waitFor();
    await page.getByRole('button', { name: 'Hide rows' }).click(); // the upload opened it
    // Enter on the focused card opens it (its first rows), and again closes it.
    await card.focus();
    await page.keyboard.press('Enter');
    await card.getByRole('table', { name: 'First rows of undo_me' }).getByRole('cell', { name: 'b', exact: true }).waitFor();
    await page.keyboard.press('Enter');
    await expect.poll(() => card.getByRole('table').count()).toBe(0);
    // Delete removes it; Undo restores the file the server kept aside: no upload.
    const uploads: string[] = [];
    const onRequest = (r: { method: () => string; url: () => string }) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname.startsWith('/api/tables')) uploads.push(new URL(r.url()).pathname);
    };
    page.on('request', onRequest);
    try {
      await page.keyboard.press('Delete');
      await expect.poll(() => card.count()).toBe(0);
      const toast = page.getByRole('status', { name: 'Removed table' });
      await toast.getByRole('button', { name: 'Undo' }).click();
      await card.getByText('2 rows').waitFor();
      await toast.getByText('Table undo_me is back.').waitFor();
      expect(uploads).toEqual(['/api/tables/undo_me/restore']);
      expect(readFileSync(join(served.dir, 'data', 'undo_me.csv'), 'utf8')).toBe('k,v\na,1\nb,2\n');
      // Once the server no longer keeps it (another table was removed since), Undo re-imports the file this page uploaded.
      await card.focus();
      await page.keyboard.press('Delete');
      await expect.poll(() => card.count()).toBe(0);
      const other = await page.evaluate(async () => {
        await fetch('/api/tables?name=undo_other', { method: 'POST', body: 'x\n1\n' });
        return (await fetch('/api/tables/undo_other', { method: 'DELETE' })).status;
      });
      expect(other).toBe(200);
      uploads.length = 0;
      await toast.getByRole('button', { name: 'Undo' }).click();
      await card.getByText('2 rows').waitFor();
      expect(uploads).toEqual(['/api/tables/undo_me/restore', '/api/tables']);
    } finally {
      page.off('request', onRequest);
    }
    // A CSV whose delimiter DuckDB could not tell (one column): its CSV options are open, and Re-import with options
    // reads the file again with them.
    await page
      .getByLabel('Upload data')
      .setInputFiles({ name: 'hash_sep.csv', mimeType: 'text/csv', buffer: Buffer.from('id#name\n1#ann\n2#bob\n') });
    const hashed = page.getByRole('region', { name: 'Table hash_sep' });
    await hashed.getByText('1 columns').waitFor();
    const options = hashed.getByRole('form', { name: 'CSV options of hash_sep' });
    await options.getByLabel('Delimiter').fill('#');
    await options.getByRole('button', { name: 'Re-import with options' }).click();
    await hashed.getByText('2 columns').waitFor();
    await hashed.getByRole('table', { name: 'First rows of hash_sep' }).getByRole('cell', { name: 'bob', exact: true }).waitFor();
    await page.screenshot({ path: join(shots, '2b-data-csv-options.png'), fullPage: true });
    await page.evaluate(() => fetch('/api/tables/hash_sep', { method: 'DELETE' }));
    await page.evaluate(() => fetch('/api/tables/undo_me', { method: 'DELETE' }));
    await page.reload();
    await page.getByRole('region', { name: 'Table users' }).waitFor();
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
    // A reload runs the sync's model, even when the sync file comes after the tables (Run model waits for it): the
    // placeholder `select * from <first table>` is never run nor saved over the model.
    const slowSync = (route: Route) => void setTimeout(() => void route.continue().catch(() => undefined), 1_500);
    await page.route(/\/api\/syncs\/example-users$/, slowSync);
    try {
      await page.reload();
      await page.getByRole('button', { name: 'Run model' }).click();
      await page.getByRole('status').getByText('3 rows · 4 columns').waitFor();
    } finally {
      await page.unroute(/\/api\/syncs\/example-users$/, slowSync);
    }
    expect(readFileSync(join(served.dir, 'syncs', 'example-users.yaml'), 'utf8')).toMatch(/from people/);
    expect(new URL(page.url()).searchParams.get('sync')).toBe('example-users');
  }, 120_000);

  test('Stop and Esc interrupt a running model (the rows before stay); Ctrl/Cmd+Enter on a selection runs only it, unsaved', async () => {
    const { page } = w;
    await page.getByRole('link', { name: 'Model', exact: true }).click();
    const file = join(served.dir, 'syncs', 'example-users.yaml');
    const saved = readFileSync(file, 'utf8');
    const grid = page.getByRole('table', { name: 'Model results' });
    await page.getByRole('button', { name: 'Run model' }).click();
    await grid.getByRole('cell', { name: 'alan@example.com' }).waitFor();
    // A statement that would run for hours: Stop ends it, the last rows stay (dimmed), nothing is saved.
    await setModel(page, 'select count(*) as n from range(10000000000000)');
    await page.getByRole('button', { name: 'Run model' }).click();
    await page
      .getByRole('status')
      .getByText(/^Running… \d+\.\d s$/)
      .waitFor();
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByRole('status').getByText('Stopped: the statement was interrupted. The rows below are from the run before.').waitFor();
    expect(await grid.getByRole('cell', { name: 'alan@example.com' }).count()).toBe(1);
    // Esc in the editor (no popup open) stops it too.
    await page.getByRole('textbox', { name: 'Model SQL' }).focus();
    await page.keyboard.press('ControlOrMeta+Enter');
    await page
      .getByRole('status')
      .getByText(/^Running… /)
      .waitFor();
    await page.keyboard.press('Escape');
    await page
      .getByRole('status')
      .getByText(/^Stopped: /)
      .waitFor();
    expect(readFileSync(file, 'utf8')).toBe(saved);
    // The selected second statement runs alone; the model (the whole text) is neither replaced nor saved.
    await setModel(page, 'select 7 as seven;\nselect 8 as eight');
    await page.keyboard.press('ControlOrMeta+End');
    await page.keyboard.press('Shift+Home');
    await page.keyboard.press('ControlOrMeta+Enter');
    await page
      .getByRole('status')
      .getByText(/^Selection: 1 rows · 1 columns · \d+ ms · not saved/)
      .waitFor();
    await grid.getByRole('columnheader', { name: /^eight/ }).waitFor();
    expect(readFileSync(file, 'utf8')).toBe(saved);
  }, 120_000);

  test('the editor completes table and column names from the workspace', async () => {
    const { page } = w;
    // Typing a letter opens monaco's suggestions (quick suggestions), fed by GET /api/completions.
    await setModel(page, 'select display_');
    await page.keyboard.type('n');
    await page
      .getByRole('option', { name: /display_name/ })
      .first()
      .waitFor();
    await page.keyboard.press('Escape');
    await setModel(page, 'select * from peopl');
    await page.keyboard.type('e');
    await page
      .getByRole('option', { name: /people/ })
      .first()
      .waitFor();
    await page.keyboard.press('Escape');
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

  test('a bad mapping shows its reason, on the Sync screen and in the dry run', async () => {
    const { page } = w;
    // The example sync maps phone_number ← phone, which the new model does not have.
    await page.getByRole('link', { name: 'Sync', exact: true }).click();
    const problems = page.getByRole('alert', { name: 'Sync problems' });
    await problems.getByText(/phone_number ← phone: no such column in the model/).waitFor();
    // The sidebar says it on every screen, and what it blocks.
    await expect.poll(() => dots(page), { timeout: WAIT }).toEqual(['done', 'done', 'needs attention', 'blocked', 'blocked']);
    await page.screenshot({ path: join(shots, '5-sync-problem.png') });
    await page.getByRole('link', { name: 'Dry run', exact: true }).click();
    await page.getByRole('button', { name: 'Dry run' }).click();
    await page
      .getByRole('alert', { name: 'Dry run error' })
      .getByText(/column "phone" not in model/)
      .waitFor();
  }, 120_000);

  test('the mapping is edited with selects named by Knock field and saved to the sync file', async () => {
    const { page } = w;
    await page.getByRole('link', { name: 'Sync', exact: true }).click();
    await page.getByRole('combobox', { name: 'Sync type' }).waitFor();
    expect(await page.getByRole('combobox', { name: 'Sync type' }).inputValue()).toBe('users');
    expect(await page.getByRole('combobox', { name: 'On delete' }).inputValue()).toBe('nothing');
    await page.getByRole('combobox', { name: 'Key column' }).selectOption('id');
    await page.getByRole('status', { name: 'Key health' }).getByText('0 null · 0 duplicate · 3 rows').waitFor();
    for (const field of ['phone_number', 'timezone', 'plan'])
      await page.getByRole('combobox', { name: field, exact: true }).selectOption('');
    await page.getByLabel('Custom field name').fill('age');
    await page.getByRole('button', { name: 'Add field' }).click();
    await page.getByRole('combobox', { name: 'age', exact: true }).selectOption('age');
    await expect.poll(() => page.getByRole('alert', { name: 'Sync problems' }).count(), { timeout: WAIT }).toBe(0);
    await expect.poll(() => readFileSync(join(served.dir, 'syncs', 'example-users.yaml'), 'utf8'), { timeout: WAIT }).toMatch(/age: age/);
    const yaml = readFileSync(join(served.dir, 'syncs', 'example-users.yaml'), 'utf8');
    expect(yaml).toMatch(/email: email/);
    expect(yaml).toMatch(/name: full_name/);
    expect(yaml).not.toMatch(/phone_number/);
    expect(await page.getByRole('combobox', { name: 'email', exact: true }).inputValue()).toBe('email');
    // The YAML panel edits both ways: YAML → form, then form → YAML; a syntax error names its line.
    // The panel shows the file as the server saved it: wait for the save's answer (the file on disk is written
    // before it), or the edit below starts from a text without the age mapping and rightly removes it.
    await expect.poll(() => yamlPanel(page), { timeout: WAIT }).toMatch(/age: age/);
    const text = await yamlPanel(page);
    expect(text).toMatch(/onDelete: nothing/);
    await setYaml(page, text + 'sync: [\n');
    await page.getByRole('button', { name: 'Apply YAML' }).click();
    await page
      .getByRole('alert', { name: 'YAML error' })
      .getByText(/^line \d+, column \d+: /)
      .waitFor();
    // A comment typed in the panel is kept in the file, as typed.
    await setYaml(page, text.replace(/^( *)onDelete: nothing/m, '$1# reviewed by the data team\n$1onDelete: delete'));
    await page.getByRole('button', { name: 'Apply YAML' }).click();
    await expect.poll(() => page.getByRole('combobox', { name: 'On delete' }).inputValue(), { timeout: WAIT }).toBe('delete');
    await expect
      .poll(() => readFileSync(join(served.dir, 'syncs', 'example-users.yaml'), 'utf8'), { timeout: WAIT })
      .toMatch(/# reviewed by the data team\n +onDelete: delete/);
    await expect.poll(() => yamlPanel(page), { timeout: WAIT }).toMatch(/# reviewed by the data team\n +onDelete: delete/);
    await page.getByRole('combobox', { name: 'On delete' }).selectOption('nothing');
    await expect.poll(() => yamlPanel(page), { timeout: WAIT }).toMatch(/onDelete: nothing/);
    // Comments survive: written in the file by hand, they stay through Ctrl/Cmd+S and later edits in the form.
    const syncFile = () => readFileSync(join(served.dir, 'syncs', 'example-users.yaml'), 'utf8');
    writeFileSync(
      join(served.dir, 'syncs', 'example-users.yaml'),
      '# Owned by the data team\n' + syncFile().replace('onDelete: nothing', 'onDelete: nothing # keep users in Knock'),
    );
    await page.reload();
    await expect.poll(() => yamlPanel(page), { timeout: WAIT }).toMatch(/^# Owned by the data team/);
    await page.getByRole('combobox', { name: 'Key column' }).focus();
    await page.keyboard.press('ControlOrMeta+S');
    await page.getByRole('status', { name: 'Save status' }).getByText('Saved syncs/example-users.yaml').waitFor();
    expect(syncFile()).toMatch(/^# Owned by the data team\n/);
    await page.getByRole('combobox', { name: 'Null values' }).selectOption('send');
    await expect.poll(syncFile, { timeout: WAIT }).toMatch(/nulls: send/);
    await page.getByRole('combobox', { name: 'Null values' }).selectOption('skip');
    await expect.poll(syncFile, { timeout: WAIT }).toMatch(/nulls: skip/);
    expect(syncFile()).toMatch(/^# Owned by the data team\n/);
    expect(syncFile()).toMatch(/onDelete: nothing # keep users in Knock/);
    await expect.poll(() => yamlPanel(page), { timeout: WAIT }).toMatch(/^# Owned by the data team/);
    await page.screenshot({ path: join(shots, '6-sync.png'), fullPage: true });
  }, 120_000);

  test('the YAML panel checks the sync file against its schema: markers at the wrong key and value, completion of keys; broken YAML locks the form', async () => {
    const { page } = w;
    await page.getByRole('link', { name: 'Sync', exact: true }).click();
    await expect.poll(() => yamlPanel(page), { timeout: WAIT }).toMatch(/onDelete: nothing/);
    const text = await yamlPanel(page);
    const panel = page.getByRole('region', { name: 'Sync file' });
    // monaco-yaml's language server (in its own worker) checks the text against the sync config's JSON Schema.
    await setYaml(page, text.replace(/^( *)onDelete: nothing.*$/m, '$1onDelete: never\n$1colour: blue'));
    await expect
      .poll(() => underlinedLines(page, 'Sync file'), { timeout: WAIT })
      .toEqual(expect.arrayContaining(['onDelete: never', 'colour: blue']));
    expect(await underlinedLines(page, 'Sync file')).not.toContain('onDelete: nothing');
    // F8 opens the first problem with its message.
    await page.keyboard.press('ControlOrMeta+Home');
    await page.keyboard.press('F8');
    await panel.getByText(/Value is not accepted\. Valid values: "nothing", "delete"/).waitFor();
    await page.keyboard.press('Escape');
    await panel.screenshot({ path: join(shots, '6-sync-yaml-schema.png') });
    // Applying it anyway: the server refuses it, and its reason is marked at its line and column too.
    await page.getByRole('button', { name: 'Apply YAML' }).click();
    await panel
      .getByRole('alert', { name: 'YAML error' })
      .getByText(/^line \d+, column \d+: sync\.onDelete: /)
      .waitFor();
    // Completion of the keys the schema allows (and the file does not have yet).
    await setYaml(page, text + 'maxDel');
    await page.keyboard.press('Control+Space');
    await page
      .getByRole('option', { name: /maxDeleteShare/ })
      .first()
      .waitFor();
    await page.keyboard.press('Escape');
    // `maxDel` alone is not YAML (a key without its colon): the form is locked until the text is fixed or
    // discarded, so a form edit cannot save over it.
    const locked = page.getByRole('alert', { name: 'Form locked' });
    await locked.getByText(/not valid YAML \(line \d+, column \d+: /).waitFor();
    expect(await page.getByRole('combobox', { name: 'Sync type' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Suggest mappings' }).isDisabled()).toBe(true);
    await panel.getByRole('button', { name: 'Discard edits' }).click();
    await expect.poll(() => yamlPanel(page), { timeout: WAIT }).toBe(text);
    await expect.poll(() => underlinedLines(page, 'Sync file'), { timeout: WAIT }).toEqual([]);
    await locked.waitFor({ state: 'detached' });
    expect(await page.getByRole('combobox', { name: 'Sync type' }).isDisabled()).toBe(false);
  }, 120_000);

  test('the dry run shows the counts and the field-level changes', async () => {
    const { page } = w;
    await page.getByRole('link', { name: 'Dry run', exact: true }).click();
    await page.getByRole('button', { name: 'Dry run' }).click();
    const counts = page.getByRole('list', { name: 'Counts' });
    await counts.getByText('+ 3').waitFor();
    await expect.poll(async () => (await dots(page)).slice(2, 4), { timeout: WAIT }).toEqual(['done', 'done']);
    const changes = page.getByRole('tabpanel', { name: 'Changes' });
    // One row per key (its changed fields named); Expand all shows each field's before → after.
    await changes.getByRole('button', { name: 'Expand all' }).click();
    await changes.getByText('grace@example.com').waitFor();
    // The plan's tabs, by keyboard too (arrows move between tabs, as WAI-ARIA tabs do).
    await page.getByRole('tab', { name: /^Changes/ }).focus();
    await page.keyboard.press('ArrowRight');
    await page.getByRole('tabpanel', { name: 'Invalid rows' }).getByText("Every row passes Knock's field rules.").waitFor();
    await page.keyboard.press('ArrowRight');
    const requests = page.getByRole('tabpanel', { name: 'Requests' });
    await requests.getByRole('table', { name: 'Requests that would be sent' }).getByRole('cell', { name: 'PUT' }).waitFor();
    await requests.getByText(/authorization: Bearer sk_…redacted/).waitFor();
    // The endpoint's first call, built from the sample rows, with its body and Copy as curl (the key as $KNOCK_API_KEY).
    await requests.getByRole('button', { name: 'Show call' }).first().click();
    const example = requests.getByRole('region', { name: /^Example call PUT / });
    const sent = JSON.parse((await example.getByLabel('Request body').textContent())!) as Record<string, unknown>;
    expect(Object.keys(sent).sort()).toEqual(['age', 'email', 'name']);
    await example.getByRole('button', { name: 'Copy as curl' }).click();
    const curl = (await example.getByLabel('curl command').textContent())!;
    expect(curl).toMatch(new RegExp(`^curl -X PUT '${served.emulatorUrl}/v1/users/p_\\d'`));
    expect(curl).toContain('-H "Authorization: Bearer $KNOCK_API_KEY"');
    expect(curl).not.toContain('sk_test_local');
    await page.getByRole('tab', { name: /^Changes/ }).click();
    // Test a row: one row's exact request, beside what Knock holds for it (nothing yet), and as curl.
    const testRow = page.getByRole('region', { name: 'Test a row' });
    await testRow.getByRole('textbox', { name: 'Row key' }).fill('p_2');
    await testRow.getByRole('button', { name: 'Test a row' }).click();
    await testRow.getByRole('heading', { name: 'Request: PUT /v1/users/p_2' }).waitFor();
    expect(JSON.parse((await testRow.getByLabel('Request body').textContent())!)).toEqual({
      email: 'alan@example.com',
      name: 'Alan',
      age: 41,
    });
    expect(await testRow.getByLabel('Knock now').textContent()).toBe('not in Knock');
    await testRow.getByRole('button', { name: 'Copy as curl' }).click();
    const command = (await testRow.getByLabel('curl command').textContent())!;
    expect(command).toContain(`curl -X PUT '${served.emulatorUrl}/v1/users/p_2'`);
    expect(command).toContain('-H "Authorization: Bearer $KNOCK_API_KEY"');
    expect(command).toContain(`--data '{"age":41,"email":"alan@example.com","name":"Alan"}'`);
    await testRow.getByRole('textbox', { name: 'Row key' }).fill('nobody');
    await testRow.getByRole('button', { name: 'Test a row' }).click();
    await testRow.getByRole('alert', { name: 'Test a row error' }).getByText('no row of the model has id = "nobody"').waitFor();
    // Compare with Knock: the sample rows' current records, read from the emulator (none are there yet).
    await page.getByLabel('Compare with Knock').check();
    await page.getByRole('button', { name: 'Dry run' }).click();
    await changes.getByRole('columnheader', { name: 'Knock now' }).waitFor();
    await expect.poll(() => changes.getByText('not in Knock').count(), { timeout: WAIT }).toBeGreaterThanOrEqual(3);
    await page.screenshot({ path: join(shots, '7-dry-run.png'), fullPage: true });
  }, 120_000);

  test('Download plan.json saves the document `syncline plan --json` prints; the Estimate tab gives each endpoint its tier, calls and time', async () => {
    const { page } = w;
    await opened(page, served);
    await page.getByRole('link', { name: 'Dry run', exact: true }).click();
    await page.getByRole('button', { name: 'Dry run' }).click();
    await page.getByRole('list', { name: 'Counts' }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download plan.json' }).click()]);
    expect(download.suggestedFilename()).toBe('example-users.plan.json');
    const doc = JSON.parse(readFileSync((await download.path())!, 'utf8')) as {
      kind: string;
      format_version: string;
      sync: { name: string; config: string };
      summary: { add: number };
      changes: { key: string }[];
      estimate: { requests: { endpoint: string; calls: number; tier: number | null }[] };
    };
    expect(doc).toMatchObject({ kind: 'syncline.plan', format_version: '1.0', sync: { name: 'example-users' } });
    expect(doc.sync.config).toMatch(/example-users\.yaml$/);
    // The counts on screen and the file's are the same plan's.
    await page.getByRole('list', { name: 'Counts' }).getByText(`+ ${doc.summary.add}`).waitFor();
    expect(doc.changes.length).toBeGreaterThan(0);
    // Estimate: one row per endpoint with its tier, rate, calls and time, and the whole send in one line.
    await page.getByRole('tab', { name: /^Estimate/ }).click();
    const estimate = page.getByRole('tabpanel', { name: 'Estimate' }).getByRole('table', { name: 'Estimate by endpoint' });
    const rows = estimate.getByRole('row');
    expect(await rows.count()).toBe(1 + doc.estimate.requests.length);
    const first = doc.estimate.requests[0]!;
    const cells = await rows.nth(1).getByRole('cell').allTextContents();
    expect(cells[0]).toBe(first.endpoint);
    expect(cells[1]).toBe(first.tier === null ? '—' : `tier ${first.tier}`);
    expect(cells[2]).toMatch(/^\d+(\.\d+)? calls?\/s$/);
    expect(cells[3]).toBe(first.calls.toLocaleString('en-US'));
    expect(cells[5]).toMatch(/^(< 1 s|\d+ s|\d+ min( \d+ s)?)$/);
    expect(await page.getByRole('status', { name: 'Estimated send' }).textContent()).toMatch(
      /^\s*Estimated send ≈ (< 1 s|\d+ s|\d+ min( \d+ s)?) \(calls to different endpoints run side by side\)/,
    );
    await page.getByRole('tab', { name: /^Changes/ }).click();
  }, 120_000);

  test('the keyboard: Ctrl/Cmd+Enter tests a row on Sync; j/k, Enter, /, 1–5 and Ctrl/Cmd+Enter on Dry run; ? lists them', async () => {
    const { page } = w;
    // Sync: Ctrl/Cmd+Enter tests the row whose key is in Test a row's box, wherever the focus is on the screen.
    await page.getByRole('link', { name: 'Sync', exact: true }).click();
    const testRow = page.getByRole('region', { name: 'Test a row' });
    await testRow.getByRole('textbox', { name: 'Row key' }).fill('p_3');
    await page.getByRole('combobox', { name: 'Sync type' }).focus();
    await page.keyboard.press('ControlOrMeta+Enter');
    await testRow.getByRole('heading', { name: 'Request: PUT /v1/users/p_3' }).waitFor();
    expect(JSON.parse((await testRow.getByLabel('Request body').textContent())!)).toMatchObject({ email: 'grace@example.com' });
    // Dry run: Ctrl/Cmd+Enter dry-runs (again).
    await page.getByRole('link', { name: 'Dry run', exact: true }).click();
    await page.getByRole('heading', { name: 'Dry run', exact: true }).click();
    await page.keyboard.press('ControlOrMeta+Enter');
    const sample = page.getByRole('tabpanel', { name: 'Changes' }).getByRole('table', { name: 'Sample changes' });
    const keyRows = sample.getByRole('row').filter({ has: page.getByRole('cell', { name: /^p_\d+$/ }) });
    await expect.poll(() => keyRows.count(), { timeout: WAIT }).toBe(3);
    await page.getByRole('heading', { name: 'Dry run', exact: true }).click();
    await page
      .getByRole('button', { name: 'Collapse all' })
      .or(page.getByRole('button', { name: 'Expand all' }))
      .waitFor();
    if (await page.getByRole('button', { name: 'Collapse all' }).isVisible())
      await page.getByRole('button', { name: 'Collapse all' }).click();
    // j/k (and ↓/↑) move between the rows; Enter opens the selected one field by field.
    const selected = sample.getByRole('row', { selected: true });
    await page.keyboard.press('j');
    const first = await selected.getByRole('cell', { name: /^p_\d+$/ }).textContent();
    await page.keyboard.press('j');
    const second = await selected.getByRole('cell', { name: /^p_\d+$/ }).textContent();
    expect(second).not.toBe(first);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('k');
    expect(await selected.getByRole('cell', { name: /^p_\d+$/ }).textContent()).toBe(second);
    expect(await selected.getAttribute('aria-expanded')).toBe('false');
    await page.keyboard.press('Enter');
    await expect.poll(() => selected.getAttribute('aria-expanded')).toBe('true');
    await sample.getByRole('cell', { name: 'email', exact: true }).waitFor();
    // / searches by key.
    await page.keyboard.press('/');
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('type'))).toBe('search');
    await page.keyboard.type('p_1');
    await expect.poll(() => keyRows.count(), { timeout: WAIT }).toBe(1);
    await page.getByRole('searchbox', { name: 'Search by key' }).fill('');
    await expect.poll(() => keyRows.count(), { timeout: WAIT }).toBe(3);
    // 1–5 filter by action (the count cards, pressed); 5 is the Invalid rows tab.
    await page.getByRole('heading', { name: 'Dry run', exact: true }).click();
    const counts = page.getByRole('list', { name: 'Counts' });
    await page.keyboard.press('2');
    await expect.poll(() => counts.getByRole('button', { name: /\d changed$/ }).getAttribute('aria-pressed')).toBe('true');
    await sample.getByText('No sample row matches.').waitFor();
    await page.keyboard.press('2');
    await expect.poll(() => keyRows.count(), { timeout: WAIT }).toBe(3);
    await page.keyboard.press('5');
    await page.getByRole('tabpanel', { name: 'Invalid rows' }).waitFor();
    await page.keyboard.press('1');
    await expect.poll(() => keyRows.count(), { timeout: WAIT }).toBe(3);
    expect(await counts.getByRole('button', { name: /\d added$/ }).getAttribute('aria-pressed')).toBe('true');
    await page.keyboard.press('1');
    // The ? list names these keys, by screen.
    await page.keyboard.press('?');
    const shortcuts = page.getByRole('dialog', { name: 'Shortcuts' });
    for (const what of [
      'Test the row whose key is in Test a row',
      'Dry run again',
      'Search the sample rows by key',
      'Move between the sample rows',
    ])
      await shortcuts.getByRole('cell', { name: what }).waitFor();
    await shortcuts.getByRole('cell', { name: /^Pause or resume the list of calls/ }).waitFor();
    await page.screenshot({ path: join(shots, '7b-shortcuts.png') });
    await page.keyboard.press('Escape');
    await expect.poll(() => shortcuts.isVisible()).toBe(false);
  }, 120_000);

  test('a run reaches the emulator, and the debugger lists its calls and filters them by row key', async () => {
    const { page } = w;
    await page.getByRole('link', { name: 'Runs', exact: true }).click();
    await page.getByRole('button', { name: 'Run sync' }).click();
    await page
      .getByRole('status', { name: 'Run status' })
      .getByText(/Run succeeded: 3 synced, 0 failed/)
      .waitFor();
    // The emulator in the serve process received exactly the model's users.
    const res = await fetch(`${served.emulatorUrl}/v1/users?page_size=50`, { headers: { authorization: 'Bearer sk_test_local' } });
    const users = ((await res.json()) as { entries: { id: string; email?: string; name?: string; age?: unknown }[] }).entries;
    expect(users.map((u) => [u.id, u.email, u.name, Number(u.age)]).sort()).toEqual([
      ['p_1', 'ada@example.com', 'Ada', 36],
      ['p_2', 'alan@example.com', 'Alan', 41],
      ['p_3', 'grace@example.com', 'Grace', 85],
    ]);
    const debug = page.getByRole('region', { name: 'Debugger' });
    const rows = debug
      .getByRole('table', { name: 'HTTP exchanges' })
      .getByRole('row')
      .filter({ has: page.getByRole('cell') });
    await rows.first().waitFor();
    await expect.poll(() => rows.count(), { timeout: WAIT }).toBe(3);
    const all = await rows.count();
    await page.screenshot({ path: join(shots, '8-runs.png'), fullPage: true });
    // Filter by row key: a key of this run keeps the calls that carried it; another key shows none.
    expect(all).toBe(3); // one PUT per user
    await debug.getByRole('textbox', { name: 'Filter by row key' }).fill('p_2');
    await expect.poll(() => rows.count(), { timeout: WAIT }).toBe(1);
    await rows.getByRole('cell', { name: '/v1/users/p_2' }).waitFor();
    await debug.getByRole('textbox', { name: 'Filter by row key' }).fill('u_0001');
    await expect.poll(() => rows.count(), { timeout: WAIT }).toBe(0);
    await debug.getByText('No calls match the filter.').waitFor();
    await debug.getByRole('textbox', { name: 'Filter by row key' }).fill('');
    // Opening a call shows its redacted request body.
    await rows.first().click();
    const detail = debug.getByRole('group', { name: /^Exchange \d+$/ });
    await detail.getByText('Request (redacted)').waitFor();
    expect(await detail.textContent()).toMatch(/example\.com/);
    // Copy as curl: the exact call, with the key left to the shell ($KNOCK_API_KEY).
    await w.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: served.origin });
    await detail.getByRole('button', { name: 'Copy as curl' }).click();
    await detail
      .getByRole('status', { name: 'Copy status' })
      .getByText(/^Copied as curl/)
      .waitFor();
    const curl = await page.evaluate(() => navigator.clipboard.readText());
    expect(curl).toMatch(new RegExp(`^curl -X PUT '${served.emulatorUrl}/v1/users/p_\\d'`));
    expect(curl).toContain('-H "Authorization: Bearer $KNOCK_API_KEY"');
    expect(curl).toMatch(/--data '\{.*"email":"\w+@example\.com"/);
    expect(curl).not.toContain('sk_');
    // The run is in the URL: a reload replays it from the server's log.
    expect(new URL(page.url()).searchParams.get('run')).toBeTruthy();
    await page.reload();
    await rows.first().waitFor();
    expect(await rows.count()).toBe(all);
    await page.getByRole('region', { name: 'Run history' }).getByText('succeeded').waitFor();
  }, 180_000);

  test('the Sync screen checks every mapped value over the whole model: counts and examples of what Knock would refuse', async () => {
    const { page } = w;
    // Nine new people, one with an email Knock refuses, uploaded over the table the model reads.
    const more = Array.from(
      { length: 9 },
      (_, i) => `p_${i + 4},${i === 8 ? 'person12@' : `person${i + 4}@example.com`},Person ${i + 4},${30 + i}`,
    );
    await page.getByRole('link', { name: 'Data', exact: true }).click();
    await page.getByLabel('Upload data').setInputFiles({
      name: 'people.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        [
          'person_id,mail,display_name,age',
          'p_1,ada@example.com,Ada,36',
          'p_2,alan@example.com,Alan,41',
          'p_3,grace@example.com,Grace,85',
          ...more,
        ].join('\n') + '\n',
      ),
    });
    await page.getByRole('region', { name: 'Table people' }).getByText('12 rows').waitFor();
    await page.getByRole('link', { name: 'Sync', exact: true }).click();
    const note = page.getByRole('note', { name: 'Check of email' });
    await note.getByText('email: 1 invalid value of 12 (not a valid email address), e.g. "person12@"').waitFor();
    expect(await page.getByRole('note').count()).toBe(1); // name and age hold nothing Knock refuses
    await page.screenshot({ path: join(shots, '6b-sync-checks.png'), fullPage: true });
  }, 120_000);

  test('Cancel run is a clean stop: the calls in flight finish, their rows are kept, nothing new is sent', async () => {
    const { page } = w;
    // The emulator's own fault API (loopback, test-only: the browser never talks to it) makes every call take 1.5 s,
    // so the cancel lands while the run is sending, however fast the machine.
    const fault = await fetch(`${served.emulatorUrl}/__emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ match: '*', delayMs: 1_500, count: null }),
    });
    expect(fault.status).toBe(201);
    try {
      await explained(page, 'cancel', async () => {
        await page.getByRole('link', { name: 'Runs', exact: true }).click();
        await page.getByRole('button', { name: 'Run sync' }).click();
        const status = page.getByRole('status', { name: 'Run status' });
        // Enabled while the run is running (the click waits for it).
        await page.getByRole('button', { name: 'Cancel run' }).click();
        await status.getByText(/^Stopping/).waitFor();
        await status.getByText(/^Run aborted/).waitFor({ timeout: WAIT });
        expect(await page.getByRole('button', { name: 'Cancel run' }).isDisabled()).toBe(true);
        await page.getByRole('region', { name: 'Run history' }).getByRole('cell', { name: 'aborted' }).waitFor();
        await page.screenshot({ path: join(shots, '8b-cancelled.png') });
        // Nothing is lost: once Knock answers at its usual speed again, the next run sends the rest, and Knock holds
        // exactly the model's valid people.
        await fetch(`${served.emulatorUrl}/__emulator/faults`, { method: 'DELETE' });
        await page.getByRole('button', { name: 'Run sync' }).click();
        await status.getByText(/^Run (succeeded|partial)/).waitFor({ timeout: WAIT });
        const res = await fetch(`${served.emulatorUrl}/v1/users?page_size=50`, { headers: { authorization: 'Bearer sk_test_local' } });
        const ids = ((await res.json()) as { entries: { id: string }[] }).entries.map((u) => u.id);
        // p_12 (an invalid email) is never sent.
        expect(ids.sort()).toEqual(Array.from({ length: 11 }, (_, i) => `p_${i + 1}`).sort());
      });
    } finally {
      await fetch(`${served.emulatorUrl}/__emulator/faults`, { method: 'DELETE' });
    }
  }, 180_000);

  test('Space pauses the list of calls (the new ones counted in a pill) and resumes it; End follows the tail; ↑/↓, Enter, Esc and / work the list', async () => {
    const { page } = w;
    // 11 changed names to send, each call held 3 s by the emulator's fault API (test side only), so the list is
    // paused before any call comes back.
    await page.getByRole('link', { name: 'Model', exact: true }).click();
    await setModel(page, "select person_id as id, mail as email, display_name || ' (renamed)' as full_name, age\nfrom people\norder by id");
    await page.keyboard.press('ControlOrMeta+Enter');
    await expect.poll(() => readFileSync(join(served.dir, 'syncs', 'example-users.yaml'), 'utf8'), { timeout: WAIT }).toMatch(/renamed/);
    const fault = await fetch(`${served.emulatorUrl}/__emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ match: '*', delayMs: 3_000, count: null }),
    });
    expect(fault.status).toBe(201);
    try {
      await explained(page, 'pause', async () => {
        await page.getByRole('link', { name: 'Runs', exact: true }).click();
        await page.getByRole('button', { name: 'Run sync' }).click();
        const status = page.getByRole('status', { name: 'Run status' });
        await status.getByText(/^Running/).waitFor();
        const debug = page.getByRole('region', { name: 'Debugger' });
        const rows = debug
          .getByRole('table', { name: 'HTTP exchanges' })
          .getByRole('row')
          .filter({ has: page.getByRole('cell') });
        await page.getByRole('heading', { name: 'Runs', exact: true }).click();
        await page.keyboard.press(' ');
        await expect.poll(() => debug.getByRole('button', { name: 'Pause' }).getAttribute('aria-pressed')).toBe('true');
        const shown = await rows.count();
        const pill = debug.getByRole('button', { name: /^\d+ new calls: show them$/ });
        await pill.waitFor({ timeout: WAIT });
        await status.getByText(/^Run (succeeded|partial)/).waitFor({ timeout: WAIT });
        await expect.poll(async () => Number((await pill.textContent())!.trim().split(' ')[0]), { timeout: WAIT }).toBe(11 - shown);
        expect(await rows.count()).toBe(shown);
        await page.screenshot({ path: join(shots, '8c-paused.png') });
        // Space again shows them; End keeps the newest call in view.
        await page.getByRole('heading', { name: 'Runs', exact: true }).click();
        await page.keyboard.press(' ');
        await expect.poll(() => rows.count(), { timeout: WAIT }).toBe(11);
        expect(await pill.count()).toBe(0);
        expect(await debug.getByRole('button', { name: 'Pause' }).getAttribute('aria-pressed')).toBe('false');
        await page.keyboard.press('End');
        await expect.poll(() => debug.getByRole('button', { name: 'Follow tail' }).getAttribute('aria-pressed')).toBe('true');
        // ↑/↓ mark a call (and stop following the tail), Enter opens it, Esc closes it; `/` goes to the key filter.
        await page.getByRole('heading', { name: 'Runs', exact: true }).click();
        await page.keyboard.press('ArrowDown');
        await page.keyboard.press('ArrowDown');
        const marked = debug.getByRole('row', { selected: true });
        await expect.poll(() => marked.getAttribute('aria-rowindex')).toBe('3');
        expect(await debug.getByRole('button', { name: 'Follow tail' }).getAttribute('aria-pressed')).toBe('false');
        await page.keyboard.press('ArrowUp');
        await expect.poll(() => marked.getAttribute('aria-rowindex')).toBe('2');
        const seq = (await marked.getByRole('cell').first().textContent())!.trim();
        await page.keyboard.press('Enter');
        const detail = debug.getByRole('group', { name: `Exchange ${seq}` });
        await detail.waitFor();
        await page.keyboard.press('Escape');
        await detail.waitFor({ state: 'detached' });
        await page.keyboard.press('/');
        await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Filter by row key');
        await page.keyboard.press('Escape');
        await expect
          .poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? null))
          .not.toBe('Filter by row key');
      });
    } finally {
      await fetch(`${served.emulatorUrl}/__emulator/faults`, { method: 'DELETE' });
    }
  }, 180_000);

  test('a run that would delete more than the limit needs the number of deletions typed first', async () => {
    const { page } = w;
    // Deletes on, and a model of 5 of the 11 people synced: 6 deletions, above the 20 % limit.
    await page.getByRole('link', { name: 'Sync', exact: true }).click();
    await page.getByRole('combobox', { name: 'On delete' }).selectOption('delete');
    await expect
      .poll(() => readFileSync(join(served.dir, 'syncs', 'example-users.yaml'), 'utf8'), { timeout: WAIT })
      .toMatch(/onDelete: delete/);
    await page.getByRole('link', { name: 'Model', exact: true }).click();
    await setModel(page, 'select person_id as id, mail as email, display_name as full_name, age\nfrom people\nwhere age < 35\norder by id');
    await page.keyboard.press('ControlOrMeta+Enter');
    await page.getByRole('status').getByText('5 rows · 4 columns').waitFor();
    await expect.poll(() => readFileSync(join(served.dir, 'syncs', 'example-users.yaml'), 'utf8'), { timeout: WAIT }).toMatch(/age < 35/);
    await page.getByRole('link', { name: 'Dry run', exact: true }).click();
    await page.getByRole('button', { name: 'Dry run' }).click();
    await page
      .getByRole('alert')
      .getByText(/6 removals = .* above this sync's limit/)
      .waitFor();
    expect(await page.getByRole('button', { name: 'Run this plan' }).count()).toBe(0);
    const confirm = page.getByRole('form', { name: 'Confirm deletions' });
    const go = confirm.getByRole('button', { name: 'Run with the deletions' });
    await confirm.getByRole('textbox', { name: 'Number of deletions to confirm' }).fill('5');
    expect(await go.isDisabled()).toBe(true);
    await confirm.getByRole('textbox', { name: 'Number of deletions to confirm' }).fill('6');
    await page.screenshot({ path: join(shots, '7b-dry-run-mass-delete.png'), fullPage: true });
    await go.click();
    await expect.poll(() => new URL(page.url()).pathname).toBe('/runs');
    await page
      .getByRole('status', { name: 'Run status' })
      .getByText(/^Run succeeded/)
      .waitFor({ timeout: WAIT });
    const res = await fetch(`${served.emulatorUrl}/v1/users?page_size=50`, { headers: { authorization: 'Bearer sk_test_local' } });
    const ids = ((await res.json()) as { entries: { id: string }[] }).entries.map((u) => u.id);
    expect(ids.sort()).toEqual(['p_4', 'p_5', 'p_6', 'p_7', 'p_8']);
  }, 180_000);

  test('Suggest mappings matches names case- and punctuation-insensitively, as suggestions to accept; unmapped columns become custom fields', async () => {
    const { page } = w;
    const syncFile = () => readFileSync(join(served.dir, 'syncs', 'example-users.yaml'), 'utf8');
    await page.getByRole('link', { name: 'Model', exact: true }).click();
    await setModel(
      page,
      "select person_id as id, mail as Email_Address, display_name as full_name, age, 'gold' as tier\nfrom people\norder by id",
    );
    await page.keyboard.press('ControlOrMeta+Enter');
    await page
      .getByRole('status')
      .getByText(/rows · 5 columns/)
      .waitFor();
    await expect.poll(syncFile, { timeout: WAIT }).toMatch(/Email_Address/);
    await page.getByRole('link', { name: 'Sync', exact: true }).click();
    await page
      .getByRole('alert', { name: 'Sync problems' })
      .getByText(/email ← email: no such column in the model/)
      .waitFor();
    await page.getByRole('button', { name: 'Suggest mappings' }).click();
    const suggestions = page.getByRole('region', { name: 'Suggested mappings' });
    // A suggestion, not a change: the file keeps the old mapping until it is accepted.
    await suggestions.waitFor();
    expect(syncFile()).toMatch(/email: email\b/);
    await suggestions.getByRole('button', { name: 'Accept email ← Email_Address' }).click();
    await expect
      .poll(() => page.getByRole('combobox', { name: 'email', exact: true }).inputValue(), { timeout: WAIT })
      .toBe('Email_Address');
    await expect.poll(syncFile, { timeout: WAIT }).toMatch(/email: Email_Address/);
    await expect.poll(() => page.getByRole('alert', { name: 'Sync problems' }).count(), { timeout: WAIT }).toBe(0);
    // tier is in no field: it is listed, and one click sends it as a custom property of the same name.
    await page.getByRole('region', { name: 'Unmapped columns' }).getByRole('button', { name: 'Add tier as custom' }).click();
    await expect.poll(() => page.getByRole('combobox', { name: 'tier', exact: true }).inputValue(), { timeout: WAIT }).toBe('tier');
    await expect.poll(syncFile, { timeout: WAIT }).toMatch(/tier: tier/);
    await expect.poll(() => page.getByRole('region', { name: 'Unmapped columns' }).count(), { timeout: WAIT }).toBe(0);
    await page.screenshot({ path: join(shots, '6b-sync-suggest.png'), fullPage: true });
  }, 120_000);

  test('100,000 result rows render only the rows in view, and scrolling reaches the last one', async () => {
    const { page } = w;
    await page.getByRole('link', { name: 'Model', exact: true }).click();
    await setModel(page, 'select range as n, md5(range::varchar) as h from range(100000)');
    await page.getByRole('button', { name: 'Run model' }).click();
    await page.getByRole('status').getByText('100,000 rows · 2 columns').waitFor();
    const grid = page.getByRole('table', { name: 'Model results' });
    await grid.getByRole('cell', { name: '0', exact: true }).waitFor();
    expect(await grid.getByRole('row').count()).toBeLessThan(80); // virtualised: not 100,001 rows in the DOM
    await grid.locator('.body').evaluate((e) => e.scrollTo(0, e.scrollHeight));
    await grid.getByRole('cell', { name: '99999', exact: true }).waitFor();
    expect(await grid.getByRole('row').count()).toBeLessThan(80);
  }, 120_000);

  test('Model: the schema sidebar types names at the cursor; the column profile covers every row in DuckDB; the query history restores a statement', async () => {
    const { page } = w;
    await opened(page, served);
    await page.getByRole('link', { name: 'Model', exact: true }).click();
    const text = () => modelText(page);
    // Tables with their columns and type badges; a click types the name where the cursor is.
    const schema = page.getByRole('complementary', { name: 'Schema' });
    const users = schema.getByRole('list', { name: 'Columns of users' });
    await users.getByRole('listitem').filter({ hasText: 'signup_date' }).getByText('DATE', { exact: true }).waitFor();
    await setModel(page, 'select  from ');
    await schema.getByRole('button', { name: 'Insert table users' }).click();
    await expect.poll(text).toBe('select  from users');
    // The editor has the focus again: move the cursor between the two spaces and insert a column there.
    await page.keyboard.press('Home');
    for (let i = 0; i < 7; i++) await page.keyboard.press('ArrowRight');
    await users.getByRole('button', { name: 'Insert column email' }).click();
    await expect.poll(text).toBe('select email from users');
    await page.keyboard.press('ControlOrMeta+Enter');
    await page.getByRole('status').getByText('200 rows · 1 columns').waitFor();
    // The profile is DuckDB's over the whole result: the grid holds the first 100,000 rows, whose `tail` is NULL;
    // the profile counts the 5 rows after them too.
    await setModel(page, "select range as n, case when range >= 100000 then 'late' end as tail from range(100005)");
    await page.keyboard.press('ControlOrMeta+Enter');
    await page.getByRole('status').getByText('100,005 rows · 2 columns').waitFor();
    const profile = page.getByRole('region', { name: 'Column profile' });
    await profile.getByText('Over all 100,005 rows of the result').waitFor();
    const row = (name: string) =>
      profile
        .getByRole('table', { name: 'Column profile' })
        .getByRole('row')
        .filter({ hasText: new RegExp(`^${name}`) });
    expect(await row('tail').getByRole('cell').allTextContents()).toEqual(['tail', 'VARCHAR', '> 99.9 %', '1', 'late', 'late', 'late ×5']);
    const n = await row('n').getByRole('cell').allTextContents();
    expect(n.slice(0, 6)).toEqual(['n', 'BIGINT', '0 %', '100,005 (unique)', '0', '100004']);
    // The history: newest first, kept in the workspace (a reload keeps it); a click puts a statement back.
    const history = page.getByRole('region', { name: 'Query history' });
    await history.getByRole('button', { name: 'select email from users' }).waitFor();
    expect((await history.getByRole('button').first().textContent())!.trim()).toMatch(/^select range as n/);
    expect(JSON.parse(readFileSync(join(served.dir, '.syncline', 'query-history.json'), 'utf8')).entries[1].sql).toBe(
      'select email from users',
    );
    await page.reload();
    await page.getByRole('region', { name: 'Query history' }).getByRole('button', { name: 'select email from users' }).click();
    await expect.poll(text).toBe('select email from users');
    await page.screenshot({ path: join(shots, '3b-model-profile.png'), fullPage: true });
  }, 180_000);

  test("the debugger's call drawer shows the retry chain: every attempt of the request, its status and the wait before it", async () => {
    const { page } = w;
    await opened(page, served);
    const put = await page.evaluate(
      async (sync) =>
        (await fetch('/api/syncs/retried', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sync) }))
          .status,
      { model: "select 'r_1' as id, 'r1@example.com' as email", key: 'id', sync: { type: 'users', fields: { email: 'email' } } },
    );
    expect(put).toBe(200);
    // The emulator's fault API (test side only) answers the one write 429 twice, then takes it.
    const fault = await fetch(`${served.emulatorUrl}/__emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ match: 'PUT *', count: 2, status: 429, retryAfterMs: 300 }),
    });
    expect(fault.status).toBe(201);
    try {
      await page.goto(`${served.origin}/runs?sync=retried`);
      await page.getByRole('button', { name: 'Run sync' }).click();
      await page
        .getByRole('status', { name: 'Run status' })
        .getByText(/Run succeeded: 1 synced/)
        .waitFor();
      const debug = page.getByRole('region', { name: 'Debugger' });
      const calls = debug.getByRole('table', { name: 'HTTP exchanges' }).getByRole('row').filter({ hasText: '/v1/users/r_1' });
      await expect.poll(() => calls.count(), { timeout: WAIT }).toBe(3);
      // Open the second attempt: the chain lists all three, this one marked, each with the wait before it.
      await calls
        .filter({ has: page.getByRole('cell', { name: '429', exact: true }) })
        .nth(1)
        .click();
      const chain = debug.getByRole('group', { name: 'Retry chain' }).getByRole('table', { name: 'Attempts of this request' });
      const rows = chain.getByRole('row').filter({ has: page.getByRole('cell') });
      await expect.poll(() => rows.count(), { timeout: WAIT }).toBe(3);
      const cells = await Promise.all([0, 1, 2].map((i) => rows.nth(i).getByRole('cell').allTextContents()));
      expect(cells.map((c) => [c[0], c[2]])).toEqual([
        ['1', '429'],
        ['2', '429'],
        ['3', '200'],
      ]);
      expect(cells[0]![1]).toBe('—');
      // Knock said to wait 300 ms: the waits actually used are at least that.
      for (const c of cells.slice(1)) {
        const m = /^(\d+(?:\.\d)?) (ms|s)/.exec(c[1]!);
        expect(m, c[1]).not.toBeNull();
        expect(Number(m![1]) * (m![2] === 's' ? 1000 : 1)).toBeGreaterThanOrEqual(250);
      }
      expect(cells[1]![4]).toMatch(/\(this one\)$/);
      await page.screenshot({ path: join(shots, '8b-retry-chain.png'), fullPage: true });
    } finally {
      await fetch(`${served.emulatorUrl}/__emulator/faults`, { method: 'DELETE' });
      await page.evaluate(() => fetch('/api/syncs/retried', { method: 'DELETE' }));
      await page.goto(`${served.origin}/data?sync=example-users`);
    }
  }, 120_000);

  test('a Knock key typed in the header goes to the server once and is never kept in the browser', async () => {
    const { page } = w;
    const key = 'sk_test_playground_sentinel_7f3a9c';
    await page.getByRole('button', { name: 'Use a Knock key' }).click();
    await page.getByLabel('Knock API key').fill(key);
    const sent = page.waitForRequest((r) => r.url().endsWith('/api/destinations/knock') && r.method() === 'PUT');
    await page.getByRole('button', { name: 'Use key' }).click();
    expect((await sent).postDataJSON()).toEqual({ apiKey: key });
    await page
      .getByLabel('Target')
      .getByText(/^Knock \(sk_…redacted\)$/)
      .waitFor();
    const kept = await page.evaluate(() =>
      JSON.stringify({
        local: { ...localStorage },
        session: { ...sessionStorage },
        cookie: document.cookie,
        url: location.href,
        html: document.documentElement.outerHTML,
        inputs: [...document.querySelectorAll('input')].map((i) => i.value),
      }),
    );
    expect(kept).not.toContain('sentinel');
    await page.screenshot({ path: join(shots, '10-knock-key.png') });
  }, 120_000);

  test('the page requested nothing outside its origin and logged no error besides the five refused requests', async () => {
    expect(w.outside).toEqual([]);
    // Chromium logs the Undo of a table the server no longer kept (404, re-imported instead), the invalid SQL's 400, the bad mapping's 422, the YAML the schema refuses (400) and the unknown row
    // key's 404 as failed resources; nothing else may be logged.
    expect(w.consoleErrors.filter((m) => !/^Failed to load resource: the server responded with a status of/.test(m))).toEqual([]);
    expect(w.consoleErrors.map((m) => /status of (\d+) .* @ \S+(\/api\/\S+)$/.exec(m)?.slice(1).join(' '))).toEqual([
      '404 /api/tables/undo_me/restore',
      '400 /api/query',
      '422 /api/syncs/example-users/plan',
      '400 /api/syncs/example-users/yaml',
      '404 /api/syncs/example-users/test-row',
    ]);
  });
});
