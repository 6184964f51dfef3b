/**
 * The built-in Knock emulator's thread (see builtin-emulator.ts): `startEmulator` on 127.0.0.1 in a worker
 * thread of the server's process, so its request handling, bulk jobs and validation never hold the server's
 * event loop. Posts `{ url }` when listening; a `close` message closes it (pending bulk jobs applied), then
 * it posts `{ closed: true }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startEmulator, type EmulatorOptions } from '@syncline/knock-emulator';

const emulator = await startEmulator({ ...(workerData as EmulatorOptions), port: 0 });
parentPort!.on('message', (m: { type: string }) => {
  if (m.type === 'close') void emulator.close().finally(() => parentPort!.postMessage({ closed: true }));
});
parentPort!.postMessage({ url: emulator.url });
