/**
 * A first-in, first-out queue of numbers in one growing ring buffer: what
 * waits per message for its acknowledgement, kept without an object or a
 * closure per message, so that a backlog of them makes no garbage.
 *
 * @module
 */

const INITIAL_CAPACITY = 1024;

/** A queue of numbers; {@linkcode push} grows it as needed. */
export class NumberQueue {
  #ring = new Float64Array(INITIAL_CAPACITY);
  #head = 0;
  #length = 0;

  /** The numbers queued. */
  get length(): number {
    return this.#length;
  }

  /** Adds `value` at the end. */
  push(value: number): void {
    if (this.#length === this.#ring.length) this.#grow();
    this.#ring[(this.#head + this.#length) & (this.#ring.length - 1)] = value;
    this.#length++;
  }

  /** The number `index` places from the front, which must be below {@linkcode length}. */
  at(index: number): number {
    return this.#ring[(this.#head + index) & (this.#ring.length - 1)];
  }

  /** Removes and returns the first number; the queue must not be empty. */
  shift(): number {
    const value = this.#ring[this.#head];
    this.#head = (this.#head + 1) & (this.#ring.length - 1);
    this.#length--;
    return value;
  }

  /** Empties the queue. */
  clear(): void {
    this.#head = 0;
    this.#length = 0;
  }

  // Doubles the ring, keeping the order; the capacity stays a power of 2.
  #grow(): void {
    const old = this.#ring;
    const ring = new Float64Array(old.length * 2);
    const tail = old.subarray(this.#head);
    ring.set(tail);
    ring.set(old.subarray(0, this.#head), tail.length);
    this.#ring = ring;
    this.#head = 0;
  }
}
