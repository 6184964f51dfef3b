import type { Command } from 'commander';
import { EXIT, type Io } from './program.js';
import { untilStopSignal } from './until-stop-signal.js';

/** `syncline emulator` (a local Knock) and `syncline demo` (the example sync against it). */
export function registerEmulatorCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('emulator')
    .description('start the Knock emulator on 127.0.0.1 (Ctrl-C stops it)')
    .option('--port <port>', 'port', '3100')
    .option('--data <dir>', 'keep its data in this folder across restarts')
    .option('--no-rate-limits', "don't enforce Knock's rate tiers")
    .action(async (flags: { port: string; data?: string; rateLimits: boolean }) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        io.stderr.write(`Error: --port ${flags.port}: not a port number\n`);
        return setExit(EXIT.usage);
      }
      const { startEmulator } = await import('@syncline/knock-emulator');
      let emulator: Awaited<ReturnType<typeof startEmulator>>;
      try {
        emulator = await startEmulator({ port, ...(flags.data ? { dataDir: flags.data } : {}), rateLimits: flags.rateLimits });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException)?.code;
        if (code !== 'EADDRINUSE' && code !== 'EACCES') throw error;
        io.stderr.write(
          code === 'EADDRINUSE'
            ? `Error: --port ${port}: port ${port} is in use on 127.0.0.1 (another emulator?); choose another with --port, or --port 0 for any free port\n`
            : `Error: --port ${port}: not allowed to listen on port ${port} (ports below 1024 need privileges); choose another with --port\n`,
        );
        return setExit(EXIT.usage);
      }
      io.stdout.write(`Knock emulator listening on ${emulator.url}\n  export KNOCK_BASE_URL=${emulator.url} KNOCK_API_KEY=sk_test_local\n`);
      await untilStopSignal();
      await emulator.close();
      setExit(EXIT.ok);
    });

  program
    .command('demo')
    .description('run the example users sync against a built-in Knock emulator and print what happened')
    .action(async () => setExit(await (await import('./run-demo.js')).runDemo(io)));
}
