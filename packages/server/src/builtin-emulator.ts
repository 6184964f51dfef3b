import { Worker } from 'node:worker_threads';
import type { EmulatorOptions } from '@syncline/knock-emulator';
import { workerEntry } from './child-entry.js';

/** The built-in emulator as `syncline serve` runs it: a worker thread of the server's process. */
export interface BuiltInEmulator {
  /** Base URL on 127.0.0.1, e.g. `http://127.0.0.1:41234`. */
  url: string;
  port: number;
  /** Stops it (pending bulk jobs are applied first). Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the Knock emulator in a worker thread of this process (issue 12: "in-process"), listening on
 * 127.0.0.1 on a free port. In the server's own thread its bulk work held the event loop for hundreds of
 * milliseconds during a large run, and `/api/health` waited behind it. The thread ends with `close()`, and
 * never keeps the process alive on its own.
 * @example const emulator = await startBuiltInEmulator(); … await emulator.close();
 */
export async function startBuiltInEmulator(
  options: Omit<EmulatorOptions, 'port'> = {},
  log: (line: string) => void = () => undefined,
): Promise<BuiltInEmulator> {
  const { code, execArgv } = workerEntry('emulator-worker');
  const worker = new Worker(code, { eval: true, execArgv, workerData: options, stdout: false, stderr: false });
  let closing: Promise<void> | undefined;
  const url = await new Promise<string>((resolve, reject) => {
    worker.once('message', (m: { url: string }) => resolve(m.url));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the built-in Knock emulator did not start (exit ${code})`)));
  });
  worker.removeAllListeners('error').removeAllListeners('exit');
  worker.on('error', (e) => log(`the built-in Knock emulator failed: ${e.message}`));
  let exited = false;
  worker.on('exit', (code) => {
    exited = true;
    if (!closing) log(`the built-in Knock emulator stopped (exit ${code}); restart syncline serve to get it back`);
  });
  worker.unref();
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      if (exited) return resolve();
      worker.once('exit', () => resolve());
      worker.once('message', () => void worker.terminate());
      worker.postMessage({ type: 'close' });
      // A thread that does not answer is ended anyway.
      setTimeout(() => void worker.terminate(), 5_000).unref();
    }));
  return { url, port: Number(new URL(url).port), close };
}
