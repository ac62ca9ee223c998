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
   * The most text, in UTF-16 code units, encoded for one write call: a
   * batch is written as several chunks of about this size (default 1 MiB).
   */
  chunkSize?: number;
}

const encoder = new TextEncoder();

/** The default {@linkcode RecordSinkOptions.chunkSize}: 1 MiB. */
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;

/**
 * Queues the output of each message in arrival order and writes it in
 * batches: while one batch is being written, the messages that arrive
 * meanwhile gather into the next, so a burst costs few system calls and a
 * lone message is written at once. A batch is encoded and written in
 * chunks of bounded size, so a batch of large records never has to fit in
 * one string. {@linkcode written} counts a message only once its batch is
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
  #texts: string[] = [];
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
    this.#chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  }

  /**
   * Queues the output of one message: one line, or several joined by
   * `"\n"`, without a final newline; `""` for a message that writes none.
   */
  write(text: string): void {
    if (this.#error) return;
    this.#texts.push(text);
    this.#queued++;
    this.#drainSoon();
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
    while (!this.#error && (this.#texts.length > 0 || this.#reopen)) {
      const texts = this.#texts;
      this.#texts = [];
      try {
        if (this.#reopen) {
          this.#reopen = false;
          await this.#output.reopen!();
        }
        const wrote = await this.#writeBatch(texts);
        if (wrote && this.#sync) await this.#output.syncData!();
      } catch (error) {
        this.#error = error as Error;
        this.#texts = [];
        this.#onError?.(this.#error);
        return;
      }
      this.#written += texts.length;
      if (texts.length > 0) this.#onWritten?.(texts.length);
    }
  }

  // Writes the texts in chunks of about #chunkSize; resolves to whether any
  // bytes were written.
  async #writeBatch(texts: string[]): Promise<boolean> {
    let chunk: string[] = [];
    let size = 0;
    let wrote = false;
    for (let i = 0; i < texts.length; i++) {
      const text = texts[i];
      // Let go of each text once it is taken, so a batch of large records
      // is not held twice.
      texts[i] = "";
      if (text === "") continue;
      chunk.push(text);
      size += text.length + 1;
      if (size >= this.#chunkSize) {
        chunk.push("");
        await writeAll(this.#output, encoder.encode(chunk.join("\n")));
        wrote = true;
        chunk = [];
        size = 0;
      }
    }
    if (chunk.length > 0) {
      chunk.push("");
      await writeAll(this.#output, encoder.encode(chunk.join("\n")));
      wrote = true;
    }
    return wrote;
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
