import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { startEmulator } from '@syncline/knock-emulator';

const script = fileURLToPath(new URL('../../../examples/compose-in-code.ts', import.meta.url));

test('the README compose-in-code example syncs the example users to the emulator', async () => {
  await using emulator = await startEmulator({ port: 0, bulkDelayMs: 20 });
  const env = { ...process.env, KNOCK_API_KEY: 'sk_test_compose', KNOCK_BASE_URL: emulator.url };
  const run = (...args: string[]) =>
    promisify(execFile)(process.execPath, ['--conditions=@syncline/source', '--import', 'tsx', script, ...args], { env });
  const dry = JSON.parse((await run('--dry-run')).stdout);
  expect(dry).toMatchObject({ total: 200, added: 200, synced: 0 });
  expect(emulator.control.requests().filter((r) => r.path.startsWith('/v1/'))).toHaveLength(0);
  const real = JSON.parse((await run()).stdout);
  expect(real).toMatchObject({ total: 200, added: 200, synced: 200, failed: 0 });
  const res = await fetch(`${emulator.url}/v1/users/u_0042`, { headers: { authorization: 'Bearer sk_test_compose' } });
  expect(await res.json()).toMatchObject({ id: 'u_0042', email: expect.stringMatching(/@example\.com$/) });
});
