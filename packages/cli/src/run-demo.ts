import { cpSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '@syncline/knock-emulator';
import { main, EXIT, type Io } from './program.js';

const exampleDir = fileURLToPath(new URL('../../../examples/users/', import.meta.url));

/**
 * The main job until the playground lands: copy `examples/users` to a temp folder, start the Knock
 * emulator (unless KNOCK_API_KEY is set, then real Knock is used), plan, run, and run again (no changes).
 */
export async function runDemo(io: Io): Promise<number> {
  if (!existsSync(exampleDir)) {
    io.stderr.write(`Error: the example sync is not here (${exampleDir}); run the demo from a checkout of the repository\n`);
    return EXIT.usage;
  }
  const dir = mkdtempSync(join(tmpdir(), 'syncline-demo-'));
  cpSync(exampleDir, dir, { recursive: true, filter: (src) => !src.includes('.syncline') });
  const real = Boolean(io.env.KNOCK_API_KEY);
  const emulator = real ? undefined : await startEmulator({ port: 0 });
  const env = real ? io.env : { ...io.env, KNOCK_API_KEY: 'sk_test_demo', KNOCK_BASE_URL: emulator!.url };
  const sub: Io = { ...io, env };
  const config = join(dir, 'sync.yaml');
  try {
    io.stdout.write(
      `Syncline demo · ${real ? 'real Knock (KNOCK_API_KEY is set)' : `Knock emulator at ${emulator!.url}`} · example in ${dir}\n\n$ syncline plan sync.yaml --limit 2\n`,
    );
    let code = await main(['plan', config, '--limit', '2'], sub);
    if (code !== EXIT.ok) return code;
    io.stdout.write('\n$ syncline run sync.yaml\n');
    code = await main(['run', config], sub);
    if (code !== EXIT.ok) return code;
    io.stdout.write('\n$ syncline run sync.yaml   # again: nothing changed, nothing is sent\n');
    code = await main(['run', config], sub);
    if (emulator) {
      const res = await fetch(`${emulator.url}/v1/users/u_0001`, { headers: { authorization: 'Bearer sk_test_demo' } });
      io.stdout.write(`\n$ curl ${emulator.url}/v1/users/u_0001\n${JSON.stringify(await res.json(), null, 2)}\n`);
    }
    return code;
  } finally {
    await emulator?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
