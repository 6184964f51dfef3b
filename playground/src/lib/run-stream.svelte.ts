import type { InferResponseType } from 'hono/client';
import { api, call } from './api.js';

/** One HTTP exchange of a run (headers and bodies redacted): the server's own `Exchange` schema. */
export type Exchange = InferResponseType<(typeof api.runs)[':runId']['exchanges']['$get'], 200>['exchanges'][number];

/**
 * Follows a run: a finished run's status, phases and failed rows come from `GET /api/runs/:runId` (its calls are
 * paged by the debugger's `ExchangeLog`); a running one is followed on its live debugger (`GET /api/runs/:runId/events`,
 * Server-Sent Events). EventSource resumes with `Last-Event-ID` after a drop, and the server replays what was
 * missed, so nothing is lost. Calls are handed to `onexchange`, not kept: the page holds only what it shows.
 */
export class RunStream {
  /** Calls seen on the live stream (a finished run's count is its log's). */
  calls = $state(0);
  phases = $state<{ name: string; status: string; ms?: number }[]>([]);
  progress = $state<{ done: number; total: number; requests: number } | undefined>();
  failed = $state<{ key: string; code?: string; message?: string }[]>([]);
  end = $state<{ status: string; rows?: Record<string, number>; error?: { code: string; message: string } | null } | undefined>();
  connection = $state<'connecting' | 'open' | 'reconnecting' | 'closed'>('connecting');
  /** Rows per second since the first progress event, and the seconds left at that rate. */
  rate = $state<{ rowsPerSecond: number; etaSeconds: number } | undefined>();
  /** Whether the run was still running when it was opened (its calls then also come live). */
  live = $state(false);
  error = $state('');
  private firstProgress: { at: number; done: number } | undefined;
  private source: EventSource | undefined;
  private listeners = new Set<(x: Exchange) => void>();

  constructor(readonly runId: string) {
    void this.open();
  }

  /** Calls `fn` with every call the live stream brings; returns the unsubscribe. */
  onexchange(fn: (x: Exchange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private async open(): Promise<void> {
    try {
      const r = await call(api.runs[':runId'].$get({ param: { runId: this.runId } }));
      if (this.connection === 'closed') return;
      if (r.run.finishedAt) {
        this.phases = r.run.phases.map((p) => ({ name: p.name, status: 'end', ms: p.ms }));
        this.failed = r.failedRows;
        this.end = { status: r.run.status, rows: r.run.counts, error: r.run.error };
        this.connection = 'closed';
        return;
      }
    } catch (e) {
      this.error = (e as Error).message;
      this.connection = 'closed';
      return;
    }
    this.live = true;
    this.listen();
  }

  private listen(): void {
    const source = (this.source = new EventSource(api.runs[':runId'].events.$url({ param: { runId: this.runId } })));
    const on = (name: string, fn: (data: never) => void) =>
      source.addEventListener(name, (e) => fn(JSON.parse((e as MessageEvent<string>).data) as never));
    source.onopen = () => (this.connection = 'open');
    source.onerror = () => {
      if (this.connection !== 'closed') this.connection = 'reconnecting';
    };
    on('exchange', (x: Exchange) => {
      this.calls = Math.max(this.calls, x.seq);
      for (const fn of this.listeners) fn(x);
    });
    on('phase', (p: { name: string; status: string; ms?: number }) => {
      const i = this.phases.findIndex((q) => q.name === p.name);
      if (i >= 0) this.phases[i] = p;
      else this.phases.push(p);
    });
    on('progress', (p: { done: number; total: number; requests: number }) => {
      this.progress = p;
      const now = performance.now();
      this.firstProgress ??= { at: now, done: p.done };
      const seconds = (now - this.firstProgress.at) / 1000;
      if (seconds >= 0.5 && p.done > this.firstProgress.done) {
        const rowsPerSecond = (p.done - this.firstProgress.done) / seconds;
        this.rate = { rowsPerSecond, etaSeconds: Math.max(0, (p.total - p.done) / rowsPerSecond) };
      }
    });
    on('row_failed', (r: { key: string; code?: string; message?: string }) => this.failed.push(r));
    on('end', (e: NonNullable<RunStream['end']>) => {
      this.end = e;
      this.close();
    });
  }

  close(): void {
    this.connection = 'closed';
    this.source?.close();
    this.listeners.clear();
  }
}
