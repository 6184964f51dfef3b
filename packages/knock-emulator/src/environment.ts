import type { JsonObject } from './deep-merge.js';
import type { BulkOperationRecord } from './bulk-operation.js';

/**
 * A user or object as stored. `props` holds the flattened properties (system fields such as `name`
 * and custom ones alike); `channel_data` and `preferences` are kept apart because Knock does not echo
 * them as properties (reference §2.1, §2.9).
 */
export interface RecipientRecord {
  id: string;
  /** Object collection; `undefined` for users. Tenants live in the `$tenants` collection (§7). */
  collection?: string;
  props: JsonObject;
  createdAt: string | null;
  updatedAt: string;
  channelData?: JsonObject;
  preferences?: JsonObject;
  /** Upper bound of the JSON size of `props`, so the 256 kB check rarely needs to serialise (§1.7). */
  bytes: number;
  /** Set when a delayed delete is pending (switch `deleteVisibilityMs`). */
  deleting?: NodeJS.Timeout;
}

/** One audience membership: a `(user, tenant)` tuple (§4.1). */
export interface Membership {
  userId: string;
  tenant: string | null;
  addedAt: string;
}

/** A static audience. */
export interface Audience {
  key: string;
  createdAt: string;
  members: Map<string, Membership>;
}

/** An audience "entry event": a new `(user, tenant)` tuple, which would fire entry workflows (§4.1). */
export interface AudienceEntryEvent {
  audience: string;
  user_id: string;
  tenant: string | null;
  at: string;
}

/** A workflow trigger as the emulator recorded it. */
export interface TriggerRecord {
  workflow: string;
  workflow_run_id: string;
  at: string;
  body: unknown;
}

/** A cached 2xx trigger response, replayed for 24 h (§1.4). */
export interface IdempotentResponse {
  at: number;
  bodyText: string;
  status: number;
  requestId: string;
  requestText: string;
}

/** Tenants are objects in this reserved collection (https://docs.knock.app/multi-tenancy/overview). */
export const TENANTS = '$tenants';

/**
 * All data of one environment (one API key): Knock isolates users, objects, audiences and tenants per
 * environment (§1.2).
 * @example new Environment('a1b2c3').users.size
 */
export class Environment {
  readonly id: string;
  readonly users = new Map<string, RecipientRecord>();
  readonly collections = new Map<string, Map<string, RecipientRecord>>();
  readonly audiences = new Map<string, Audience>();
  readonly bulkOperations = new Map<string, BulkOperationRecord>();
  readonly idempotency = new Map<string, IdempotentResponse>();
  entries: AudienceEntryEvent[] = [];
  triggers: TriggerRecord[] = [];

  constructor(id: string) {
    this.id = id;
  }

  /** The collection map, created on first use. */
  collection(name: string): Map<string, RecipientRecord> {
    let map = this.collections.get(name);
    if (!map) {
      map = new Map();
      this.collections.set(name, map);
    }
    return map;
  }
}
