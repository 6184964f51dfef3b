import type { LedgerWrite } from './duckdb-ledger.js';

/** Where a `LedgerWriter` writes: one transaction per call (`DuckdbLedger.write`). */
export interface LedgerWriteTarget {
  write(runId: string, batch: LedgerWrite): Promise<void>;
}

export interface LedgerWriterOptions {
  ledger: LedgerWriteTarget;
  runId: string;
  /** A recorded outcome is written at most this long after it was recorded. Default 200 ms. */
  windowMs?: number;
  /** Recorded rows (results) that start a write at once, without waiting for the window. Default 5,000. */
  windowRows?: number;
  /** Called after each transaction with its duration and size (for the run's `commit` phase). */
  onWrite?: (ms: number, batch: LedgerWrite) => void;
}

/**
 * Groups the ledger writes of many operations into few transactions (each costs a WAL sync, ~5-20 ms
 * whatever its size). The crash-safety rule is unchanged: `mark` resolves only once its keys are durably
 * in doubt, so a request never leaves before that; a recorded outcome (acknowledgements, results,
 * exchanges) is durable after the next write, and until then its keys stay in doubt, so a kill only means
 * they are sent again. Marks are written at once (with every outcome recorded so far, in the same
 * transaction); outcomes alone wait for the window (`windowMs`) or enough rows (`windowRows`).
 * @example
 * const writer = createLedgerWriter({ ledger, runId });
 * await writer.mark(keys); // then send
 * await writer.record({ upserts, results, settled }); // after the confirmation
 * await writer.close(); // everything durable
 */
export interface LedgerWriter {
  /** Marks keys in doubt; resolves once that is durable. Rejects if an earlier write failed. */
  mark(doubts: LedgerWrite['doubts']): Promise<void>;
  /**
   * Records an outcome; it is written within the window. Resolves at once unless many rows wait to be
   * written (then once they are: back-pressure). Rejects if an earlier write failed.
   */
  record(part: Partial<Omit<LedgerWrite, 'doubts'>>): Promise<void>;
  /** Writes everything recorded; rejects with the first write failure. */
  close(): Promise<void>;
}

export function createLedgerWriter(options: LedgerWriterOptions): LedgerWriter {
  const windowMs = options.windowMs ?? 200;
  const windowRows = options.windowRows ?? 5000;
  let batch = empty();
  let rows = 0;
  // Callers waiting for the next write to finish (marks, and records under back-pressure).
  let waiting: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  let urgent = false;
  let writing: Promise<void> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failure: unknown;

  const take = (): LedgerWrite | undefined => {
    const b = batch;
    if (!b.doubts.length && !b.upserts.length && !b.removes.length && !b.results.length && !b.exchanges.length && !b.settled.length)
      return undefined;
    batch = empty();
    rows = 0;
    return b;
  };

  // One write at a time; whatever arrives meanwhile goes into the next one.
  const pump = (): void => {
    if (writing) return;
    if (timer) clearTimeout(timer);
    timer = undefined;
    // Started on a microtask so that `writing` is set before the loop can clear it.
    writing = Promise.resolve().then(async () => {
      while (failure === undefined) {
        const b = take();
        const settle = waiting;
        waiting = [];
        urgent = false;
        if (!b) {
          for (const w of settle) w.resolve();
          break;
        }
        const t0 = performance.now();
        try {
          await options.ledger.write(options.runId, b);
          options.onWrite?.(performance.now() - t0, b);
          for (const w of settle) w.resolve();
        } catch (e) {
          failure = e;
          for (const w of settle) w.reject(e);
        }
        // Outcomes recorded meanwhile wait for their window, unless a mark or back-pressure needs them now.
        if (!urgent && rows < windowRows) break;
      }
      if (failure !== undefined) for (const w of waiting.splice(0)) w.reject(failure);
      writing = undefined;
      if (failure === undefined) schedule();
    });
  };

  const schedule = (): void => {
    if (urgent || rows >= windowRows) pump();
    else if (!timer && hasPending())
      timer = setTimeout(() => {
        timer = undefined;
        pump();
      }, windowMs);
  };
  const hasPending = (): boolean =>
    batch.upserts.length + batch.removes.length + batch.results.length + batch.exchanges.length + batch.settled.length > 0;

  const waitForWrite = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ resolve, reject });
    });

  return {
    async mark(doubts) {
      if (failure !== undefined) throw failure;
      if (doubts.length === 0) return;
      for (const d of doubts) batch.doubts.push(d);
      urgent = true;
      const p = waitForWrite();
      schedule();
      return p;
    },
    async record(part) {
      if (failure !== undefined) throw failure;
      for (const k of ['upserts', 'removes', 'results', 'exchanges', 'settled'] as const) {
        const items = part[k] as unknown[] | undefined;
        if (items?.length) for (const x of items) (batch[k] as unknown[]).push(x);
      }
      rows += part.results?.length ?? 0;
      // Back-pressure: a write is slower than operations finish; wait for it rather than grow the batch.
      if (rows >= windowRows * 4 && writing) {
        urgent = true;
        const p = waitForWrite();
        return p;
      }
      schedule();
    },
    async close() {
      while (writing) await writing;
      if (failure !== undefined) throw failure;
      if (timer) clearTimeout(timer);
      timer = undefined;
      urgent = true;
      pump();
      while (writing) await writing;
      if (failure !== undefined) throw failure;
    },
  };
}

const empty = (): LedgerWrite => ({ doubts: [], upserts: [], removes: [], results: [], exchanges: [], settled: [] });
