import { createServer as createHttpServer } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AddressInfo } from 'node:net';
import { createServer, knockTarget, workspaceAt } from '../src/index.js';
import { createRunManager } from '../src/run-manager.js';
import { main } from '@syncline/cli';
import { TOKEN, listen, testServer, type TestServer } from './helpers.js';

let t: TestServer;
beforeAll(async () => {
  t = await testServer();
});
afterAll(async () => {
  await t?.close();
});

interface SseEvent {
  id: number;
  event: string;
  data: Record<string, unknown>;
}

/** Reads SSE events over real HTTP until `stopAfter` says so or the stream ends. */
async function readEvents(
  url: string,
  opts: { lastEventId?: number; stopAfter?: (e: SseEvent, all: SseEvent[]) => boolean } = {},
): Promise<SseEvent[]> {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${TOKEN}`, ...(opts.lastEventId ? { 'last-event-id': String(opts.lastEventId) } : {}) },
    signal: abort.signal,
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let i: number;
      while ((i = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const fields = Object.fromEntries(
          block
            .split('\n')
            .filter((l) => l && !l.startsWith(':'))
            .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trimStart()]),
        );
        if (!fields.id) continue;
        const e = { id: Number(fields.id), event: fields.event!, data: JSON.parse(fields.data!) as Record<string, unknown> };
        events.push(e);
        if (opts.stopAfter?.(e, events)) {
          abort.abort();
          return events;
        }
      }
    }
  } catch (e) {
    if (!abort.signal.aborted) throw e;
  }
  return events;
}

describe('plans and runs', () => {
  test('POST /api/syncs/:name/plan: counts, sample rows field by field, the calls and their time; sends nothing', async () => {
    const before = t.emulator.control.requests().length;
    const { status, body } = await t.json<{
      summary: Record<string, number>;
      changes: { action: string; key: string; fields: unknown[] }[];
      requests: { headers: Record<string, string>; example?: { path: string; body: { users: { id: string }[] }; rows: number } }[];
      estimate: { seconds: number };
      target: unknown;
    }>('POST', '/api/syncs/example-users/plan', { limit: 3 });
    expect(status).toBe(200);
    expect(body.summary).toMatchObject({ total: 200 });
    expect(body.summary.added! + body.summary.invalid!).toBe(200);
    expect(body.changes).toHaveLength(3);
    expect(body.changes[0]).toMatchObject({ action: 'add', key: 'u_0001' });
    expect(body.changes[0]!.fields).toContainEqual({ field: 'email', before: null, after: 'lucia.torvalds1@example.com' });
    expect(body.requests[0]).toMatchObject({ method: 'POST', path: '/v1/users/bulk/identify', calls: 1, tier: 1, perSecond: 1 });
    expect(body.requests[0]!.headers.authorization).toBe('Bearer sk_…redacted');
    // The Requests tab's example: the endpoint's first call, built from the sample rows as the run builds it.
    const example = body.requests[0]!.example!;
    expect(example).toMatchObject({ path: '/v1/users/bulk/identify', rows: 3 });
    expect(example.body.users.map((u) => u.id)).toEqual(body.changes.map((c) => c.key));
    expect(example.body.users[0]).toMatchObject({ id: 'u_0001', email: 'lucia.torvalds1@example.com' });
    expect(body.estimate.seconds).toBeGreaterThanOrEqual(1);
    expect(body.target).toMatchObject({ kind: 'emulator' });
    expect(t.emulator.control.requests().length).toBe(before);
  });

  test("the plan's document is what `syncline plan --json` prints for the same sync (Download plan.json)", async () => {
    const { body } = await t.json<{ summary: Record<string, number>; document: Record<string, unknown> }>(
      'POST',
      '/api/syncs/example-users/plan',
      { limit: 3 },
    );
    let out = '';
    const sink = { isTTY: false, write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream;
    const code = await main(['plan', join(t.dir, 'syncs', 'example-users.yaml'), '--json', '--limit', '3'], {
      stdout: sink,
      stderr: { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream,
      env: { KNOCK_API_KEY: 'sk_test_local', KNOCK_BASE_URL: t.emulator.url },
    });
    expect(code).toBe(0);
    const cli = JSON.parse(out) as Record<string, unknown>;
    // When it was made and how long the model took differ between the two runs; everything else is the same.
    const timeless = ({ created_at: at, model, ...rest }: Record<string, unknown>) => {
      expect(Number.isNaN(Date.parse(String(at)))).toBe(false);
      expect(typeof (model as { elapsed_ms: unknown }).elapsed_ms).toBe('number');
      return { ...rest, model: { ...(model as object), elapsed_ms: 0 } };
    };
    const fromServer = timeless(body.document);
    const fromCli = timeless(cli);
    // The sync file path is absolute in both (the CLI was given the absolute path the server loads).
    expect(fromServer).toEqual(fromCli);
    expect(fromServer).toMatchObject({ kind: 'syncline.plan', format_version: '1.0', summary: { add: body.summary.added } });
  });

  test("the sync's destination.tiers set the plan's rates: raised limits, or off for none", async () => {
    const plan = async (tiers: unknown) => {
      await t.json('PUT', '/api/syncs/tiered', {
        model: 'select * from users',
        key: 'id',
        destination: { type: 'knock', tiers },
        sync: { type: 'users', fields: { email: 'email' } },
      });
      return (await t.json<{ requests: { path: string; perSecond: number | null; seconds: number }[] }>('POST', '/api/syncs/tiered/plan'))
        .body;
    };
    expect((await plan({ 1: 4 })).requests[0]).toMatchObject({ path: '/v1/users/bulk/identify', perSecond: 4 });
    expect((await plan('off')).requests[0]).toMatchObject({ perSecond: null, seconds: 0 });
    await t.call('DELETE', '/api/syncs/tiered');
  });

  test("a failed run sends the sync's alerts as syncline run does, and its record lists the deliveries", async () => {
    const received: { signature: string | undefined; body: { event?: string; sync?: string } }[] = [];
    const hook = createHttpServer((req, res) => {
      let text = '';
      req.on('data', (d: Buffer) => (text += d));
      req.on('end', () => {
        received.push({ signature: req.headers['syncline-signature'] as string | undefined, body: JSON.parse(text) as { event?: string } });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
      await t.json('PUT', '/api/syncs/alerting', {
        model: "select id, case when id = 'u_0002' then error('boom') else email end as email from users",
        key: 'id',
        sync: { type: 'users', fields: { email: 'email' } },
        alerts: [{ channel: 'webhook', url, secret: 'a-webhook-secret-of-32-characters', on: ['failed', 'recovered'] }],
      });
      const started = await t.json<{ runId: string }>('POST', '/api/syncs/alerting/run');
      await t.server.settle();
      const run = await t.json<{ run: { status: string }; alerts: { channel: string; event: string; ok: boolean }[] }>(
        'GET',
        `/api/runs/${started.body.runId}`,
      );
      expect(run.body.run.status).toBe('failed');
      expect(run.body.alerts).toEqual([expect.objectContaining({ channel: 'webhook', event: 'failed', ok: true })]);
      expect(received).toHaveLength(1);
      expect(received[0]!.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(JSON.stringify(run.body)).not.toContain('a-webhook-secret');
    } finally {
      hook.close();
      await t.call('DELETE', '/api/syncs/alerting');
    }
  });

  test('a plan of an unknown sync is a 404; a broken model is a 422 naming the problem', async () => {
    expect((await t.call('POST', '/api/syncs/nope/plan')).status).toBe(404);
    await t.json('PUT', '/api/syncs/broken', { model: 'select * from nosuch', key: 'id', sync: { type: 'users', fields: {} } });
    const r = await t.json<{ error: { code: string; message: string } }>('POST', '/api/syncs/broken/plan');
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('model_failed');
    expect(r.body.error.message).toMatch(/nosuch/);
    await t.call('DELETE', '/api/syncs/broken');
  });

  test('the model of a plan goes through the sandbox: a second statement or a file outside is refused', async () => {
    await t.json('PUT', '/api/syncs/sneaky', {
      model: "select * from read_csv('/etc/passwd')",
      key: 'id',
      sync: { type: 'users', fields: {} },
    });
    const r = await t.json<{ error: { code: string; message: string } }>('POST', '/api/syncs/sneaky/plan');
    expect(r.status).toBe(422);
    expect(r.body.error.message).toMatch(/"\/etc\/passwd" is outside the workspace/);
    await t.call('DELETE', '/api/syncs/sneaky');
  });

  test('a run reads no file outside the workspace, even through a path built by an expression', async () => {
    await t.json('PUT', '/api/syncs/computed', {
      model: "select 'x' || filename as id, content as email from read_text('/etc/host' || 'name')",
      key: 'id',
      sync: { type: 'users', fields: { email: 'email' } },
    });
    const before = t.emulator.control.requests().filter((e) => e.method !== 'GET').length;
    const started = await t.json<{ runId: string }>('POST', '/api/syncs/computed/run');
    expect(started.status).toBe(202);
    await t.server.settle();
    const run = await t.json<{ run: { status: string; error?: { message: string } } }>('GET', `/api/runs/${started.body.runId}`);
    expect(run.body.run.status).toBe('failed');
    // DuckDB's Permission Error (the run's ledger connection is locked to the workspace), said in words.
    expect(run.body.run.error?.message).toMatch(/"\/etc\/hostname" is outside the workspace/);
    expect(t.emulator.control.requests().filter((e) => e.method !== 'GET').length).toBe(before);
    await t.call('DELETE', '/api/syncs/computed');
  });

  test('a run returns its id at once, 409 while it is active, then streams every exchange over real HTTP with Last-Event-ID replay', async () => {
    t.emulator.control.setBulkDelay(1_500); // a bulk job that takes a while: the run stays active and polls
    const http = await listen(t.server.app);
    try {
      const started = await t.json<{ runId: string }>('POST', '/api/syncs/example-users/run');
      expect(started.status).toBe(202);
      const { runId } = started.body;
      expect(runId).toMatch(/^r_/);
      const again = await t.json<{ error: { code: string } }>('POST', '/api/syncs/example-users/run');
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('run_active');
      expect((await t.call('POST', '/api/syncs/example-users/plan')).status).toBe(409);

      const url = `${http.origin}/api/runs/${runId}/events`;
      // A client follows the run, drops after its first exchange, and reconnects with Last-Event-ID.
      const first = await readEvents(url, { stopAfter: (e) => e.event === 'exchange' });
      const lastId = first.at(-1)!.id;
      const rest = await readEvents(url, { lastEventId: lastId });
      expect(rest[0]!.id).toBe(lastId + 1);
      const all = [...first, ...rest];
      expect(all.map((e) => e.id)).toEqual(all.map((_, i) => i + 1));
      expect(all.at(-1)).toMatchObject({ event: 'end', data: { status: 'succeeded' } });
      // The server's log gives the send's ETA at Knock's rate limits, as syncline run prints it.
      expect(t.logs).toContainEqual(
        expect.stringMatching(new RegExp(`^run ${runId} of example-users: Send: \\d+ changes · ETA ≈ \\S+ at Knock's rate limits$`)),
      );
      expect(all.filter((e) => e.event === 'phase').map((e) => `${e.data.name}:${e.data.status}`)).toContain('send:start');
      const exchanges = all.filter((e) => e.event === 'exchange').map((e) => e.data);
      expect(exchanges.length).toBeGreaterThanOrEqual(2);
      const identify = exchanges.find((x) => x.path === '/v1/users/bulk/identify')!;
      expect(identify).toMatchObject({ method: 'POST', status: 200, attempt: 1 });
      // Every valid row, in one bulk call.
      expect((identify.keys as string[]).length).toBeGreaterThan(150);
      expect(identify.keys).toContain('u_0002');
      expect(typeof identify.durationMs).toBe('number');
      expect(JSON.stringify(identify.requestHeaders)).toMatch(/…redacted/);

      // A late client of the finished run gets the whole log, then the stream ends.
      const replay = await readEvents(url);
      expect(replay.map((e) => e.id)).toEqual(all.map((e) => e.id));

      // The ledger records exactly the exchanges the stream delivered.
      const page = await t.json<{ total: number }>('GET', `/api/runs/${runId}/exchanges?limit=1000`);
      expect(page.body.total).toBe(exchanges.length);

      const run = await t.json<{ run: { counts: Record<string, number> }; failedRows: unknown[] }>('GET', `/api/runs/${runId}`);
      expect(run.body.run).toMatchObject({ runId, sync: 'example-users', status: 'succeeded' });
      expect(run.body.run.counts.synced).toBe(run.body.run.counts.added);
      const history = await t.json<{ runs: { runId: string; status: string }[] }>('GET', '/api/syncs/example-users/runs');
      expect(history.body.runs[0]).toMatchObject({ runId, status: 'succeeded' });
      expect((await t.call('POST', `/api/runs/${runId}/cancel`)).status).toBe(409);
    } finally {
      t.emulator.control.setBulkDelay(0);
      await http.close();
    }
  });

  test('GET /api/runs/:runId/exchanges filters by status class and row key, in pages', async () => {
    const history = await t.json<{ runs: { runId: string }[] }>('GET', '/api/syncs/example-users/runs');
    const runId = history.body.runs[0]!.runId;
    const all = await t.json<{ exchanges: { seq: number; status: number; keys?: string[] }[]; total: number }>(
      'GET',
      `/api/runs/${runId}/exchanges`,
    );
    expect(all.body.total).toBeGreaterThanOrEqual(2);
    const byKey = await t.json<{ exchanges: { path: string; keys: string[] }[]; total: number }>(
      'GET',
      `/api/runs/${runId}/exchanges?key=u_0007`,
    );
    expect(byKey.body.total).toBeGreaterThanOrEqual(1);
    for (const x of byKey.body.exchanges) expect(x.keys).toContain('u_0007');
    expect((await t.json<{ total: number }>('GET', `/api/runs/${runId}/exchanges?key=nobody`)).body.total).toBe(0);
    expect((await t.json<{ total: number }>('GET', `/api/runs/${runId}/exchanges?status=5xx`)).body.total).toBe(0);
    const ok = await t.json<{ total: number }>('GET', `/api/runs/${runId}/exchanges?status=2xx`);
    expect(ok.body.total).toBe(all.body.total);
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { exchanges: { seq: number }[]; nextCursor: string | null } } = await t.json(
        'GET',
        `/api/runs/${runId}/exchanges?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.body.exchanges.map((x) => x.seq));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.body.exchanges.map((x) => x.seq));
    // A virtual list jumps to any position: `offset` starts a page there; `through` says how many of the run's
    // exchanges the answer looked at, so a live tail counts only the ones after it.
    const last = await t.json<{ exchanges: { seq: number }[]; total: number; through: number }>(
      'GET',
      `/api/runs/${runId}/exchanges?offset=${all.body.total - 1}&limit=5`,
    );
    expect(last.body.exchanges.map((x) => x.seq)).toEqual([all.body.exchanges.at(-1)!.seq]);
    expect(last.body.through).toBe(all.body.total);
    expect((await t.call('GET', `/api/runs/${runId}/exchanges?offset=-1`)).status).toBe(400);
  });

  test('a run recorded in the ledger is found by a new server (history, run, events replay)', async () => {
    const history = await t.json<{ runs: { runId: string }[] }>('GET', '/api/syncs/example-users/runs');
    const runId = history.body.runs[0]!.runId;
    const fresh = createServer({ dir: t.dir, token: TOKEN, emulatorUrl: t.emulator.url, baseUrl: t.emulator.url, log: () => undefined });
    try {
      const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
      const run = await (await fresh.app.request(`/api/runs/${runId}`, auth)).json();
      expect(run).toMatchObject({ run: { runId, status: 'succeeded' } });
      const events = await (await fresh.app.request(`/api/runs/${runId}/events`, auth)).text();
      expect(events).toMatch(/event: exchange/);
      expect(events).toMatch(/event: end/);
      expect((await fresh.app.request('/api/runs/r_nope/events', auth)).status).toBe(404);
      // Its exchanges in pages, filtered and cut in the ledger: the same as the server that ran it answers.
      type Page = { exchanges: { seq: number; keys?: string[] }[]; total: number; through: number };
      const page = async (server: { app: { request: typeof fresh.app.request } }, query: string): Promise<Page> =>
        (await (await server.app.request(`/api/runs/${runId}/exchanges?${query}`, auth)).json()) as Page;
      for (const query of ['limit=1000', 'offset=1&limit=2', 'key=u_0007', 'status=2xx&limit=3', 'status=5xx', 'key=nobody'])
        expect(await page(fresh, query)).toEqual(await page(t.server, query));
      const all = await page(fresh, 'limit=1000');
      expect(all.through).toBe(all.total);
      expect(all.exchanges.map((x) => x.seq)).toEqual(Array.from({ length: all.total }, (_, i) => i + 1));
      const byKey = await page(fresh, 'key=u_0007');
      expect(byKey.total).toBeGreaterThanOrEqual(1);
      for (const x of byKey.exchanges) expect(x.keys).toContain('u_0007');
      expect((await fresh.app.request('/api/runs/r_nope/exchanges', auth)).status).toBe(404);
      // As the playground asks at once (the run, the history, pages of calls): the reads of one ledger take turns
      // instead of failing with "is open".
      const together = await Promise.all(
        [
          `/api/runs/${runId}`,
          '/api/syncs/example-users/runs',
          ...[0, 1, 2, 3].map((o) => `/api/runs/${runId}/exchanges?offset=${o}&limit=1`),
        ].map((path) => fresh.app.request(path, auth)),
      );
      expect(together.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    } finally {
      await fresh.close();
    }
  });

  test('GET /api/runs/:runId/exchanges?request= gives every attempt of one request (its retry chain), live and from the ledger', async () => {
    type Page = {
      exchanges: { seq: number; method: string; status: number | null; attempt: number; requestHeaders: Record<string, string> }[];
      total: number;
    };
    await t.json('PUT', '/api/syncs/retried', {
      model: "select 'r_1' as id, 'r1@example.com' as email",
      key: 'id',
      sync: { type: 'users', fields: { email: 'email' } },
    });
    // Knock answers the one write 429 twice (a short Retry-After), then takes it: three attempts of one request.
    t.emulator.control.addFault({ match: 'PUT *', count: 2, status: 429, retryAfterMs: 200 });
    const fresh = createServer({ dir: t.dir, token: TOKEN, emulatorUrl: t.emulator.url, baseUrl: t.emulator.url, log: () => undefined });
    try {
      const { runId } = (await t.json<{ runId: string }>('POST', '/api/syncs/retried/run')).body;
      await expect
        .poll(async () => (await t.json<{ run: { status: string } }>('GET', `/api/runs/${runId}`)).body.run.status, { timeout: 30_000 })
        .toBe('succeeded');
      const all = await t.json<Page>('GET', `/api/runs/${runId}/exchanges`);
      const puts = all.body.exchanges.filter((x) => x.method === 'PUT');
      expect(puts.map((x) => [x.attempt, x.status])).toEqual([
        [1, 429],
        [2, 429],
        [3, 200],
      ]);
      const request = puts[0]!.requestHeaders['idempotency-key']!;
      expect(request).toMatch(/^syncline-/);
      const chain = `/api/runs/${runId}/exchanges?request=${encodeURIComponent(request)}`;
      const live = await t.json<Page>('GET', chain);
      expect(live.body.exchanges.map((x) => x.seq)).toEqual(puts.map((x) => x.seq));
      // A finished run's chain is cut from its ledger in DuckDB: the same answer.
      const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
      expect(await (await fresh.app.request(chain, auth)).json()).toEqual(live.body);
      expect((await t.json<Page>('GET', `/api/runs/${runId}/exchanges?request=syncline-nope`)).body.total).toBe(0);
    } finally {
      t.emulator.control.clearFaults();
      await fresh.close();
      await t.call('DELETE', '/api/syncs/retried');
    }
  });

  test('reads of a ledger take turns, and a run started during one waits for it, not "locked" or "is open"', async () => {
    // DuckDB locks the ledger file per process: the sync process of a run that opened it during the read failed
    // with "locked by another process" (the Runs screen loads the history as the user clicks Run sync).
    const runs = createRunManager({
      ws: workspaceAt(t.dir),
      target: knockTarget({ emulatorUrl: t.emulator.url, baseUrl: t.emulator.url }),
      env: {},
      log: () => undefined,
    });
    try {
      await runs.plan('example-users', {}); // the sync process is up: a run opens the ledger at once
      let release!: () => void;
      let opened!: () => void;
      const isOpen = new Promise<void>((r) => (opened = r));
      const read = runs.withLedger('example-users', async (l) => {
        opened();
        await new Promise<void>((r) => (release = r));
        return l.runs(1);
      });
      await isOpen;
      // A second read meanwhile (the history beside a page of calls) waits its turn instead of failing "is open".
      const second = runs.withLedger('example-users', (l) => l.runs(1));
      const run = runs.start('example-users', { fullResync: true });
      setTimeout(() => release(), 1_500);
      expect((await read)?.length).toBe(1);
      expect((await second)?.length).toBe(1);
      await run.finished;
      expect(run.result?.error ?? null).toBeNull();
      expect(run.status).toBe('succeeded');
      // And a claimed sync takes no new read: it is answered from memory meanwhile.
      expect(await runs.withLedger('example-users', async () => 'read')).toBe('read');
    } finally {
      await runs.close();
    }
  });

  test('cancel is a clean stop: the run ends aborted and confirmed rows stay committed', async () => {
    await t.json('PUT', '/api/syncs/members', {
      model: 'select user_id, email, name from members',
      key: 'user_id',
      sync: { type: 'users', fields: { email: 'email', name: 'name' } },
    });
    // Every write takes a while (bulk jobs and single calls alike), so the run is still sending when the cancel
    // comes, however fast the machine: the calls in flight finish and their rows are committed.
    t.emulator.control.setBulkDelay(1_000);
    t.emulator.control.addFault({ match: 'PUT /v1/users/{user_id}', delayMs: 1_500, count: null });
    try {
      const { body } = await t.json<{ runId: string }>('POST', '/api/syncs/members/run');
      await new Promise((r) => setTimeout(r, 300));
      const cancel = await t.call('POST', `/api/runs/${body.runId}/cancel`);
      expect(cancel.status).toBe(202);
      await t.server.settle();
      const run = await t.json<{ run: { status: string; counts: { synced: number } } }>('GET', `/api/runs/${body.runId}`);
      expect(run.body.run.status).toBe('aborted');
      // Whatever was confirmed before the stop is in the ledger: a new plan does not add it again.
      const plan = await t.json<{ summary: { total: number; added: number; invalid: number } }>('POST', '/api/syncs/members/plan');
      expect(plan.body.summary.added).toBe(plan.body.summary.total - run.body.run.counts.synced - plan.body.summary.invalid);
    } finally {
      t.emulator.control.setBulkDelay(0);
      t.emulator.control.clearFaults();
    }
  });

  test('plan with remote: true reads the sample rows from Knock: now → last sent → will send, drift marked', async () => {
    // After the run above: someone edits u_0002's name in Knock, and the model changes u_0002's plan.
    const edit = await fetch(`${t.emulator.url}/v1/users/u_0002`, {
      method: 'PUT',
      headers: { authorization: 'Bearer sk_test_local', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Edited in Knock' }),
    });
    expect(edit.status).toBe(200);
    const csvPath = join(t.dir, 'data', 'users.csv');
    const csv = readFileSync(csvPath, 'utf8');
    writeFileSync(csvPath, csv.replace(/^(u_0002,.*),pro,/m, '$1,enterprise,'));
    try {
      const reads = t.emulator.control.requests().length;
      const { status, body } = await t.json<{
        changes: { key: string }[];
        remote: {
          key: string;
          found: boolean;
          fields: { field: string; now: unknown; lastSent: unknown; willSend: unknown; drift: boolean }[];
        }[];
      }>('POST', '/api/syncs/example-users/plan', { remote: true });
      expect(status).toBe(200);
      expect(body.changes.map((c) => c.key)).toContain('u_0002');
      const row = body.remote.find((r) => r.key === 'u_0002')!;
      expect(row.found).toBe(true);
      expect(row.fields.find((f) => f.field === 'name')).toEqual({
        field: 'name',
        now: 'Edited in Knock',
        lastSent: 'Leslie Lamport',
        willSend: 'Leslie Lamport',
        drift: true,
      });
      expect(row.fields.find((f) => f.field === 'plan')).toEqual({
        field: 'plan',
        now: 'pro',
        lastSent: 'pro',
        willSend: 'enterprise',
        drift: false,
      });
      // One read per sample row, through the destination (GET /v1/users/{id}); nothing written.
      const sent = t.emulator.control.requests().slice(reads);
      expect(sent.every((r) => r.method === 'GET')).toBe(true);
      expect(sent.length).toBe(body.remote.length);
    } finally {
      writeFileSync(csvPath, csv);
    }
  });
});
