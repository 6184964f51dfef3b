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
 * Where a worker thread of this package starts, as the `eval` code of `new Worker(code, { eval: true, execArgv })`:
 * an import of the built `<name>.js`, or (sources) tsx's ESM hooks registered in the thread, then `<name>.ts`.
 * Node 20 does not apply an `--import` of the worker's `execArgv` before its entry module, so a `.ts` entry
 * would fail with "Unknown file extension"; registering tsx first in the thread does it.
 * @example const { code, execArgv } = workerEntry('emulator-worker'); new Worker(code, { eval: true, execArgv })
 */
export function workerEntry(name: string): { code: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const entry = (ext: string): string => pathToFileURL(join(dirname(here), `${name}.${ext}`)).href;
  if (here.endsWith('.js')) return { code: `import(${JSON.stringify(entry('js'))})`, execArgv: [] };
  const tsx = join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'esm', 'api', 'index.mjs');
  const api = JSON.stringify(pathToFileURL(tsx).href);
  return {
    code: `import(${api}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry('ts'))}); })`,
    execArgv: ['--conditions=@syncline/source'],
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
