import cliProgress from 'cli-progress';
import type { RunEvent } from '@syncline/core';
import { duration, n, paint, type Style } from './format.js';

const LABELS: Record<string, string> = {
  query: 'Read model',
  stage: 'Stage model',
  diff: 'Diff',
  plan: 'Plan',
  send: 'Send',
  commit: 'Commit',
};

export interface ProgressPrinter {
  onEvent(e: RunEvent): void;
  /**
   * Seeds the ETA with the plan's estimate of the send (seconds at Knock's rate limits), so the first figure is
   * the rate-limit ceiling rather than a guess from the first, unrepresentative batch.
   */
  seed(seconds: number): void;
  /** Stops timers and any live bar. */
  close(): void;
}

/**
 * A send rate smoothed with an exponentially weighted moving average over time: a sample `dt` ms long
 * weighs `1 - exp(-dt / timeConstantMs)`, so a burst (a bulk job confirming 1,000 rows at once) or a pause
 * (a 429 wait) moves the ETA by a bounded step instead of swinging it from hours to seconds.
 */
export function createRateEstimator(timeConstantMs = 15_000) {
  let rate: number | undefined;
  let last: { t: number; done: number } | undefined;
  return {
    /** Sets the prior rate (rows/s), e.g. from the plan's estimate; later samples move it gradually. */
    seed(rowsPerSecond: number): void {
      if (Number.isFinite(rowsPerSecond) && rowsPerSecond > 0) rate = rowsPerSecond;
    },
    /** Rows done so far at time `t` (ms). */
    sample(t: number, done: number): void {
      if (!last) {
        last = { t, done };
        return;
      }
      const dt = t - last.t;
      if (dt <= 0) return;
      const r = ((done - last.done) / dt) * 1000;
      last = { t, done };
      rate = rate === undefined ? r : rate + (1 - Math.exp(-dt / timeConstantMs)) * (r - rate);
    },
    /** Seconds left for `remaining` rows, or undefined while the rate is unknown. */
    eta(remaining: number): number | undefined {
      if (remaining <= 0) return 0;
      return rate && rate > 0 ? remaining / rate : undefined;
    },
  };
}

/**
 * Whether stderr gets a live, redrawn bar: only on a TTY, and never with `NO_COLOR` (non-empty), `TERM=dumb`
 * or `CI` set (ux.md §1); otherwise plain lines.
 */
export function liveProgress(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb' && !env.CI;
}

/**
 * Run progress on stderr (ux.md §3). Live: finished phases stay as `✔` lines and the send phase is a bar
 * redrawn at most 10×/s by cli-progress, with an EWMA-smoothed ETA. Otherwise one timestamped line per event
 * and a heartbeat every 10 s, never a cursor escape. `--json` prints NDJSON events on stdout instead.
 */
export function createProgressPrinter(
  io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream },
  opts: { json: boolean; style: Style; env?: NodeJS.ProcessEnv; heartbeatMs?: number; now?: () => number },
): ProgressPrinter {
  const p = paint(opts.style);
  const live = liveProgress(io.stderr, opts.env ?? process.env) && !opts.json;
  const now = opts.now ?? Date.now;
  const ts = (): string => new Date().toISOString().slice(11, 19);
  const rate = createRateEstimator();
  let bar: cliProgress.SingleBar | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let last = { done: 0, total: 0, requests: 0 };
  /** Rows the send will carry, from the diff (known before the first progress event). */
  let toSend = 0;
  let seeded: number | undefined;
  let lastLine = 0;
  const sendStarted = { at: 0 };
  const eta = (): string => duration(rate.eta(last.total - last.done));

  const close = (): void => {
    if (heartbeat) clearInterval(heartbeat);
    heartbeat = undefined;
    bar?.stop();
    bar = undefined;
  };

  const startBar = (total: number): void => {
    bar = new cliProgress.SingleBar(
      {
        stream: io.stderr,
        fps: 10,
        hideCursor: true,
        clearOnComplete: true,
        format: `  Send          {bar}  {done} / {all} rows · {calls} calls · ETA {eta}`,
        barsize: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { done: '0', all: n(total), calls: '0', eta: eta() });
  };

  const seed = (seconds: number): void => {
    seeded = seconds;
    if (toSend > 0 && seconds > 0) rate.seed(toSend / seconds);
  };

  const onEvent = (e: RunEvent): void => {
    // Two per call: what a stop reports (the interrupt line), not what a log of the run needs.
    if (e.type === 'calls') return;
    if (opts.json) {
      if (e.type === 'request') {
        const x = e.exchange;
        io.stdout.write(
          JSON.stringify({
            '@timestamp': x.startedAt,
            type: 'request',
            method: x.method,
            path: x.path,
            status: x.status,
            attempt: x.attempt,
            latency_ms: Math.round(x.durationMs),
          }) + '\n',
        );
      } else io.stdout.write(JSON.stringify({ '@timestamp': new Date().toISOString(), ...e }) + '\n');
      return;
    }
    if (e.type === 'phase' && e.name === 'diff' && e.status === 'end') {
      const d = e.detail ?? {};
      toSend = Number(d.add ?? 0) + Number(d.change ?? 0) + Number(d.remove ?? 0);
      if (seeded !== undefined) seed(seeded);
    }
    if (e.type === 'phase' && e.name === 'send' && e.status === 'start') {
      sendStarted.at = now();
      last = { done: 0, total: toSend, requests: 0 };
      rate.sample(sendStarted.at, 0);
      // Nothing to send: no bar and no `0 / 0 rows`.
      if (live && toSend > 0) startBar(toSend);
      else if (!live) {
        heartbeat = setInterval(
          () =>
            io.stderr.write(
              `${ts()} send: still sending, ${n(last.done)} / ${n(last.total)} rows [${Math.round((now() - sendStarted.at) / 1000)}s elapsed] · ETA ${eta()}\n`,
            ),
          opts.heartbeatMs ?? 10_000,
        );
        heartbeat.unref();
      }
      return;
    }
    if (e.type === 'phase' && e.status === 'end') {
      if (e.name === 'send') close();
      const d = e.detail ?? {};
      const summary =
        e.name === 'stage'
          ? `${n(Number(d.rows ?? 0))} rows`
          : e.name === 'diff'
            ? `+${n(Number(d.add ?? 0))} ~${n(Number(d.change ?? 0))} -${n(Number(d.remove ?? 0))}`
            : e.name === 'send'
              ? `${n(Number(d.synced ?? 0))} sent · ${n(Number(d.failed ?? 0))} failed · ${n(Number(d.requests ?? 0))} calls`
              : '';
      const time = `${((e.ms ?? 0) / 1000).toFixed(1)}s`;
      if (live) io.stderr.write(`${p.green(p.ok)} ${(LABELS[e.name] ?? e.name).padEnd(12)}  ${summary.padEnd(48)} ${p.dim(time)}\n`);
      else io.stderr.write(`${ts()} ${(LABELS[e.name] ?? e.name).toLowerCase()}: ${summary ? `${summary} ` : ''}(${time})\n`);
      return;
    }
    if (e.type === 'progress') {
      last = e;
      rate.sample(now(), e.done);
      if (live && !bar && e.total > 0) startBar(e.total);
      if (bar) {
        bar.setTotal(e.total);
        bar.update(e.done, { done: n(e.done), all: n(e.total), calls: n(e.requests), eta: eta() });
      } else if (!live && (now() - lastLine > 1000 || e.done === e.total)) {
        lastLine = now();
        io.stderr.write(
          `${ts()} send: ${n(e.done)} / ${n(e.total)} rows · ${n(e.requests)} calls${e.done < e.total ? ` · ETA ${eta()}` : ''}\n`,
        );
      }
      return;
    }
    if (e.type === 'request' && e.exchange.status !== null && e.exchange.status >= 400 && !live) {
      io.stderr.write(`${ts()} send: ${e.exchange.status} on ${e.exchange.method} ${e.exchange.path} (attempt ${e.exchange.attempt})\n`);
    }
    if (e.type === 'row_failed' && !live && lastLine < now() - 1000) {
      io.stderr.write(`${ts()} send: row ${e.key} failed: ${e.code}\n`);
    }
  };
  return { onEvent, seed, close };
}
