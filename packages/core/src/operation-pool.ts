/**
 * Bounds the operations a run has started, per lane (the run uses one lane per endpoint, since a
 * destination's rate limits are per endpoint): at most `sending` of a lane still sending requests, and at
 * most `pending` queued or started but not yet confirmed in all. An operation leaves its lane's sending count
 * when it calls `onSent` (its requests were accepted, e.g. a Knock bulk job is queued) or when it ends; so jobs
 * that only wait for confirmation don't hold back new requests, and memory stays bounded by `pending`.
 *
 * `start` returns once the task is queued, not once it started: operations that wait for one endpoint's rate
 * limit (60 single calls/s) then never keep the caller from planning the next chunk, whose operation for
 * another endpoint (1 bulk job/s) can go as soon as its own limit allows.
 * @example
 * const pool = createOperationPool({ sending: 32, pending: 256 });
 * for (const op of ops) await pool.start((onSent) => apply(op, { onSent }), op.endpoint);
 * await pool.drain();
 */
export interface OperationPool {
  /**
   * Waits until fewer than `pending` tasks are queued or running, queues `task` in `lane` (FIFO) and returns;
   * the task starts once its lane has fewer than `sending` tasks sending. `task` must not reject.
   */
  start(task: (onSent: () => void) => Promise<void>, lane?: string): Promise<void>;
  /** Waits until every queued and started task ended. */
  drain(): Promise<void>;
  /** Tasks started and not ended. */
  readonly size: number;
}

type Task = (onSent: () => void) => Promise<void>;

export function createOperationPool(options: { sending: number; pending: number }): OperationPool {
  const lanes = new Map<string, { sending: number; queue: Task[] }>();
  const running = new Set<Promise<void>>();
  let queued = 0;
  let waiters: (() => void)[] = [];
  const wake = (): void => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  const run = (lane: { sending: number; queue: Task[] }, task: Task): void => {
    lane.sending += 1;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      lane.sending -= 1;
      pump(lane);
    };
    // A task that leaves a queued one behind starts it before it leaves `running`, so `drain` sees it.
    const p: Promise<void> = task(release).finally(() => {
      release();
      running.delete(p);
      wake();
    });
    running.add(p);
  };
  const pump = (lane: { sending: number; queue: Task[] }): void => {
    while (lane.sending < options.sending && lane.queue.length > 0) {
      queued -= 1;
      run(lane, lane.queue.shift()!);
    }
  };
  return {
    get size() {
      return running.size;
    },
    async start(task, name = '') {
      while (running.size + queued >= options.pending) await new Promise<void>((r) => waiters.push(r));
      let lane = lanes.get(name);
      if (!lane) lanes.set(name, (lane = { sending: 0, queue: [] }));
      lane.queue.push(task);
      queued += 1;
      pump(lane);
    },
    async drain() {
      while (running.size > 0) await Promise.all(running);
    },
  };
}
