/**
 * Dead letters: the messages that could not become records, kept with
 * their reason and original bytes so that nothing is silently dropped.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { formatLogLine } from "../log.ts";
import type { DeadLetterReason } from "../transform/transform.ts";

/** A message that could not become a record. */
export interface DeadLetter {
  reason: DeadLetterReason;
  /** What exactly was wrong, for a person. */
  detail: string;
  topic: string;
  /** The node id its record would have had; absent when there is none. */
  node?: string;
  receivedAt: Date;
  payload: Uint8Array;
}

/** The JSON form of a dead letter, as written to the log or the file. */
export interface DeadLetterEntry {
  reason: DeadLetterReason;
  detail: string;
  topic: string;
  /** The node id its record would have had: the topic's, or `NODE_ID`; absent when neither. */
  node_id?: string;
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
    ...(letter.node === undefined ? {} : { node_id: letter.node }),
    received_at: letter.receivedAt.toISOString(),
    size: letter.payload.byteLength,
    payload_base64: Buffer.from(kept.buffer, kept.byteOffset, kept.byteLength).toString("base64"),
    truncated,
  };
}

/** Options for {@linkcode deadLetterLine}. */
export interface DeadLetterLineOptions {
  /** Format it as a log line, for stderr, rather than as the bare JSON entry. */
  log?: boolean;
}

/**
 * One dead letter as a line without its newline. In a file it is the JSON
 * entry. On stderr (`log: true`) it is a warning formatted like every log
 * line, the entry's keys beside the message; the agent writes it there
 * itself rather than through the logger, so that a failed write is seen
 * and the message is not acknowledged.
 */
export function deadLetterLine(letter: DeadLetter, options: DeadLetterLineOptions = {}): string {
  const entry = deadLetterEntry(letter);
  if (!options.log) return JSON.stringify(entry);
  return formatLogLine("Dead letter ({reason}) from {topic}: {detail}", { ...entry }, {
    logger: "dead-letter",
  }).replace(/\n$/, "");
}
