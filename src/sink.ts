/**
 * The record sink: NDJSON lines on stdout, written in batches, with each
 * message's acknowledgement held until its line is written.
 *
 * @module
 */

/** Where the sink writes: `Deno.stdout` or anything with its `write`. */
export interface Output {
  write(bytes: Uint8Array): Promise<number>;
}

/** Options for {@linkcode RecordSink}. */
export interface RecordSinkOptions {
  /**
   * Called once when the output fails (for stdout: the reader is gone).
   * Nothing queued after that is written or acknowledged.
   */
  onError?: (error: Error) => void;
}

const encoder = new TextEncoder();

/**
 * Queues lines and acknowledgements in arrival order and writes them in
 * batches: while one write is under way, the lines that arrive meanwhile
 * gather into the next, so a burst costs few system calls and a lone
 * message is written at once. An acknowledgement runs only after every line
 * queued before it has been written in full, so nothing is acknowledged
 * that could still be lost. While the output does not take data the queue
 * does not drain and acknowledgements stop, which stops the broker sending
 * (the broker's in-flight window bounds what can pile up here).
 */
export class RecordSink {
  #output: Output;
  #onError?: (error: Error) => void;
  #lines: string[] = [];
  #acks: (() => void)[] = [];
  #draining: Promise<void> | undefined;
  #error: Error | undefined;
  #linesWritten = 0;
  #unacknowledged = 0;

  /** Creates a sink writing to `output`. */
  constructor(output: Output, options: RecordSinkOptions = {}) {
    this.#output = output;
    this.#onError = options.onError;
  }

  /**
   * Queues the output of one message: one line, or several joined by
   * `"\n"`, without a final newline.
   */
  write(line: string): void {
    if (this.#error) return;
    this.#lines.push(line);
    this.#drainSoon();
  }

  /** Runs `ack` once every line queued so far has been written. */
  afterWrite(ack: () => void): void {
    if (this.#error) return;
    this.#acks.push(ack);
    this.#unacknowledged++;
    this.#drainSoon();
  }

  /** The number of {@linkcode write} calls (messages) written in full so far. */
  get linesWritten(): number {
    return this.#linesWritten;
  }

  /** The number of {@linkcode write} calls queued and not yet written. */
  get pending(): number {
    return this.#lines.length;
  }

  /**
   * The number of {@linkcode afterWrite} acknowledgements not run yet,
   * including those of a batch being written, and those dropped when the
   * output failed.
   */
  get unacknowledged(): number {
    return this.#unacknowledged;
  }

  /** Whether the output has failed; nothing is written or acknowledged since. */
  get failed(): boolean {
    return this.#error !== undefined;
  }

  /** Resolves once everything queued so far is written and acknowledged. */
  async flush(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  #drainSoon(): void {
    this.#draining ??= this.#drain().finally(() => this.#draining = undefined);
  }

  async #drain(): Promise<void> {
    // Let the messages already received queue up behind the first one.
    await Promise.resolve();
    while (!this.#error && (this.#lines.length > 0 || this.#acks.length > 0)) {
      const lines = this.#lines;
      const acks = this.#acks;
      this.#lines = [];
      this.#acks = [];
      if (lines.length > 0) {
        lines.push("");
        try {
          await writeAll(this.#output, encoder.encode(lines.join("\n")));
        } catch (error) {
          this.#error = error as Error;
          this.#lines = [];
          this.#acks = [];
          this.#onError?.(this.#error);
          return;
        }
        this.#linesWritten += lines.length - 1;
      }
      for (const ack of acks) ack();
      this.#unacknowledged -= acks.length;
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
