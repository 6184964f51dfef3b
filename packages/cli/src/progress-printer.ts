import cliProgress from 'cli-progress';
import type { RunEvent } from '@syncline/core';
import { n, paint, type Style } from './format.js';

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
  /** Stops timers and any live bar. */
  close(): void;
}

/**
 * Run progress on stderr (ux.md §3). On a TTY finished phases stay as `✔` lines and the send phase is a live
 * bar redrawn at most 10×/s (cli-progress); otherwise one timestamped line per event and a heartbeat every
 * 10 s, never a redraw. `--json` prints NDJSON events on stdout instead.
 */
export function createProgressPrinter(
  io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream },
  opts: { json: boolean; style: Style; heartbeatMs?: number },
): ProgressPrinter {
  const p = paint(opts.style);
  const tty = Boolean(io.stderr.isTTY) && !opts.json;
  const ts = (): string => new Date().toISOString().slice(11, 19);
  let bar: cliProgress.SingleBar | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let last = { done: 0, total: 0, requests: 0 };
  let lastLine = 0;
  const sendStarted = { at: 0 };

  const close = (): void => {
    if (heartbeat) clearInterval(heartbeat);
    heartbeat = undefined;
    bar?.stop();
    bar = undefined;
  };

  const onEvent = (e: RunEvent): void => {
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
    if (e.type === 'phase' && e.name === 'send' && e.status === 'start') {
      sendStarted.at = Date.now();
      if (tty) {
        bar = new cliProgress.SingleBar(
          {
            stream: io.stderr,
            fps: 10,
            hideCursor: true,
            clearOnComplete: true,
            format: `  Send          {bar}  {value} / {total} rows · {calls} calls · ETA {eta_formatted}`,
            barsize: 20,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(0, 0, { calls: 0 });
      } else {
        heartbeat = setInterval(
          () =>
            io.stderr.write(
              `${ts()} send: still sending, ${n(last.done)} / ${n(last.total)} rows [${Math.round((Date.now() - sendStarted.at) / 1000)}s elapsed]\n`,
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
      if (tty) io.stderr.write(`${p.green(p.ok)} ${(LABELS[e.name] ?? e.name).padEnd(12)}  ${summary.padEnd(48)} ${p.dim(time)}\n`);
      else io.stderr.write(`${ts()} ${(LABELS[e.name] ?? e.name).toLowerCase()}: ${summary ? `${summary} ` : ''}(${time})\n`);
      return;
    }
    if (e.type === 'progress') {
      last = e;
      if (bar) {
        bar.setTotal(e.total);
        bar.update(e.done, { calls: n(e.requests) });
      } else if (!tty && (Date.now() - lastLine > 1000 || e.done === e.total)) {
        lastLine = Date.now();
        io.stderr.write(`${ts()} send: ${n(e.done)} / ${n(e.total)} rows · ${n(e.requests)} calls\n`);
      }
      return;
    }
    if (e.type === 'request' && e.exchange.status !== null && e.exchange.status >= 400 && !tty) {
      io.stderr.write(`${ts()} send: ${e.exchange.status} on ${e.exchange.method} ${e.exchange.path} (attempt ${e.exchange.attempt})\n`);
    }
    if (e.type === 'row_failed' && !tty && lastLine < Date.now() - 1000) {
      io.stderr.write(`${ts()} send: row ${e.key} failed: ${e.code}\n`);
    }
  };
  return { onEvent, close };
}
