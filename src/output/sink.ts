/**
 * The record sink: the lines of one output (records on stdout or in
 * `OUTPUT_FILE`, dead letters on stderr or in `DEAD_LETTER_FILE`), written
 * in order and in batches, each batch counted once it is written in full.
 *
 * @module
 */

/**
 * Where a sink writes: `Deno.stdout`, `Deno.stderr`, an `OutputFile`, or
 * anything with its `write`.
 */
export interface Output {
  write(bytes: Uint8Array): Promise<number>;
  /** Makes what was written durable (fdatasync); used when the sink syncs. */
  syncData?(): Promise<void>;
  /** Opens the output's path again, e.g. after log rotation. */
  reopen?(): void | Promise<void>;
}

/** Options for {@linkcode RecordSink}. */
export interface RecordSinkOptions {
  /**
   * Called once when the output fails (for stdout: the reader is gone).
   * Nothing queued after that is written.
   */
  onError?: (error: Error) => void;
  /** Called after each batch is written (and synced), with its number of messages. */
  onWritten?: (messages: number) => void;
  /** Calls the output's `syncData` after each batch, before it counts as written. */
  sync?: boolean;
  /**
   * The size in bytes of the buffers lines are encoded into, and so the
   * most one write call takes: a batch is written as several of them
   * (default 256 KiB).
   */
  chunkSize?: number;
}

const encoder = new TextEncoder();

/** The default {@linkcode RecordSinkOptions.chunkSize}: 256 KiB. */
export const DEFAULT_CHUNK_SIZE = 256 * 1024;

// Written buffers are kept for reuse up to this many bytes, what a drain
// keeps in flight; a burst beyond them is left to the GC. A buffer made
// and dropped for each batch outlives the young generation while it is
// written, and is freed only by a full collection.
const POOLED_BYTES = 4 * 1024 * 1024;

/**
 * Queues the output of each message in arrival order and writes it in
 * batches: while one batch is being written, the messages that arrive
 * meanwhile gather into the next, so a burst costs few system calls and a
 * lone message is written at once. Each line is encoded as it comes into
 * buffers of a fixed size that are written and then reused: a line's
 * string dies at once, and a batch makes no large string or array that
 * only a full garbage collection would free. {@linkcode written} counts a message only once its batch is
 * written in full (and synced, with `sync`): whoever acknowledges messages
 * compares it with the {@linkcode queued} of the moment the message came.
 * While the output does not take data, `written` stops moving.
 */
export class RecordSink {
  #output: Output;
  #onError?: (error: Error) => void;
  #onWritten?: (messages: number) => void;
  #sync: boolean;
  #chunkSize: number;
  // Filled buffers waiting for the next batch, the one being filled
  // (#fill, up to #used), and written ones ready for reuse.
  #filled: Uint8Array[] = [];
  #fill: Uint8Array | undefined;
  #used = 0;
  #pool: Uint8Array[] = [];
  // Messages queued since the batch being written was taken.
  #waiting = 0;
  #draining: Promise<void> | undefined;
  #reopen = false;
  #error: Error | undefined;
  #queued = 0;
  #written = 0;

  /** Creates a sink writing to `output`. */
  constructor(output: Output, options: RecordSinkOptions = {}) {
    this.#output = output;
    this.#onError = options.onError;
    this.#onWritten = options.onWritten;
    this.#sync = options.sync === true && output.syncData !== undefined;
    // A character takes up to 4 bytes, which a buffer must hold.
    this.#chunkSize = Math.max(options.chunkSize ?? DEFAULT_CHUNK_SIZE, 4);
  }

  /**
   * Queues the output of one message: one line, or several joined by
   * `"\n"`, without a final newline; `""` for a message that writes none.
   * Bytes are UTF-8 text of the same kind, copied at once.
   */
  write(output: string | Uint8Array): void {
    if (this.#error) return;
    if (typeof output !== "string") this.#copy(output);
    else if (output !== "") this.#encode(output);
    this.#queued++;
    this.#waiting++;
    this.#drainSoon();
  }

  // Encodes `text` and its newline into the buffers, starting new ones as
  // each fills; a character is never split between two.
  #encode(text: string): void {
    let rest = text;
    for (;;) {
      const fill = this.#fill ??= this.#pool.pop() ?? new Uint8Array(this.#chunkSize);
      if (rest !== "") {
        const { read, written } = encoder.encodeInto(rest, fill.subarray(this.#used));
        this.#used += written;
        rest = read === rest.length ? "" : rest.slice(read);
      }
      if (rest === "" && this.#used < fill.byteLength) {
        fill[this.#used++] = 10;
        return;
      }
      this.#seal();
    }
  }

  // Copies `bytes` and a newline into the buffers, starting new ones as
  // each fills; a line may span two, as in #encode.
  #copy(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    let offset = 0;
    for (;;) {
      const fill = this.#fill ??= this.#pool.pop() ?? new Uint8Array(this.#chunkSize);
      const room = fill.byteLength - this.#used;
      const rest = bytes.byteLength - offset;
      if (rest < room) {
        fill.set(offset === 0 ? bytes : bytes.subarray(offset), this.#used);
        this.#used += rest;
        fill[this.#used++] = 10;
        return;
      }
      fill.set(bytes.subarray(offset, offset + room), this.#used);
      this.#used += room;
      offset += room;
      this.#seal();
    }
  }

  // Moves the buffer being filled, if it holds anything, to the filled ones.
  #seal(): void {
    if (this.#fill === undefined || this.#used === 0) return;
    this.#filled.push(this.#fill.subarray(0, this.#used));
    this.#fill = undefined;
    this.#used = 0;
  }

  /**
   * Opens the output again before the next batch (logrotate's SIGHUP): the
   * batch being written finishes where it started, the next goes to the
   * new file.
   */
  reopen(): void {
    if (this.#error || this.#output.reopen === undefined) return;
    this.#reopen = true;
    this.#drainSoon();
  }

  /** The number of {@linkcode write} calls (messages) so far. */
  get queued(): number {
    return this.#queued;
  }

  /** The number of {@linkcode write} calls (messages) written in full so far. */
  get written(): number {
    return this.#written;
  }

  /** Whether the output has failed; nothing is written since. */
  get failed(): boolean {
    return this.#error !== undefined;
  }

  /** Resolves once everything queued so far is written, or the output failed. */
  async flush(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  #drainSoon(): void {
    this.#draining ??= this.#drain().finally(() => this.#draining = undefined);
  }

  async #drain(): Promise<void> {
    // Let the messages already received queue up behind the first one.
    await Promise.resolve();
    while (!this.#error && (this.#waiting > 0 || this.#reopen)) {
      this.#seal();
      const chunks = this.#filled;
      const messages = this.#waiting;
      this.#filled = [];
      this.#waiting = 0;
      try {
        if (this.#reopen) {
          this.#reopen = false;
          await this.#output.reopen!();
        }
        for (const chunk of chunks) await writeAll(this.#output, chunk);
        if (chunks.length > 0 && this.#sync) await this.#output.syncData!();
      } catch (error) {
        this.#error = error as Error;
        this.#filled = [];
        this.#fill = undefined;
        this.#pool = [];
        this.#onError?.(this.#error);
        return;
      }
      for (const chunk of chunks) {
        if ((this.#pool.length + 1) * this.#chunkSize <= POOLED_BYTES) {
          this.#pool.push(new Uint8Array(chunk.buffer));
        }
      }
      this.#written += messages;
      if (messages > 0) this.#onWritten?.(messages);
    }
  }
}

/** Writes all of `bytes`, however many calls `output.write` needs. */
export async function writeAll(output: Output, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    offset += await output.write(bytes.subarray(offset));
  }
}

/** Writes all of `bytes` synchronously, however many calls `writeSync` needs. */
export function writeAllSync(
  output: { writeSync(bytes: Uint8Array): number },
  bytes: Uint8Array,
): void {
  let offset = 0;
  while (offset < bytes.byteLength) {
    offset += output.writeSync(bytes.subarray(offset));
  }
}
