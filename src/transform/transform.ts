/**
 * The pure heart of the agent: one MQTT message in, one record, dead letter
 * or "ignored" out. The rules are those of the AMMP payload contract
 * (`docs/payload-contract.md`); nothing here does I/O.
 *
 * The steps, each in its own module: the topic and the payload's checks
 * (`payload.ts`, reading JSON through `json_reader.ts`), the walk over the
 * devices (`device_walk.ts`), and the record in an output format
 * (`format.ts`). The agent's own path, {@linkcode transformToOutput},
 * writes most `record` lines straight from the payload's bytes
 * (`record_bytes.ts`) and takes those steps for the rest.
 *
 * @module
 */

import type { OnSkip } from "./device_walk.ts";
import { formatPayload, type OutputFormat } from "./format.ts";
import {
  type DeadResult,
  DEFAULT_MAX_PAYLOAD_BYTES,
  type IgnoredResult,
  isDataTopic,
  parsePayload,
  recordNodeId,
} from "./payload.ts";
import { type AmmpRecord, buildRecord } from "./record.ts";
import { recordBytes } from "./record_bytes.ts";

export {
  MAX_STATUS_DEPTH,
  type ReadingValue,
  SKIP_REASONS,
  type SkipReason,
} from "./device_walk.ts";
export {
  DEAD_LETTER_REASONS,
  type DeadLetterReason,
  type DeadResult,
  DEFAULT_MAX_PAYLOAD_BYTES,
  type IgnoredResult,
  isDataTopic,
  matchesTopicsWithoutNodeId,
  nodeIdOf,
  recordNodeId,
} from "./payload.ts";
export { parseJson } from "./json_reader.ts";
export { type AmmpRecord, formatTime } from "./record.ts";

/** Options for {@linkcode transform} and {@linkcode transformToText}. */
export interface TransformOptions {
  /** Payloads larger than this many bytes become `too_large` dead letters. */
  maxPayloadBytes?: number;
  /** Called once for every reading or device left out of a record. */
  onSkip?: OnSkip;
  /**
   * The node id of records (and dead letters) whose topic carries none
   * (`NODE_ID`); a topic's own (`a/<node_id>/...`) always wins.
   */
  nodeId?: string;
}

/** Options for {@linkcode transformToText}. */
export interface TransformToTextOptions extends TransformOptions {
  /** How the record is written; defaults to `record`. */
  format?: OutputFormat;
}

/**
 * The outcome of one message: a record, given in the form `T` (with the
 * payload's `t` as `readingTime`, in seconds), a dead letter, or ignored.
 */
export type MessageResult<T> =
  | ({ kind: "record"; readingTime: number } & T)
  | DeadResult
  | IgnoredResult;

/**
 * The outcome of {@linkcode transformToText}. `text`: the record in the
 * output format, lines joined by `"\n"` without a final newline, `""` when
 * the format has nothing to write for it.
 */
export type TextResult = MessageResult<{ text: string }>;

/**
 * The outcome of {@linkcode transformToOutput}: `output` is the text of
 * {@linkcode transformToText}, or the same as UTF-8 bytes, valid until the
 * next call.
 */
export type OutputResult = MessageResult<{ output: string | Uint8Array }>;

/** The outcome of {@linkcode transform}: the record as an object. */
export type TransformResult = MessageResult<{ record: AmmpRecord }>;

/**
 * The outcome of {@linkcode transformToLine}: the record as one line of
 * JSON, without the newline.
 */
export type LineResult = MessageResult<{ line: string }>;

/**
 * Turns one MQTT message into the text the agent writes for it in
 * `options.format`, a dead letter, or "ignored" for a topic that carries
 * no data. The `record` format is exactly `JSON.stringify` of
 * {@linkcode transform}'s record, made at a fraction of the cost. Never
 * throws.
 *
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode('{"t":0,"r":[{"_vid":"m","P":1}]}');
 * transformToText("a/b827eb000001/u/data", bytes).text;
 * // '{"node_id":"b827eb000001","time":"1970-01-01T00:00:00+00:00","data":{"m":{"P":1}}}'
 * transformToText("a/b827eb000001/u/data", bytes, { format: "influx" }).text;
 * // 'ammp,node_id=b827eb000001,vid=m P=1 0'
 * ```
 */
export function transformToText(
  topic: string,
  payload: Uint8Array,
  options: TransformToTextOptions = {},
): TextResult {
  const parsed = parsePayload(topic, payload, options);
  if (parsed.kind !== "payload") return parsed;
  const text = formatPayload(parsed, options.format ?? "record", options.onSkip);
  return { kind: "record", text, readingTime: parsed.t };
}

/**
 * {@linkcode transformToText} as the agent writes it: in the `record`
 * format, a data payload becomes its line's bytes in one pass, without
 * parsing it into objects (`record_bytes.ts`); what that pass declines
 * (dead letters above all) takes {@linkcode transformToText}. The two give the
 * same line. Never throws.
 */
export function transformToOutput(
  topic: string,
  payload: Uint8Array,
  options: TransformToTextOptions = {},
): OutputResult {
  if (
    (options.format ?? "record") === "record" && isDataTopic(topic) &&
    payload.byteLength <= (options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES)
  ) {
    const written = recordBytes(payload, recordNodeId(topic, options.nodeId), options);
    if (written !== undefined) {
      return { kind: "record", output: written.bytes, readingTime: written.t };
    }
  }
  const result = transformToText(topic, payload, options);
  return result.kind === "record"
    ? { kind: "record", output: result.text, readingTime: result.readingTime }
    : result;
}

/**
 * Turns one MQTT message into its record object, a dead letter, or
 * "ignored" for a topic that carries no data. Never throws.
 *
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode('{"t":0,"r":[{"_vid":"m","P":1}]}');
 * transform("a/b827eb000001/u/data", bytes);
 * // { kind: "record", readingTime: 0, record: { node_id: "b827eb000001",
 * //   time: "1970-01-01T00:00:00+00:00", data: { m: { P: 1 } } } }
 * ```
 */
export function transform(
  topic: string,
  payload: Uint8Array,
  options?: TransformOptions,
): TransformResult {
  const parsed = parsePayload(topic, payload, options);
  return parsed.kind === "payload"
    ? { kind: "record", record: buildRecord(parsed, options?.onSkip), readingTime: parsed.t }
    : parsed;
}

/**
 * {@linkcode transformToText} in the `record` format, whatever the options
 * say, with the text as `line`. Never throws.
 */
export function transformToLine(
  topic: string,
  payload: Uint8Array,
  { maxPayloadBytes, onSkip, nodeId }: TransformOptions = {},
): LineResult {
  const result = transformToText(topic, payload, {
    maxPayloadBytes,
    onSkip,
    nodeId,
    format: "record",
  });
  return result.kind === "record"
    ? { kind: "record", line: result.text, readingTime: result.readingTime }
    : result;
}
