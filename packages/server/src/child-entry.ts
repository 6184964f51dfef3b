import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Variables a child process never gets in its environment: the key reaches it by IPC message only. */
const SECRET_VARIABLES = ['KNOCK_API_KEY', 'KNOCK_SERVICE_TOKEN'];

/**
 * Where a child process of this package starts: the built `<name>.js` beside this file, or the `<name>.ts`
 * source run through tsx (tests and `npm run dev` run the sources).
 * @example const { file, execArgv } = childEntry('sandbox-process'); fork(file, [], { execArgv })
 */
export function childEntry(name: string): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return { file: join(dirname(here), `${name}.js`), execArgv: [] };
  const tsx = join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'loader.mjs');
  return {
    file: join(dirname(here), `${name}.ts`),
    execArgv: ['--conditions=@syncline/source', '--import', pathToFileURL(tsx).href],
  };
}

/**
 * The environment of a child process: the server's, without the Knock key, so the key shows in no
 * `/proc/<pid>/environ` or environment dump of the child (it gets the key in a message).
 */
export function childEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const name of SECRET_VARIABLES) delete out[name];
  return out;
}
