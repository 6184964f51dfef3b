import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { TOKEN, testServer, type TestServer } from './helpers.js';

// A key shaped like no other text, so any leak of it (or a part of it) is found by a plain search.
const SENTINEL = 'sk_test_SENTINEL7c1d9e2b4a6f8';
const PARTS = [SENTINEL, 'SENTINEL7c1d9e2b4a6f8', '7c1d9e2b4a6f8'];

let t: TestServer;
beforeAll(async () => {
  t = await testServer({ apiKey: SENTINEL });
});
afterAll(async () => {
  await t?.close();
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

test('a whole sync started through the API never shows the key: responses, SSE, logs, run records, ledger files, errors', async () => {
  const seen: string[] = [];
  const record = async (r: Response) => {
    const text = await r.text();
    seen.push(text, JSON.stringify([...r.headers]));
    return text;
  };
  // The key is given through the API, as the playground does, pointed at the emulator.
  await record(await t.call('PUT', '/api/destinations/knock', { apiKey: SENTINEL, baseUrl: t.emulator.url }));
  await record(await t.call('GET', '/api/health'));
  await record(await t.call('POST', '/api/destinations/knock/check'));
  await record(await t.call('GET', '/api/syncs/example-users'));
  await record(await t.call('POST', '/api/syncs/example-users/plan', { limit: 1000 }));
  // Errors: one from Knock (a 401 through a fault), one from the model, one from validation.
  t.emulator.control.addFault({ match: 'GET /v1/users', status: 401, count: 1 });
  await record(await t.call('POST', '/api/destinations/knock/check'));
  await record(await t.call('PUT', '/api/syncs/bad', { model: `select '${'x'}' as id`, key: 'nope', sync: { type: 'users', fields: {} } }));
  await record(await t.call('POST', '/api/syncs/bad/plan'));
  await record(await t.call('PUT', '/api/destinations/knock', { apiKey: SENTINEL, baseUrl: 'https://evil.example' }));

  const http = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: t.server.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  try {
    const started = JSON.parse(await record(await t.call('POST', '/api/syncs/example-users/run'))) as { runId: string };
    const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const sse = await fetch(`${origin}/api/runs/${started.runId}/events`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const stream = await record(sse);
    expect(stream).toMatch(/event: exchange/);
    expect(stream).toMatch(/event: end/);
    await t.server.settle();
    const runText = await record(await t.call('GET', `/api/runs/${started.runId}`));
    expect(JSON.parse(runText)).toMatchObject({ run: { status: 'succeeded' } });
    await record(await t.call('GET', `/api/runs/${started.runId}/exchanges?limit=1000`));
    await record(await t.call('GET', '/api/syncs/example-users/runs'));
  } finally {
    await new Promise<void>((r) => http.close(() => r()));
  }
  // The emulator received the key (it is the destination), so the sync really used it.
  expect(t.emulator.control.requests().some((x) => JSON.stringify(x).includes('bulk/identify'))).toBe(true);

  const ledgerFiles = filesUnder(join(t.dir, 'syncs'));
  expect(ledgerFiles.some((f) => f.endsWith('.duckdb'))).toBe(true);
  const everything = [...seen, ...t.logs, ...ledgerFiles.map((f) => readFileSync(f).toString('latin1'))];
  for (const text of everything)
    for (const part of PARTS) expect(text.includes(part), `found "${part}" in: ${text.slice(0, 200)}`).toBe(false);
  expect(seen.join('\n')).toMatch(/sk_…redacted/);
});
