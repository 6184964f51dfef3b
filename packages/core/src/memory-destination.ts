import type { Change, Destination, OpOutcome, Operation, Plan } from './contract.js';
import { z } from 'zod';

export interface MemoryDestination extends Destination {
  /** What the destination holds: key → merged record. */
  readonly records: Map<string, Record<string, unknown>>;
  /** Keys the destination rejects (row-level failure) until removed from this set. */
  readonly reject: Set<string>;
  /** Every operation applied, in order. */
  readonly applied: Operation[];
  /** Faults to inject, counted down as operations arrive (tests of crash safety). */
  readonly faults: MemoryFaults;
}

/** Operation-level faults of the memory destination; each counter is decremented when it fires. */
export interface MemoryFaults {
  /** The next N operations throw before applying anything (a request that never arrived). */
  throwBefore: number;
  /** The next N operations apply their rows, then throw (the acknowledgement is lost). */
  throwAfter: number;
  /** The next N operations apply their rows, then report every row failed with `inDoubt` (a 504 after the write). */
  failAfter: number;
  /**
   * When > 0, the next operation applies nothing and asks the run to resume after this many ms (a 429 with a
   * long Retry-After): its rows fail as `rate_limited_resume_later` and the outcome carries `resumeAfterMs`.
   */
  resumeLaterMs: number;
}

/**
 * An in-memory destination for tests and docs: upserts merge into `records`, removals delete (when the
 * sync deletes), rejected keys fail row by row, and `faults` makes whole operations throw before or after
 * applying. No validation.
 * @example const dest = memoryDestination({ batchSize: 100 })
 */
export function memoryDestination(options: { batchSize?: number } = {}): MemoryDestination {
  const batch = options.batchSize ?? 100;
  const records = new Map<string, Record<string, unknown>>();
  const reject = new Set<string>();
  const applied: Operation[] = [];
  const faults: MemoryFaults = { throwBefore: 0, throwAfter: 0, failAfter: 0, resumeLaterMs: 0 };
  let seq = 0;
  return {
    name: 'memory',
    // Any target: the memory destination reads only core's onDelete.
    targetSchema: z.looseObject({}),
    records,
    reject,
    applied,
    faults,
    fields: () => [],
    validate: () => [],
    plan(changes, { target }): Plan {
      const skipped: Change[] = [];
      const send: Change[] = [];
      for (const c of changes) (c.action === 'remove' && target.onDelete !== 'delete' ? skipped : send).push(c);
      const operations: Operation[] = [];
      for (let i = 0; i < send.length; i += batch)
        operations.push({ id: `m${++seq}`, endpoint: 'memory.write', changes: send.slice(i, i + batch) });
      return { operations, skipped };
    },
    async apply(op, ctx): Promise<OpOutcome> {
      ctx.signal?.throwIfAborted();
      if (faults.throwBefore > 0) {
        faults.throwBefore -= 1;
        throw new Error('memory destination: injected failure before applying');
      }
      if (faults.resumeLaterMs > 0) {
        const resumeAfterMs = faults.resumeLaterMs;
        faults.resumeLaterMs = 0;
        const failed = op.changes.map((c) => ({ key: c.key, code: 'rate_limited_resume_later', message: 'try again later', status: 429 }));
        return { ok: [], failed, requests: 1, retryAfterMs: resumeAfterMs, resumeAfterMs };
      }
      applied.push(op);
      const out: OpOutcome = { ok: [], failed: [], requests: 1 };
      for (const c of op.changes) {
        if (reject.has(c.key)) {
          out.failed.push({ key: c.key, code: 'rejected', message: 'rejected by the memory destination' });
          continue;
        }
        if (c.action === 'remove') records.delete(c.key);
        else records.set(c.key, { ...(records.get(c.key) ?? {}), ...c.payload });
        out.ok.push(c.key);
      }
      if (faults.failAfter > 0) {
        faults.failAfter -= 1;
        const failed = op.changes.map((c) => ({
          key: c.key,
          code: 'gateway_timeout',
          message: 'no answer from the memory destination',
          inDoubt: true,
        }));
        return { ok: [], failed, requests: 1 };
      }
      if (faults.throwAfter > 0) {
        faults.throwAfter -= 1;
        throw new Error('memory destination: injected failure after applying');
      }
      return out;
    },
  };
}
