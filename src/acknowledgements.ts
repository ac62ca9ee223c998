/**
 * Acknowledgements held until what a message wrote is written: one queue,
 * in arrival order, over every output the agent writes to.
 *
 * @module
 */

import type { RecordSink } from "./sink.ts";

/**
 * Holds each message's acknowledgement until every sink has written all
 * that was queued on it up to that message (its record, its dead letter,
 * and everything before them), and runs the acknowledgements in the order
 * the messages came, as MQTT wants them. Call {@linkcode release} whenever
 * a sink has written a batch.
 */
export class Acknowledgements {
  #sinks: readonly RecordSink[];
  #acks: (() => void)[] = [];
  // For the ack at index i, the sinks' `queued` when it came: marks[i * n + s].
  #marks: number[] = [];
  #head = 0;
  #failed = false;

  /** Holds acknowledgements behind the writes of `sinks`. */
  constructor(sinks: readonly RecordSink[]) {
    this.#sinks = sinks;
  }

  /** Runs `ack` once everything queued so far, on every sink, is written. */
  add(ack: () => void): void {
    if (this.#failed) return;
    this.#acks.push(ack);
    for (const sink of this.#sinks) this.#marks.push(sink.queued);
    this.release();
  }

  /** Runs, in order, every acknowledgement whose writes are done. */
  release(): void {
    const sinks = this.#sinks;
    const n = sinks.length;
    const acks = this.#acks;
    const marks = this.#marks;
    let head = this.#head;
    outer: while (!this.#failed && head < acks.length) {
      for (let s = 0; s < n; s++) {
        if (marks[head * n + s] > sinks[s].written) break outer;
      }
      acks[head++]();
    }
    // Under a steady stream the queue is never empty: drop what has run
    // once it is most of the arrays.
    if (head === acks.length || (head >= 1024 && head * 2 >= acks.length)) {
      this.#acks = acks.slice(head);
      this.#marks = marks.slice(head * n);
      head = 0;
    }
    this.#head = head;
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
   * The number of acknowledgements not run yet: waiting for their writes,
   * or dropped when an output failed.
   */
  get unacknowledged(): number {
    return this.#acks.length - this.#head;
  }

  /** Resolves once every sink has written what was queued, or failed. */
  async flush(): Promise<void> {
    await Promise.all(this.#sinks.map((sink) => sink.flush()));
  }
}
