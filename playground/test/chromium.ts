import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium (`.ci/run` installs it when missing). */
export const CHROMIUM = '/usr/bin/chromium';

/** What a page did that the tests forbid: requests outside its origin, console errors, uncaught errors. */
export interface PageWatch {
  page: Page;
  context: BrowserContext;
  outside: string[];
  consoleErrors: string[];
  close: () => Promise<void>;
}

/**
 * Real Chromium, headless, in a fresh profile, with every background service off, so the only requests are
 * the page's own. Records requests outside `origin` and console errors for the test to assert on.
 */
export async function openChromium(origin: string): Promise<PageWatch> {
  const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'syncline-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: { width: 1280, height: 860 },
    timeout: 120_000,
  });
  context.setDefaultTimeout(60_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const outside: string[] = [];
  const consoleErrors: string[] = [];
  context.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin + '/') && !u.startsWith('data:') && !u.startsWith('blob:')) outside.push(u);
  });
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${m.text()} @ ${m.location().url}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
  return { page, context, outside, consoleErrors, close: () => context.close() };
}
