import type { Command } from 'commander';
import { startEmulator } from '@syncline/knock-emulator';
import { EXIT, type Io } from './program.js';
import { runDemo } from './run-demo.js';
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
      const emulator = await startEmulator({ port, ...(flags.data ? { dataDir: flags.data } : {}), rateLimits: flags.rateLimits });
      io.stdout.write(`Knock emulator listening on ${emulator.url}\n  export KNOCK_BASE_URL=${emulator.url} KNOCK_API_KEY=sk_test_local\n`);
      await untilStopSignal();
      await emulator.close();
      setExit(EXIT.ok);
    });

  program
    .command('demo')
    .description('run the example users sync against a built-in Knock emulator and print what happened')
    .action(async () => setExit(await runDemo(io)));
}
