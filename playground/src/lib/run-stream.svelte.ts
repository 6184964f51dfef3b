import type { InferResponseType } from 'hono/client';
import { api } from './api.js';

/** One HTTP exchange of a run (headers and bodies redacted): the server's own `Exchange` schema. */
export type Exchange = InferResponseType<(typeof api.runs)[':runId']['exchanges']['$get'], 200>['exchanges'][number];

/**
 * Follows a run's live debugger (`GET /api/runs/:runId/events`, Server-Sent Events). EventSource resumes
 * with `Last-Event-ID` after a drop, and the server replays what was missed, so nothing is lost; a
 * finished run replays its whole log.
 */
export class RunStream {
  exchanges = $state<Exchange[]>([]);
  phases = $state<{ name: string; status: string; ms?: number }[]>([]);
  progress = $state<{ done: number; total: number; requests: number } | undefined>();
  failed = $state<{ key: string; code?: string; message?: string }[]>([]);
  end = $state<{ status: string; rows?: Record<string, number>; error?: { code: string; message: string } | null } | undefined>();
  connection = $state<'connecting' | 'open' | 'reconnecting' | 'closed'>('connecting');
  /** Rows per second since the first progress event, and the seconds left at that rate. */
  rate = $state<{ rowsPerSecond: number; etaSeconds: number } | undefined>();
  private firstProgress: { at: number; done: number } | undefined;
  private source: EventSource;

  constructor(runId: string) {
    this.source = new EventSource(api.runs[':runId'].events.$url({ param: { runId } }));
    const on = (name: string, fn: (data: never) => void) =>
      this.source.addEventListener(name, (e) => fn(JSON.parse((e as MessageEvent<string>).data) as never));
    this.source.onopen = () => (this.connection = 'open');
    this.source.onerror = () => {
      if (this.connection !== 'closed') this.connection = 'reconnecting';
    };
    on('exchange', (x: Exchange) => this.exchanges.push(x));
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
    this.source.close();
  }
}
