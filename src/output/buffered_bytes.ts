/**
 * The count of payload bytes taken and not yet written, against
 * `MAX_BUFFERED_BYTES`.
 *
 * @module
 */

/** Options for {@linkcode BufferedBytes}. */
export interface BufferedBytesOptions {
  /** Called when the count reaches the limit: stop taking messages. */
  onFull: () => void;
  /** Called when the count falls below the limit again: take messages again. */
  onRoom: () => void;
}

/**
 * Counts the bytes of the messages taken until they are written, and says
 * when to stop taking more: full once the count reaches the limit, with
 * room again once it falls below. The count is checked after a message is
 * taken, so one message can overshoot the limit, even one larger than the
 * limit by itself; and with nothing taken there is always room.
 */
export class BufferedBytes {
  #limit: number;
  #options: BufferedBytesOptions;
  #bytes = 0;
  #full = false;

  /** Starts with nothing counted; `limit` must be above 0. */
  constructor(limit: number, options: BufferedBytesOptions) {
    this.#limit = limit;
    this.#options = options;
  }

  /** The bytes taken and not yet written. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Whether the count has reached the limit and not fallen below it since. */
  get full(): boolean {
    return this.#full;
  }

  /** Counts `size` bytes taken. */
  take(size: number): void {
    this.#bytes += size;
    if (!this.#full && this.#bytes >= this.#limit) {
      this.#full = true;
      this.#options.onFull();
    }
  }

  /** Counts `size` bytes of those taken as written. */
  release(size: number): void {
    this.#bytes -= size;
    if (this.#full && this.#bytes < this.#limit) {
      this.#full = false;
      this.#options.onRoom();
    }
  }
}
