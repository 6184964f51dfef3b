/**
 * The sync process: plans and runs started from the server run here, off the server's event loop, so the
 * DuckDB reads and ledger writes, the JSON work and the destination's HTTP of a run never delay
 * `/api/health` or any other request. The key arrives in each job's message, never in argv or the
 * environment. A crash here fails the jobs in flight with a clear error; the server starts a new process.
 */
import { isSyncError } from '@syncline/core';
import { isApiError } from './api-error.js';
import { runSyncJob } from './sync-job.js';
import type { SerializedError, SyncProcessInit, SyncReply, SyncRequest } from './sync-protocol.js';

const send = (m: SyncReply): void => void process.send!(m);
const stops = new Map<number, { stop: AbortController; hard: AbortController }>();
let init: SyncProcessInit | undefined;

function serialize(e: unknown): SerializedError {
  if (isApiError(e)) return { kind: 'api', code: e.code, message: e.message, status: e.status, details: e.details };
  if (isSyncError(e)) return { kind: 'sync', code: e.code, message: e.message, details: e.details };
  return { kind: 'other', code: 'internal', message: String((e as Error)?.message ?? e) };
}

process.on('message', (m: SyncProcessInit | SyncRequest) => {
  if (m.type === 'init') {
    init = m;
    // From this loop on purpose: a job that holds it (a runaway synchronous step) stops the heartbeat, and the
    // server's watchdog (sync-runner.ts) ends the process.
    setInterval(() => send({ type: 'heartbeat' }), m.heartbeatMs);
    return;
  }
  if (m.type !== 'plan' && m.type !== 'run') return void stops.get(m.id)?.[m.type].abort();
  const id = m.id;
  const signals = { stop: new AbortController(), hard: new AbortController() };
  stops.set(id, signals);
  runSyncJob(init!, m, {
    event: (event, data) => send({ type: 'event', id, event, data }),
    log: (line) => send({ type: 'log', id, line }),
    signal: signals.stop.signal,
    hardSignal: signals.hard.signal,
  })
    .then(
      (value) => send({ type: 'done', id, ok: true, value }),
      (e: unknown) => send({ type: 'done', id, ok: false, error: serialize(e) }),
    )
    .finally(() => stops.delete(id));
});
// The server went away (closed or killed): nothing of ours is worth finishing without it.
process.on('disconnect', () => process.exit(0));
