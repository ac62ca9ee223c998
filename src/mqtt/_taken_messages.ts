/**
 * The messages taken and not acknowledged yet, oldest first, and the
 * PUBACKs due for those acknowledged.
 *
 * @module
 */

import type { IStream } from "mqtt";
import { NumberQueue } from "../output/number_queue.ts";
import { encodePubacks } from "./_puback.ts";

/**
 * The subscriber's queue of messages waiting for their acknowledgement.
 * Each acknowledgement names the oldest messages taken, whatever their QoS,
 * their connection, or a pause between them; a PUBACK goes out only on the
 * connection its message came on.
 */
export class TakenMessages {
  // Per message taken and not acknowledged: its id (-1 when it needs no
  // PUBACK) and the number of the stream it came on.
  #ids = new NumberQueue();
  #streams = new NumberQueue();
  // The stream messages last came on, and its number.
  #stream: IStream | undefined;
  #streamNumber = 0;
  // Message ids whose PUBACKs go out together at the end of this task, on #stream.
  #acks: number[] = [];
  #canAcknowledgeOn: (stream: IStream) => boolean;

  /**
   * `canAcknowledgeOn` tells whether a PUBACK may still go out on a
   * stream: it must be the live connection's, and not closing.
   */
  constructor(canAcknowledgeOn: (stream: IStream) => boolean) {
    this.#canAcknowledgeOn = canAcknowledgeOn;
  }

  /** Queues a message taken from `stream`; `messageId` -1 needs no PUBACK (QoS 0). */
  take(stream: IStream, messageId: number): void {
    if (stream !== this.#stream) {
      // The PUBACKs due go out on the stream their messages came on.
      this.sendAcks();
      this.#stream = stream;
      this.#streamNumber++;
    }
    this.#ids.push(messageId);
    this.#streams.push(this.#streamNumber);
  }

  /**
   * Acknowledges the `count` oldest messages taken and not acknowledged
   * yet: their PUBACKs go out together at the end of this task, on the
   * connection they came on while it lasts.
   */
  acknowledge(count: number): void {
    const ids = this.#ids;
    const streams = this.#streams;
    const current = this.#streamNumber;
    const acks = this.#acks;
    const before = acks.length;
    for (let i = 0; i < count && ids.length > 0; i++) {
      const id = ids.shift();
      if (streams.shift() === current && id !== -1) acks.push(id);
    }
    if (before === 0 && acks.length > 0) queueMicrotask(() => this.sendAcks());
  }

  /** Writes the PUBACKs due now, in one write, if their connection still takes them. */
  sendAcks(): void {
    const ids = this.#acks;
    if (ids.length === 0) return;
    this.#acks = [];
    const stream = this.#stream!;
    if (this.#canAcknowledgeOn(stream)) stream.write(encodePubacks(ids));
  }
}
