/**
 * Bounds the operations a run has started: at most `sending` still sending requests, and at most `pending`
 * started but not yet confirmed. An operation leaves the sending count when it calls `onSent` (its requests
 * were accepted, e.g. a Knock bulk job is queued) or when it ends; so jobs that only wait for confirmation
 * don't hold back new requests, and memory stays bounded by `pending`.
 * @example
 * const pool = createOperationPool({ sending: 32, pending: 256 });
 * for (const op of ops) await pool.start((onSent) => apply(op, { onSent }));
 * await pool.drain();
 */
export interface OperationPool {
  /** Waits for a free slot, starts `task` and returns once it started. `task` must not reject. */
  start(task: (onSent: () => void) => Promise<void>): Promise<void>;
  /** Waits until every started task ended. */
  drain(): Promise<void>;
  /** Tasks started and not ended. */
  readonly size: number;
}

export function createOperationPool(options: { sending: number; pending: number }): OperationPool {
  let sending = 0;
  const running = new Set<Promise<void>>();
  let waiters: (() => void)[] = [];
  const wake = (): void => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  return {
    get size() {
      return running.size;
    },
    async start(task) {
      while (sending >= options.sending || running.size >= options.pending) await new Promise<void>((r) => waiters.push(r));
      sending += 1;
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        sending -= 1;
        wake();
      };
      const p: Promise<void> = task(release).finally(() => {
        release();
        running.delete(p);
        wake();
      });
      running.add(p);
    },
    async drain() {
      while (running.size > 0) await Promise.all(running);
    },
  };
}
