import type { Io } from './program.js';

/** Exit code per stop signal: 128 + the signal's number, as shells report a process stopped by it. */
const SIGNAL_EXIT = { SIGINT: 130, SIGHUP: 129, SIGTERM: 143 } as const;
type StopSignal = keyof typeof SIGNAL_EXIT;

export interface StopSignals {
  /** Aborted by the first signal: no new calls start; calls in flight finish; confirmed rows are committed. */
  stop: AbortSignal;
  /** Aborted by a second signal, or when calls in flight outlast the stop timeout: calls are cut off. */
  hard: AbortSignal;
  /** The exit code of the signal that stopped the run (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP), else undefined. */
  exitCode(): number | undefined;
  dispose(): void;
}

/**
 * Handles SIGINT (Ctrl-C), SIGTERM (docker stop, systemd, Kubernetes, CI cancellation) and SIGHUP alike for
 * a run: the first stops it gently, within `stopTimeoutMs` for calls in flight; a second stops it at once.
 * Either way the run commits what was confirmed and records itself as `aborted`.
 * `callsInFlight` gives the number the first line reports (ux.md: "Finishing 2 calls in flight…").
 * @example const s = handleStopSignals(io, 20_000, () => inFlight); try { await runSync({ signal: s.stop, hardSignal: s.hard, … }) } finally { s.dispose() }
 */
export function handleStopSignals(io: Io, stopTimeoutMs: number, callsInFlight: () => number = () => 0): StopSignals {
  const stop = new AbortController();
  const hard = new AbortController();
  let received: StopSignal | undefined;
  let deadline: NodeJS.Timeout | undefined;
  const on = (signal: StopSignal): void => {
    if (stop.signal.aborted) {
      hard.abort();
      return;
    }
    received = signal;
    const what = signal === 'SIGINT' ? 'Interrupt' : signal;
    const n = callsInFlight();
    const calls =
      n === 0
        ? 'No call in flight;'
        : `Finishing ${n.toLocaleString('en-US')} call${n === 1 ? '' : 's'} in flight (at most ${Math.round(stopTimeoutMs / 1000)} s) and`;
    io.stderr.write(
      `${what} received. ${calls} committing confirmed rows… ` +
        `(${signal === 'SIGINT' ? 'press Ctrl-C again' : 'send it again'} to stop now; unconfirmed rows are sent again on the next run)\n`,
    );
    stop.abort();
    deadline = setTimeout(() => hard.abort(), stopTimeoutMs);
    deadline.unref();
  };
  const handlers = (Object.keys(SIGNAL_EXIT) as StopSignal[]).map((s) => [s, () => on(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  return {
    stop: stop.signal,
    hard: hard.signal,
    exitCode: () => (received === undefined ? undefined : SIGNAL_EXIT[received]),
    dispose() {
      clearTimeout(deadline);
      for (const [s, h] of handlers) process.off(s, h);
      // Stopped by a signal: the run is over, but the process still closes the ledger and prints its summary.
      // A second signal in that window ends it at once with the first signal's code, not by the signal itself.
      if (received !== undefined) {
        const code = SIGNAL_EXIT[received];
        for (const s of Object.keys(SIGNAL_EXIT) as StopSignal[]) process.once(s, () => process.exit(code));
      }
    },
  };
}
