import Knock from '@knocklabs/node';
import { validateKnockRequest, validateKnockResponse } from '@syncline/test-utils';
import { afterEach, expect } from 'vitest';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../src/index.js';

/** Everything a test needs: a running emulator, an SDK client whose traffic is checked, and raw HTTP. */
export interface Harness {
  emulator: RunningEmulator;
  knock: Knock;
  /** Raw HTTP with an API key; every response is checked against @syncline/knock-wire too. */
  http(
    method: string,
    path: string,
    init?: { body?: unknown; rawBody?: string; key?: string | null; headers?: Record<string, string> },
  ): Promise<{ status: number; headers: Headers; body: unknown; text: string }>;
  /** Wire-format problems seen so far (asserted empty after each test). */
  issues: string[];
  /** Number of responses checked. */
  checked(): number;
}

export const KEY = 'sk_test_emulator_1';

/** JSON or text or undefined. */
function parseBody(text: string, type: string | null): unknown {
  if (text === '') return undefined;
  if (type?.includes('json')) return JSON.parse(text);
  return text;
}

/**
 * Starts an emulator (rate limits off unless asked) and an SDK client without retries. All traffic is
 * validated against @syncline/knock-wire (Knock's wire format); responses from injected HTML faults are exempt.
 */
export async function harness(options: EmulatorOptions = {}, sdk: { maxRetries?: number; key?: string } = {}): Promise<Harness> {
  const emulator = await startEmulator({ port: 0, rateLimits: false, bulkDelayMs: 40, ...options });
  const issues: string[] = [];
  let count = 0;
  const check = async (method: string, url: URL, requestBody: unknown, response: Response): Promise<{ text: string; body: unknown }> => {
    const text = await response.clone().text();
    const type = response.headers.get('content-type');
    const body = parseBody(text, type);
    const path = url.pathname;
    if (!path.startsWith('/v1/')) return { text, body };
    const html = response.headers.has('x-emulator-fault') && type?.includes('text/html');
    if (!html) {
      count++;
      for (const issue of validateKnockResponse({ method, path, status: response.status, body }))
        issues.push(`${method} ${path} ${response.status}: ${issue}`);
    }
    // Requests the emulator accepted must be valid by the wire format too (the Census `?members=` form is the documented exception).
    if (response.status < 300 && !url.searchParams.has('members')) {
      for (const issue of validateKnockRequest({ method, path, query: url.searchParams, body: requestBody }))
        issues.push(`request ${method} ${path}: ${issue}`);
    }
    return { text, body };
  };
  const fetchChecked: typeof fetch = async (input, init) => {
    const request = new Request(input as string | URL | Request, init as RequestInit);
    const bodyText = init?.body ? String(init.body) : '';
    const response = await fetch(request);
    await check(request.method, new URL(request.url), bodyText ? JSON.parse(bodyText) : undefined, response);
    return response;
  };
  const knock = new Knock({
    apiKey: sdk.key ?? KEY,
    baseURL: emulator.url,
    maxRetries: sdk.maxRetries ?? 0,
    fetch: fetchChecked,
    logLevel: 'off',
  });
  const h: Harness = {
    emulator,
    knock,
    issues,
    checked: () => count,
    async http(method, path, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      if (init.key !== null) headers['authorization'] = `Bearer ${init.key ?? KEY}`;
      let body: string | undefined = init.rawBody;
      if (init.body !== undefined) body = JSON.stringify(init.body);
      if (body !== undefined) headers['content-type'] = 'application/json';
      const url = new URL(path, emulator.url);
      const response = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
      const { text, body: parsed } = await check(method, url, init.body, response);
      return { status: response.status, headers: response.headers, body: parsed, text };
    },
  };
  return h;
}

/** Per-test harness management: `const h = await fresh()` inside a test. */
export function freshHarness(options: EmulatorOptions = {}, sdk: { maxRetries?: number } = {}): () => Promise<Harness> {
  let current: Harness | undefined;
  afterEach(async () => {
    const h = current;
    current = undefined;
    if (!h) return;
    await h.emulator.close();
    expect(h.issues).toEqual([]);
  });
  return async () => {
    current = await harness(options, sdk);
    return current;
  };
}

/** Waits until `fn` returns a truthy value (polling), or fails after `ms`. */
export async function until<T>(fn: () => T | Promise<T>, ms = 3000): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value as Exclude<T, false | null | undefined | 0 | ''>;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs `fn` against a harness with special options, then closes it and checks the wire-format issues. */
export async function withHarness(
  options: EmulatorOptions,
  fn: (h: Harness) => Promise<void>,
  sdk: { maxRetries?: number; key?: string } = {},
): Promise<void> {
  const h = await harness(options, sdk);
  try {
    await fn(h);
  } finally {
    await h.emulator.close();
  }
  expect(h.issues).toEqual([]);
}
