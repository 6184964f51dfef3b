import { api, call } from './api.js';
import type { Exchange } from './run-stream.svelte.js';

/** Exchanges fetched per page (the server allows up to 1,000). */
export const PAGE = 100;
/** Pages kept around the rows in view; the rest are dropped, so a 200,000-call run costs a few pages of memory. */
const KEEP_PAGES = 6;
/** At most one round of page requests per this many ms while the list scrolls (and one more when it stops). */
const THROTTLE_MS = 80;
/** Page requests in flight at most. */
const MAX_IN_FLIGHT = 2;

/** The debugger's filters, as `GET /api/runs/:runId/exchanges` takes them. */
export interface ExchangeFilter {
  status?: '2xx' | '3xx' | '4xx' | '5xx' | 'error' | undefined;
  key?: string | undefined;
}

const statusClass = (x: Exchange): string => (x.status === null ? 'error' : `${Math.floor(x.status / 100)}xx`);

/**
 * The calls of one run under one filter, as a virtual list needs them: the count, and the pages around the rows
 * in view, fetched from `GET /api/runs/:runId/exchanges?offset=` as the list scrolls and dropped when it moves
 * away. A live run's new calls come from its event stream ({@link append}); the server's `through` says which of
 * them the first page already counted, so none is counted twice.
 * @example const log = new ExchangeLog(runId, { key: 'u_1' }); log.show(0, 20); log.at(0)
 */
export class ExchangeLog {
  /** Calls that match the filter. */
  total = $state(0);
  /** False until the first page arrived (the list shows a loading state). */
  ready = $state(false);
  error = $state('');
  /** Bumped when pages come or go, so rows in view read {@link at} again. */
  private version = $state(0);
  private pages = new Map<number, Exchange[]>();
  private loading = new Set<number>();
  /** The run's exchanges the server had counted (highest seq); undefined until the first page. */
  private through: number | undefined;
  /** Live calls that came before the first page: counted once it says how far it looked. */
  private early: Exchange[] = [];
  private want: [number, number] = [0, 0];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastFetch = 0;
  private closed = false;

  constructor(
    private readonly runId: string,
    private readonly filter: ExchangeFilter = {},
  ) {
    void this.fetchPage(0);
  }

  /** The call at a position of the filtered list, or undefined while its page is not here. */
  at(index: number): Exchange | undefined {
    void this.version;
    return this.pages.get(Math.floor(index / PAGE))?.[index % PAGE];
  }

  /** The rows in view changed: fetch their pages (throttled) and drop the far ones. */
  show(start: number, end: number): void {
    this.want = [start, end];
    const wait = THROTTLE_MS - (performance.now() - this.lastFetch);
    clearTimeout(this.timer);
    if (wait <= 0) this.load();
    else this.timer = setTimeout(() => this.load(), wait);
  }

  /** A call of the live run (from the event stream). */
  append(x: Exchange): void {
    if (this.filter.status && statusClass(x) !== this.filter.status) return;
    if (this.filter.key && !(x.keys ?? []).includes(this.filter.key)) return;
    if (this.through === undefined) {
      this.early.push(x);
      return;
    }
    if (x.seq <= this.through) return;
    const index = this.total++;
    const page = this.pages.get(Math.floor(index / PAGE));
    // Only a page that ends right here grows; any other page of the tail is fetched when it comes into view.
    if (page && page.length === index % PAGE) {
      page.push(x);
      this.version++;
    } else if (!page && index % PAGE === 0 && this.pages.has(index / PAGE - 1)) {
      this.pages.set(index / PAGE, [x]);
      this.version++;
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private load(): void {
    this.lastFetch = performance.now();
    const [start, end] = this.want;
    const first = Math.max(0, Math.floor(start / PAGE));
    const last = Math.max(first, Math.floor(Math.max(start, end - 1) / PAGE));
    // At most MAX_IN_FLIGHT requests: pages the list scrolled past while they waited are never asked for, and the
    // pages in view come next as soon as a request returns (a fast scroll does not queue a page per frame).
    for (let p = first; p <= last && p * PAGE < Math.max(this.total, 1) && this.loading.size < MAX_IN_FLIGHT; p++) void this.fetchPage(p);
    // Drop the pages farthest from the view beyond the few kept.
    if (this.pages.size > KEEP_PAGES) {
      const far = [...this.pages.keys()].sort((a, b) => Math.abs(b - first) - Math.abs(a - first));
      for (const p of far.slice(0, this.pages.size - KEEP_PAGES)) if (p < first || p > last) this.pages.delete(p);
      this.version++;
    }
  }

  private async fetchPage(page: number): Promise<void> {
    if (this.pages.has(page) || this.loading.has(page)) return;
    this.loading.add(page);
    try {
      const query = {
        offset: String(page * PAGE),
        limit: String(PAGE),
        ...(this.filter.status ? { status: this.filter.status } : {}),
        ...(this.filter.key ? { key: this.filter.key } : {}),
      };
      const r = await call(api.runs[':runId'].exchanges.$get({ param: { runId: this.runId }, query }));
      if (this.closed) return;
      if (this.through === undefined) {
        this.through = r.through;
        this.total = r.total;
        this.ready = true;
        const early = this.early;
        this.early = [];
        this.pages.set(page, r.exchanges);
        for (const x of early) this.append(x);
      } else {
        // A live run's page may already hold calls the stream has not brought yet: they are appended when it does.
        this.pages.set(page, r.exchanges.slice(0, Math.max(0, this.total - page * PAGE)));
      }
      this.version++;
    } catch (e) {
      if (!this.closed) this.error = (e as Error).message;
    } finally {
      this.loading.delete(page);
      if (this.ready && !this.closed && !this.error) this.load();
    }
  }
}
