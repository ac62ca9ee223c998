/**
 * Telling a session taken over: another client connected with the same
 * client id, and the broker closed this connection to hand it the session.
 * Only MQTT 5's reason code 142 says so for certain; quick closes in a row
 * (all MQTT 3.1.1 shows, and all mosquitto 2.0 sends) may also be a broker
 * or proxy that cuts connections, and a client that is cut later than
 * {@linkcode RIGHT_AFTER_CONNACK_MS} shows nothing.
 *
 * @module
 */

/**
 * A close this soon after the CONNACK comes "right after" it. Two clients
 * with one id take the session from each other about as fast as they
 * connect again: within a second or two.
 */
export const RIGHT_AFTER_CONNACK_MS = 3000;

/** MQTT 5's DISCONNECT reason code "Session taken over". */
export const SESSION_TAKEN_OVER = 142;

/** How a session taken over showed. */
export interface TakeoverSigns {
  /** The broker said so (MQTT 5 DISCONNECT, reason code 142). */
  told: boolean;
  /**
   * Connections in a row that the broker closed right after accepting
   * them, without a word or an error: all that MQTT 3.1.1 shows, and
   * likely, not certainly, a takeover.
   */
  closesInARow: number;
}

/**
 * Watches one session's connections and tells, at each close, whether
 * another client with the same client id took the session, for certain or
 * likely.
 */
export class TakeoverWatch {
  #now: () => number;
  #connackAt: number | undefined;
  #reasonCode: number | undefined;
  #closesInARow = 0;

  /** `now` reads a monotonic clock in milliseconds. */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** The broker accepted a connection (CONNACK). */
  connected(): void {
    this.#connackAt = this.#now();
    this.#reasonCode = undefined;
  }

  /** The broker sent a DISCONNECT, with its reason code (MQTT 5). */
  disconnected(reasonCode: number | undefined): void {
    this.#reasonCode = reasonCode ?? 0;
  }

  /**
   * The connection closed, after `error` if one failed it. Returns the
   * signs of a takeover, or `undefined` when the close does not read as
   * one. One quiet close right after the CONNACK could be anything; the
   * second in a row reads as a takeover.
   */
  closed(error: Error | undefined): TakeoverSigns | undefined {
    const connackAt = this.#connackAt;
    const reasonCode = this.#reasonCode;
    this.#connackAt = undefined;
    this.#reasonCode = undefined;
    const quiet = connackAt !== undefined && reasonCode === undefined && error === undefined;
    const rightAfter = quiet && this.#now() - connackAt < RIGHT_AFTER_CONNACK_MS;
    this.#closesInARow = rightAfter ? this.#closesInARow + 1 : 0;
    if (reasonCode === SESSION_TAKEN_OVER) return { told: true, closesInARow: 0 };
    if (this.#closesInARow >= 2) return { told: false, closesInARow: this.#closesInARow };
    return undefined;
  }
}
