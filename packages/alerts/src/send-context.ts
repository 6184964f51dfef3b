import type { FetchLike } from './http-send.js';

/** What a channel gets besides its config and the alert. */
export interface SendContext {
  /** The alert's id in the config (`name` or `<channel>-<position>`): part of idempotency keys. */
  alertId: string;
  fetch?: FetchLike | undefined;
  signal?: AbortSignal | undefined;
  /** Clock for signatures (ms since the epoch). */
  now?: (() => number) | undefined;
}
