import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';

/** A loopback address whose TCP connects never complete, for connect-timeout tests. */
export interface Blackhole {
  url: string;
  close(): Promise<void>;
}

/**
 * A loopback port where connects hang (Linux, no root): a child process listens with a backlog of 1 and then
 * blocks its event loop, so nothing is ever accepted; once two connections fill the accept queue the kernel
 * drops every further SYN, and a client's connect stays pending (retransmitting) until its own timeout.
 * Fails loudly when a probe connect still completes.
 * @example const hole = await blackhole(); … await hole.close();
 */
export async function blackhole(): Promise<Blackhole> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      // The port is written synchronously and the loop blocked in the same callback: nothing is ever accepted.
      `const server = require('node:net').createServer();
       server.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
         require('node:fs').writeSync(1, server.address().port + '\\n');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
       });`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    child.once('exit', () => reject(new Error('the blackhole process exited')));
  });
  const sockets: Socket[] = [];
  const attempt = (ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      sockets.push(s);
      const t = setTimeout(() => resolve(false), ms);
      s.once('connect', () => (clearTimeout(t), resolve(true)));
      s.once('error', () => (clearTimeout(t), resolve(false)));
    });
  // Connects complete until the accept queue is full; then they stay pending. Two pending in a row (500 ms
  // each, so a busy test machine cannot fake one) means the queue is full.
  let pendingInARow = 0;
  for (let i = 0; i < 24 && pendingInARow < 2; i++) pendingInARow = (await attempt(500)) ? 0 : pendingInARow + 1;
  const close = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
  };
  if (pendingInARow < 2) {
    await close();
    throw new Error('could not make a blackhole: connects to a full accept queue still complete on this machine');
  }
  return { url: `http://127.0.0.1:${port}`, close };
}
