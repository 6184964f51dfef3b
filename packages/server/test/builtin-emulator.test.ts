import { execFileSync } from 'node:child_process';
import { afterAll, expect, test } from 'vitest';
import { startBuiltInEmulator, type BuiltInEmulator } from '../src/index.js';

let emulator: BuiltInEmulator | undefined;
afterAll(async () => emulator?.close());

/** A request to the emulator made by another process while this thread is blocked (execFileSync). */
const fetchBlocking = (url: string): { status: number; body: string } =>
  JSON.parse(
    execFileSync(
      process.execPath,
      [
        '-e',
        `fetch(process.argv[1], { headers: { authorization: 'Bearer sk_test_local' } }).then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() })))`,
        url,
      ],
      { timeout: 20_000, encoding: 'utf8' },
    ),
  );

test("the built-in emulator answers while the server's thread is blocked: it runs in a worker thread of the process", async () => {
  emulator = await startBuiltInEmulator({ rateLimits: false });
  expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(emulator.port).toBe(Number(new URL(emulator.url).port));
  // execFileSync holds this thread until the other process has its answer: an emulator on this thread could
  // never answer (the call would time out); one in its own thread does.
  const user = fetchBlocking(`${emulator.url}/v1/users/nobody`);
  expect(user.status).toBe(404);
  const put = await fetch(`${emulator.url}/v1/users/u1`, {
    method: 'PUT',
    headers: { authorization: 'Bearer sk_test_local', 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'u1@example.com' }),
  });
  expect(put.status).toBe(200);
  expect(JSON.parse(fetchBlocking(`${emulator.url}/v1/users/u1`).body)).toMatchObject({ id: 'u1', email: 'u1@example.com' });
}, 60_000);

test('closing it stops the thread and frees the port; closing again is a no-op', async () => {
  emulator ??= await startBuiltInEmulator({ rateLimits: false });
  const url = emulator.url;
  await emulator.close();
  await emulator.close();
  await expect(fetch(`${url}/v1/users/u1`, { headers: { authorization: 'Bearer sk_test_local' } })).rejects.toThrow();
}, 60_000);
