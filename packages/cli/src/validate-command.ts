import type { Command } from 'commander';
import { withEnv, type Io } from './program.js';

/** `syncline validate <config>`: checks a sync without sending (validate-config.ts, loaded when used). */
export function registerValidateCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('validate <config>')
    .description("check the config, the model's columns, the mapping and every row's fields, without sending")
    .action(async (file: string) =>
      setExit(await withEnv(io, async (env) => (await import('./validate-config.js')).validateConfig(file, io, env))),
    );
}
