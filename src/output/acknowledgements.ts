/**
 * Acknowledgements held until what a message wrote is written: one queue,
 * in arrival order, over every output the agent writes to.
 *
 * @module
 */

import { NumberQueue } from "./number_queue.ts";
import type { RecordSink } from "./sink.ts";

/** Options for {@linkcode Acknowledgements}. */
export interface AcknowledgementsOptions {
  /**
   * Called with the number of the oldest messages held whose writes are
   * all done, now to be acknowledged in the order they came, and the sum
   * of the sizes {@linkcode Acknowledgements.add} was given for them.
   */
  onAcknowledged: (messages: number, bytes: number) => void;
}

/**
 * Holds each message's acknowledgement until every sink has written all
 * that was queued on it up to that message (its record, its dead letter,
 * and everything before them), and hands the acknowledgements on in the
 * order the messages came, as MQTT wants them. Call {@linkcode release}
 * whenever a sink has written a batch.
 *
 * A held message costs a few numbers in ring buffers, no object: at tens
 * of thousands of messages a second, an object each would outlive the
 * young generation and fill the old one.
 */
export class Acknowledgements {
  #sinks: readonly RecordSink[];
  #onAcknowledged: (messages: number, bytes: number) => void;
  // Per message held: the sinks' `queued` when it came, then its size.
  #marks = new NumberQueue();
  #sizes = new NumberQueue();
  #failed = false;

  /** Holds acknowledgements behind the writes of `sinks`. */
  constructor(sinks: readonly RecordSink[], options: AcknowledgementsOptions) {
    this.#sinks = sinks;
    this.#onAcknowledged = options.onAcknowledged;
  }

  /**
   * Holds the acknowledgement of the message just taken, of `size` bytes,
   * until everything queued so far, on every sink, is written.
   */
  add(size = 0): void {
    if (this.#failed) return;
    for (const sink of this.#sinks) this.#marks.push(sink.queued);
    this.#sizes.push(size);
    this.release();
  }

  /** Hands on, in order, every acknowledgement whose writes are done. */
  release(): void {
    const sinks = this.#sinks;
    const n = sinks.length;
    const marks = this.#marks;
    const sizes = this.#sizes;
    let messages = 0;
    let bytes = 0;
    outer: while (!this.#failed && sizes.length > 0) {
      for (let s = 0; s < n; s++) {
        if (marks.at(s) > sinks[s].written) break outer;
      }
      for (let s = 0; s < n; s++) marks.shift();
      bytes += sizes.shift();
      messages++;
    }
    if (messages > 0) this.#onAcknowledged(messages, bytes);
  }

  /** Drops every acknowledgement held and refuses new ones: an output failed. */
  fail(): void {
    this.#failed = true;
  }

  /** Whether {@linkcode fail} was called. */
  get failed(): boolean {
    return this.#failed;
  }

  /**
   * The number of acknowledgements not handed on yet: waiting for their
   * writes, or dropped when an output failed.
   */
  get unacknowledged(): number {
    return this.#sizes.length;
  }

  /** Resolves once every sink has written what was queued, or failed. */
  async flush(): Promise<void> {
    await Promise.all(this.#sinks.map((sink) => sink.flush()));
  }
}
