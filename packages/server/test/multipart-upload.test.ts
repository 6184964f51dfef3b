import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TOKEN, listen, testServer, type TestServer } from './helpers.js';

/** Default limit (1 GiB) and a small one (64 KiB), each served over real HTTP. */
let big: TestServer;
let small: TestServer;
let bigHttp: Awaited<ReturnType<typeof listen>>;
let smallHttp: Awaited<ReturnType<typeof listen>>;
beforeAll(async () => {
  [big, small] = await Promise.all([testServer(), testServer({ uploadLimitBytes: 64 * 1024 })]);
  [bigHttp, smallHttp] = await Promise.all([listen(big.server.app), listen(small.server.app)]);
});
afterAll(async () => {
  await Promise.all([bigHttp?.close(), smallHttp?.close()]);
  await Promise.all([big?.close(), small?.close()]);
});

const auth = { authorization: `Bearer ${TOKEN}` };
/** A CSV of `rows` rows (~30 bytes each). */
const csv = (rows: number): string => `id,email\n${Array.from({ length: rows }, (_, i) => `u_${i},user${i}@example.com`).join('\n')}\n`;
const form = (file: Blob, filename: string, name?: string): FormData => {
  const f = new FormData();
  if (name !== undefined) f.set('name', name);
  f.set('file', file, filename);
  return f;
};
const leftovers = (dir: string): string[] => readdirSync(join(dir, 'data')).filter((f) => f.endsWith('.part'));

describe('POST /api/tables with multipart/form-data (real HTTP)', () => {
  test('a file much larger than a stream buffer (64 KiB) becomes a table; the name field names it', async () => {
    const text = csv(40_000); // ~1 MB
    expect(text.length).toBeGreaterThan(16 * 64 * 1024);
    const r = await fetch(`${bigHttp.origin}/api/tables`, {
      method: 'POST',
      headers: auth,
      body: form(new Blob([text]), 'whatever.txt', 'many_users'),
    });
    expect(r.status, await r.clone().text()).toBe(201);
    expect(await r.json()).toMatchObject({ name: 'many_users', format: 'csv', file: 'data/many_users.csv', rowCount: 40_000 });
    expect(statSync(join(big.dir, 'data', 'many_users.csv')).size).toBe(text.length);
    expect(leftovers(big.dir)).toEqual([]);
  });

  test('the file is written to disk while the request still arrives (streamed, not buffered whole)', async () => {
    const boundary = 'syncline-test-boundary';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="streamed.csv"\r\nContent-Type: text/csv\r\n\r\n`;
    const enc = new TextEncoder();
    const first = enc.encode(head + csv(10_000)); // ~300 KB of the file
    const rest = enc.encode(`u_last,last@example.com\n\r\n--${boundary}--\r\n`);
    const dataDir = join(big.dir, 'data');
    let sawPartOnDisk = false;
    let step = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (step === 0) controller.enqueue(first);
        else if (step === 1) {
          // The rest is held back until the server has put the first part on disk: a server that buffered
          // the whole body first (Request.formData()) never would, and this upload would time out.
          const deadline = Date.now() + 20_000;
          while (!sawPartOnDisk && Date.now() < deadline) {
            sawPartOnDisk = readdirSync(dataDir).some((f) => f.endsWith('.part') && statSync(join(dataDir, f)).size > 0);
            await new Promise((r) => setTimeout(r, 20));
          }
          controller.enqueue(rest);
        } else controller.close();
        step++;
      },
    });
    const r = await fetch(`${bigHttp.origin}/api/tables`, {
      method: 'POST',
      headers: { ...auth, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(sawPartOnDisk).toBe(true);
    expect(r.status, await r.clone().text()).toBe(201);
    // No name field: the file name gives the table's name.
    expect(await r.json()).toMatchObject({ name: 'streamed', format: 'csv', rowCount: 10_001 });
  });

  test('the type comes from the content; a ../ in the file name does nothing', async () => {
    const json = JSON.stringify([
      { id: 'a', n: 1 },
      { id: 'b', n: 2 },
    ]);
    const r = await fetch(`${bigHttp.origin}/api/tables`, {
      method: 'POST',
      headers: auth,
      body: form(new Blob([json]), '../../escape.csv'),
    });
    expect(r.status, await r.clone().text()).toBe(201);
    expect(await r.json()).toMatchObject({ name: 'escape', format: 'json', file: 'data/escape.json', rowCount: 2 });
    expect(existsSync(join(big.dir, '..', 'escape.csv'))).toBe(false);
    expect(existsSync(join(big.dir, '..', 'escape.json'))).toBe(false);
    const binary = await fetch(`${bigHttp.origin}/api/tables`, {
      method: 'POST',
      headers: auth,
      body: form(new Blob([new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1])]), 'data.csv', 'blob'),
    });
    expect(binary.status).toBe(415);
    expect(leftovers(big.dir)).toEqual([]);
  });

  test('a form without a file part is a 400 that says what to send; a clash of names is a 409', async () => {
    const f = new FormData();
    f.set('name', 'nothing');
    const r = await fetch(`${bigHttp.origin}/api/tables`, { method: 'POST', headers: auth, body: f });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: { code: 'invalid_request', message: expect.stringMatching(/no "file" part/) } });
    const clash = await fetch(`${bigHttp.origin}/api/tables`, {
      method: 'POST',
      headers: auth,
      body: form(new Blob([csv(2)]), 'users.csv'),
    });
    expect(clash.status).toBe(409);
  });

  test('beyond the size limit: 413 (declared length, and a chunked body cut while it streams), nothing left on disk', async () => {
    const declared = await fetch(`${smallHttp.origin}/api/tables`, {
      method: 'POST',
      headers: auth,
      body: form(new Blob([csv(10_000)]), 'big.csv'),
    });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ error: { code: 'too_large' } });

    // Without Content-Length: the part grows past 64 KiB while it is written, and the upload stops there.
    const boundary = 'b0undary';
    const enc = new TextEncoder();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0)
          controller.enqueue(enc.encode(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.csv"\r\n\r\nid\n`));
        else if (sent < 400)
          controller.enqueue(enc.encode(`${'x'.repeat(1023)}\n`)); // 400 KiB in all
        else controller.enqueue(enc.encode(`\r\n--${boundary}--\r\n`));
        if (sent++ > 400) controller.close();
      },
    });
    const streamed = await fetch(`${smallHttp.origin}/api/tables`, {
      method: 'POST',
      headers: { ...auth, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
      duplex: 'half',
    } as RequestInit).catch((e: unknown) => e as Error);
    // The server answers 413 as soon as the limit is passed; it may close the connection before the client
    // sent everything, which fetch can report as a failed request instead of the answer.
    if (streamed instanceof Response) {
      expect(streamed.status).toBe(413);
      expect(await streamed.json()).toMatchObject({ error: { code: 'too_large' } });
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(leftovers(small.dir)).toEqual([]);
    expect(readdirSync(join(small.dir, 'data')).filter((f) => f.startsWith('big') || f.startsWith('huge'))).toEqual([]);
  });

  test('the OpenAPI document gives both bodies of POST /api/tables', async () => {
    const doc = (await (await fetch(`${bigHttp.origin}/api/openapi.json`, { headers: auth })).json()) as {
      paths: Record<string, { post?: { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } } }>;
    };
    const content = doc.paths['/api/tables']!.post!.requestBody!.content;
    expect(Object.keys(content).sort()).toEqual(['application/octet-stream', 'multipart/form-data']);
    expect(content['multipart/form-data']!.schema.properties).toMatchObject({
      file: { type: 'string', format: 'binary' },
      name: { type: 'string' },
    });
  });
});
