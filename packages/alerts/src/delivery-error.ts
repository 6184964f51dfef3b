/**
 * A failed delivery attempt. `retryable`: a network error, a timeout, 408, 429 or 5xx (a later attempt may
 * succeed); other 4xx mean the channel's config is wrong, so retrying is pointless. The message never holds
 * a secret: no URL, key or token, only the status or the error's kind.
 */
export class DeliveryError extends Error {
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: { retryable: boolean; status?: number | undefined; retryAfterMs?: number | undefined }) {
    super(message);
    this.name = 'DeliveryError';
    this.retryable = options.retryable;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}
