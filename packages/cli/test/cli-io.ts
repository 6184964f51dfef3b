import type { Io } from '../src/index.js';

/** Captures what the CLI writes to stdout and stderr (not a TTY). */
export function captureIo(env: NodeJS.ProcessEnv): Io & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const stream = (w: (s: string) => void) => ({ isTTY: false, write: (s: string) => (w(s), true) }) as unknown as NodeJS.WriteStream;
  return {
    stdout: stream((s) => (out += s)),
    stderr: stream((s) => (err += s)),
    env,
    out: () => out,
    err: () => err,
  };
}
