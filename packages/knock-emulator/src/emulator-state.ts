import { createHash } from 'node:crypto';
import { BulkQueue } from './bulk-operation.js';
import { Environment } from './environment.js';
import { FaultInjector } from './fault-injector.js';
import type { ResolvedOptions } from './options.js';
import { RequestLog } from './request-log.js';
import { TierLimiter } from './tier-limiter.js';

/**
 * Everything one emulator instance holds: the environments (one per API key), the bulk queue, the
 * fault plan, the rate limiter and the request log.
 * @example const state = new EmulatorState(resolveOptions({}))
 */
export class EmulatorState {
  readonly options: ResolvedOptions;
  readonly environments = new Map<string, Environment>();
  private readonly byKey = new Map<string, Environment>();
  readonly bulk: BulkQueue;
  readonly faults = new FaultInjector();
  readonly limiter = new TierLimiter();
  readonly log: RequestLog;
  rateLimits: boolean;
  /** Called after every change of stored data (persistence hooks in here). */
  onChange: () => void = () => {};

  constructor(options: ResolvedOptions) {
    this.options = options;
    this.rateLimits = options.rateLimits;
    this.log = new RequestLog(options.requestLogLimit);
    this.bulk = new BulkQueue({ delayMs: options.bulkDelayMs, onApplied: () => this.onChange() });
  }

  /**
   * The environment of an API key, created on first use. Environments are keyed by a hash of the key,
   * so snapshots and logs never contain keys.
   */
  environmentFor(apiKey: string): Environment {
    let env = this.byKey.get(apiKey);
    if (!env) {
      const id = environmentId(apiKey);
      env = this.environments.get(id);
      if (!env) {
        env = new Environment(id);
        this.environments.set(id, env);
      }
      this.byKey.set(apiKey, env);
    }
    return env;
  }

  /** Drops all data, faults, buckets and the request log. */
  reset(): void {
    this.bulk.clear();
    for (const env of this.environments.values()) {
      for (const map of [env.users, ...env.collections.values()]) {
        for (const record of map.values()) if (record.deleting) clearTimeout(record.deleting);
      }
    }
    this.environments.clear();
    this.byKey.clear();
    this.faults.clear();
    this.limiter.clear();
    this.log.clear();
    this.onChange();
  }
}

/**
 * The stable, non-reversible id of an API key's environment (first 16 hex chars of its SHA-256).
 * @example environmentId('sk_test_1') // '5c0c…'
 */
export function environmentId(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
}
