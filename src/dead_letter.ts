/**
 * Dead letters: the messages that could not become records, kept with
 * their reason and original bytes so that nothing is silently dropped.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { Logger } from "@logtape/logtape";
import { writeAllSync } from "./sink.ts";
import type { DeadLetterReason } from "./transform.ts";

/** A message that could not become a record. */
export interface DeadLetter {
  reason: DeadLetterReason;
  /** What exactly was wrong, for a person. */
  detail: string;
  topic: string;
  receivedAt: Date;
  payload: Uint8Array;
}

/** The JSON form of a dead letter, as written to the log or the file. */
export interface DeadLetterEntry {
  reason: DeadLetterReason;
  detail: string;
  topic: string;
  received_at: string;
  /** The payload's size in bytes. */
  size: number;
  /** The payload, base64; only its first bytes when it was too large. */
  payload_base64: string;
  truncated: boolean;
}

/** How many bytes of a too-large payload a dead letter keeps. */
export const TRUNCATED_PAYLOAD_BYTES = 1024;

/** Builds the JSON form of a dead letter. */
export function deadLetterEntry(letter: DeadLetter): DeadLetterEntry {
  const truncated = letter.reason === "too_large" &&
    letter.payload.byteLength > TRUNCATED_PAYLOAD_BYTES;
  const kept = truncated ? letter.payload.subarray(0, TRUNCATED_PAYLOAD_BYTES) : letter.payload;
  return {
    reason: letter.reason,
    detail: letter.detail,
    topic: letter.topic,
    received_at: letter.receivedAt.toISOString(),
    size: letter.payload.byteLength,
    payload_base64: Buffer.from(kept.buffer, kept.byteOffset, kept.byteLength).toString("base64"),
    truncated,
  };
}

/** Options for {@linkcode DeadLetterWriter}. */
export interface DeadLetterWriterOptions {
  /** Append JSON lines to this file instead of logging them. */
  file?: string;
}

const encoder = new TextEncoder();

/**
 * Writes dead letters, synchronously, so that a message's dead letter is
 * stored before the message is acknowledged: to the log on stderr (a
 * warning per letter), or as JSON lines appended to a file.
 */
export class DeadLetterWriter {
  #log: Logger;
  #file?: Deno.FsFile;

  /** Opens the file, if one is given; logs through `log` otherwise. */
  constructor(log: Logger, options: DeadLetterWriterOptions = {}) {
    this.#log = log;
    if (options.file !== undefined) {
      this.#file = Deno.openSync(options.file, { append: true, create: true });
    }
  }

  /** Stores one dead letter. Throws if the file cannot be written. */
  write(letter: DeadLetter): void {
    const entry = deadLetterEntry(letter);
    if (this.#file) {
      writeAllSync(this.#file, encoder.encode(JSON.stringify(entry) + "\n"));
    } else {
      this.#log.warn("Dead letter ({reason}) from {topic}: {detail}", { ...entry });
    }
  }

  /** Closes the file. */
  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }
}
