/** One line of the request log (`GET /__emulator/requests`). */
export interface RequestLogEntry {
  /** Increasing sequence number; pass the last one seen as `since` to get only newer entries. */
  seq: number;
  /** Arrival time, ISO 8601. */
  time: string;
  method: string;
  path: string;
  /** The raw query string without `?` (empty when none). */
  query: string;
  /** The matched Knock route template, e.g. `PUT /v1/users/{user_id}`; null when no route matched. */
  route: string | null;
  status: number;
  durationMs: number;
  /** Request body size in bytes (from Content-Length; 0 without a body). */
  bodyBytes: number;
  requestId: string;
  /** A short, non-reversible id of the API key's environment (keys are never logged). */
  environment: string | null;
  idempotencyKey: string | null;
  /** The fault applied, e.g. `rule:3`, `random`, `rate-limit`; null when none. */
  fault: string | null;
  /** The parsed JSON body, only with the `logBodies` option. */
  body?: unknown;
}

/**
 * A bounded in-memory request log.
 * @example log.since(0)
 */
export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private seq = 0;
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Next sequence number. */
  nextSeq(): number {
    return ++this.seq;
  }

  push(entry: RequestLogEntry): void {
    this.entries.push(entry);
    if (this.entries.length > this.limit * 2) this.entries = this.entries.slice(-this.limit);
  }

  /** Entries with `seq > since`, oldest first, at most `limit` of them. */
  since(since = 0): RequestLogEntry[] {
    const all = this.entries.length > this.limit ? this.entries.slice(-this.limit) : this.entries;
    return since > 0 ? all.filter((e) => e.seq > since) : all.slice();
  }

  clear(): void {
    this.entries = [];
  }
}
