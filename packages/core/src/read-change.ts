import type { Change, ChangeAction } from './contract.js';

/**
 * A change as the run loop reads it from the ledger. Its payload is parsed from `payloadJson` on first read,
 * then kept: a row that `validSql` cleared and that the destination sends as text (e.g. Knock's bulk body from
 * `payloadJson`) is never parsed at all. A prototype getter, so each change is one plain-shaped object (a
 * property defined per object would cost more than the parse it saves). To a destination it is a `Change`
 * like any other; `payload` can be assigned as well.
 *
 * It also carries, where only the run loop sees them, the staged row's number (`seqOf`) and its model
 * fingerprint (`fingerprintOf`), which the ledger write of a confirmed change needs.
 */
export class ReadChange implements Change {
  readonly action: ChangeAction;
  readonly key: string;
  readonly hash: string | null;
  before: Record<string, unknown> | null;
  declare payloadJson?: string;
  /** The parsed payload; undefined until `payload` is first read (or set). */
  #payload: Record<string, unknown> | null | undefined;
  readonly #seq: number;
  readonly #fingerprint: string | undefined;

  constructor(
    action: ChangeAction,
    key: string,
    hash: string | null,
    payloadJson: string | null,
    before: Record<string, unknown> | null,
    seq: number,
    fingerprint: string | undefined,
    payload?: Record<string, unknown> | null,
  ) {
    this.action = action;
    this.key = key;
    this.hash = hash;
    this.before = before;
    if (payloadJson !== null) this.payloadJson = payloadJson;
    this.#payload = payloadJson === null ? null : payload;
    this.#seq = seq;
    this.#fingerprint = fingerprint;
  }

  get payload(): Record<string, unknown> | null {
    if (this.#payload === undefined) this.#payload = JSON.parse(this.payloadJson!) as Record<string, unknown>;
    return this.#payload;
  }

  set payload(value: Record<string, unknown> | null) {
    this.#payload = value;
  }

  /** `payload` as an own enumerable property, so the change prints, spreads and compares like a plain one. */
  toJSON(): Change {
    return {
      action: this.action,
      key: this.key,
      payload: this.payload,
      hash: this.hash,
      before: this.before,
      ...(this.payloadJson === undefined ? {} : { payloadJson: this.payloadJson }),
    };
  }

  /** The staged row's number of a change the run loop read (undefined for any other change). */
  static seqOf(c: Change): number | undefined {
    return #seq in c ? c.#seq : undefined;
  }

  /** The model fingerprint of a change the run loop read, when staged with one. */
  static fingerprintOf(c: Change): string | undefined {
    return #fingerprint in c ? c.#fingerprint : undefined;
  }
}
