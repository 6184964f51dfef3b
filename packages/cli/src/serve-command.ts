import type { Command } from 'commander';
import { EXIT, type Io } from './program.js';
import { untilStopSignal } from './until-stop-signal.js';

/** What `syncline serve` uses of `@syncline/server` (loaded only when the command runs). */
interface ServerModule {
  startServer(options: {
    dir: string;
    port: number;
    host: string;
    open: boolean;
    env: NodeJS.ProcessEnv;
    uploadLimitBytes?: number;
    print: (line: string) => void;
    warn: (line: string) => void;
  }): Promise<{ close(): Promise<void> }>;
}

/**
 * `syncline serve [--dir DIR] [--port 8787] [--host 127.0.0.1] [--open]`: the playground and its API.
 * `@syncline/server` is an optional peer (it depends on this package for config loading), imported when
 * the command runs, so other commands never load Hono or the server.
 */
export function registerServeCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('serve')
    .description('serve the playground and its API for a workspace folder (Ctrl-C stops it)')
    .option('--dir <dir>', 'workspace folder: syncs/, data/ (an empty folder gets the sample data)', '.')
    .option('--port <port>', 'port (0 picks a free one)', '8787')
    .option('--host <host>', 'address to listen on; 0.0.0.0 exposes it to the network (the token is still required)', '127.0.0.1')
    .option('--upload-limit <bytes>', 'largest upload in bytes', String(2 ** 30))
    .option('--open', 'open the URL in the default browser (the command in $BROWSER when set)')
    .action(async (flags: { dir: string; port: string; host: string; uploadLimit: string; open?: boolean }) => {
      const port = Number(flags.port);
      if (!/^\d+$/.test(flags.port) || port > 65535) {
        io.stderr.write(`Error: --port ${flags.port}: not a port number\n`);
        return setExit(EXIT.usage);
      }
      const uploadLimitBytes = Number(flags.uploadLimit);
      if (!Number.isSafeInteger(uploadLimitBytes) || uploadLimitBytes <= 0) {
        io.stderr.write(`Error: --upload-limit ${flags.uploadLimit}: not a number of bytes\n`);
        return setExit(EXIT.usage);
      }
      let server: ServerModule;
      try {
        const name = '@syncline/server'; // a variable: the CLI builds without the server's types
        server = (await import(name)) as ServerModule;
      } catch (e) {
        // Only a missing @syncline/server means "install it"; anything else (a broken build, a missing
        // dependency of the server) is said as it is.
        const err = e as NodeJS.ErrnoException;
        const missing = err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes("'@syncline/server'");
        io.stderr.write(
          missing
            ? 'Error: syncline serve needs @syncline/server: npm install @syncline/server\n'
            : `Error: @syncline/server failed to load: ${String(err?.message ?? e).split('\n')[0]}\n`,
        );
        return setExit(missing ? EXIT.usage : EXIT.failed);
      }
      let running: { close(): Promise<void> };
      try {
        running = await server.startServer({
          dir: flags.dir,
          port,
          host: flags.host,
          open: flags.open ?? false,
          env: io.env,
          uploadLimitBytes,
          print: (l) => io.stdout.write(l + '\n'),
          warn: (l) => io.stderr.write(l + '\n'),
        });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        io.stderr.write(
          code === 'EADDRINUSE'
            ? `Error: --port ${port}: port ${port} is in use (try --port 0 for a free one)\n`
            : `Error: ${(e as Error).message}\n`,
        );
        return setExit(code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' ? EXIT.usage : EXIT.failed);
      }
      await untilStopSignal();
      io.stderr.write('Stopping: runs in flight finish their calls and commit what was confirmed…\n');
      await running.close();
      setExit(EXIT.ok);
    });
}
