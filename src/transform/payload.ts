/**
 * From one MQTT message to a checked data payload: whether the topic
 * carries data, its node id, and whether the bytes are a JSON object with a
 * usable `t` and an `r` array. What fails becomes a dead letter with its
 * reason and a detail that quotes the payload. Pure, no I/O.
 *
 * @module
 */

import { type ExactInteger, isExactInteger, mayBeRounded } from "./exact_integer.ts";
import { memberText, readJson } from "./json_reader.ts";
import { roundedMilliseconds } from "./number_text.ts";

/** Why a message could not become a record. Each is a `reason` label. */
export const DEAD_LETTER_REASONS = [
  "too_large",
  "not_utf8",
  "not_json",
  "not_object",
  "invalid_t",
  "invalid_r",
] as const;

/** A dead-letter reason. */
export type DeadLetterReason = typeof DEAD_LETTER_REASONS[number];

/** A message that cannot become a record, and why. */
export interface DeadResult {
  kind: "dead";
  reason: DeadLetterReason;
  detail: string;
  /** The node id its record would have had; absent when there is none. */
  node?: string;
}

/** A message on a topic that carries no data. */
export interface IgnoredResult {
  kind: "ignored";
}

/** A data payload that passed every check. */
export interface ParsedPayload {
  kind: "payload";
  /** The record's node id (see {@linkcode recordNodeId}); `undefined` when there is none. */
  node: string | undefined;
  /** The payload's `t`, in Unix seconds. */
  t: number;
  /** The payload's `t` rounded to the millisecond from its digits, in Unix milliseconds. */
  ms: number;
  /** The payload's `r`: device readings, not yet checked. */
  devices: unknown[];
  /** The payload's text. */
  text: string;
  /** Whether integers beyond 2^53 were read with every digit. */
  exact: boolean;
}

/** Options for {@linkcode parsePayload}. */
export interface ParsePayloadOptions {
  /** Payloads larger than this many bytes become `too_large` dead letters. */
  maxPayloadBytes?: number;
  /** The node id of records whose topic carries none (`NODE_ID`). */
  nodeId?: string;
}

/** The default of `MAX_PAYLOAD_BYTES`: 1 MiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

/** 9999-12-31T23:59:59.999Z in Unix milliseconds: the last instant RFC 3339 can write. */
export const MAX_TIME_MS = 253402300799999;

// The lenient decoder is the fast one (V8's own UTF-8 path, 30 times the
// speed of the strict decoder here); it turns malformed bytes into U+FFFD,
// so only text holding that character is decoded again, strictly.
const decoder = new TextDecoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Whether a topic carries data payloads. AMMP topics (`a/<node_id>/...`)
 * carry data only on `a/<node_id>/u/data` and the pre-2022
 * `a/<node_id>/data`; their meta, log, command and bridge-state topics do
 * not. Any other topic was chosen by the operator and is taken as data.
 */
export function isDataTopic(topic: string): boolean {
  if (!topic.startsWith("a/")) return true;
  const rest = topic.indexOf("/", 2);
  if (rest === -1) return false;
  const suffix = topic.slice(rest);
  return suffix === "/u/data" || suffix === "/data";
}

/** The node id of an AMMP topic (`a/<node_id>/...`), or `undefined`. */
export function nodeIdOf(topic: string): string | undefined {
  if (!topic.startsWith("a/")) return undefined;
  const end = topic.indexOf("/", 2);
  if (end <= 2) return undefined;
  return topic.slice(2, end);
}

/**
 * Whether the topic filter `filter` can match a data topic that carries no
 * node id, as the gateway's own broker has them (`u/data`): every filter
 * but those under `a/` (`a/+/u/data`, `a/#`), whose data topics carry one.
 */
export function matchesTopicsWithoutNodeId(filter: string): boolean {
  return !filter.startsWith("a/");
}

/**
 * The node id of a record of `topic`: the topic's own
 * (`a/<node_id>/...`), else `fallback`, the node id of the gateway whose
 * broker the agent reads (`NODE_ID`); `undefined` when there is neither.
 */
export function recordNodeId(topic: string, fallback?: string): string | undefined {
  return nodeIdOf(topic) ?? fallback;
}

/**
 * Checks one message: "ignored" for a topic without data, a dead letter for
 * a payload that cannot become a record, else the parsed payload. Integers
 * beyond 2^53 may come back rounded; {@linkcode readExactly} reads them
 * again. Never throws.
 */
export function parsePayload(
  topic: string,
  payload: Uint8Array,
  options: ParsePayloadOptions = {},
): ParsedPayload | DeadResult | IgnoredResult {
  if (!isDataTopic(topic)) return { kind: "ignored" };
  const node = recordNodeId(topic, options.nodeId);
  const result = _checkPayload(payload, node, options.maxPayloadBytes);
  return result.kind === "dead" && node !== undefined ? { ...result, node } : result;
}

function _checkPayload(
  payload: Uint8Array,
  node: string | undefined,
  maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES,
): ParsedPayload | DeadResult {
  if (payload.byteLength > maxPayloadBytes) {
    return _dead(
      "too_large",
      `Payload of ${payload.byteLength} bytes exceeds the limit of ${maxPayloadBytes} bytes`,
    );
  }

  const text = decoder.decode(payload);
  if (text.includes("\uFFFD")) {
    try {
      strictDecoder.decode(payload);
    } catch {
      return _dead("not_utf8", "Payload is not valid UTF-8");
    }
  }
  return _readPayload(text, node, false);
}

/**
 * The payload read again, keeping every digit of integers beyond 2^53: for
 * a record that holds a number the plain parse may have rounded.
 */
export function readExactly(parsed: ParsedPayload): ParsedPayload {
  return _readPayload(parsed.text, parsed.node, true) as ParsedPayload;
}

// Parses and checks the payload's text. `exact`: read integers beyond 2^53
// with every digit, which a dead letter's detail also quotes.
function _readPayload(
  text: string,
  node: string | undefined,
  exact: boolean,
): ParsedPayload | DeadResult {
  let body: unknown;
  try {
    ({ value: body, exact } = readJson(text, { exact }));
  } catch (error) {
    return _dead("not_json", `Payload is not JSON: ${(error as Error).message}`);
  }
  // Where a dead letter's detail would quote a rounded number, the payload
  // is read again with every digit.
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    if (!exact && typeof body === "number" && mayBeRounded(body)) {
      return _readPayload(text, node, true);
    }
    return _notObject(body);
  }

  const { t: written, r } = body as { t?: unknown; r?: unknown };
  if (written === undefined) {
    // An ExactInteger is an object without "t".
    return isExactInteger(body) ? _notObject(body) : _dead("invalid_t", 'Payload has no "t"');
  }
  // A "t" beyond 2^53 is far beyond the year 9999, or negative.
  if (!exact && typeof written === "number" && mayBeRounded(written)) {
    return _readPayload(text, node, true);
  }
  const t = typeof written === "object" && isExactInteger(written)
    ? Number(written.rawJSON)
    : written;
  if (
    typeof t !== "number" || Number.isNaN(t) || t < 0 ||
    (!Number.isFinite(t) && !isExactInteger(written))
  ) {
    return _dead(
      "invalid_t",
      `"t" is ${_describe(written)}, expected Unix seconds as a non-negative number`,
    );
  }
  // Rounded from the digits the payload wrote, which a fraction's double
  // may have lost (1709288100.00049999 reads as 1709288100.0005).
  const ms = Number.isInteger(t)
    ? t * 1000
    : Number.isFinite(t)
    ? roundedMilliseconds(memberText(text, "t") ?? String(t))
    : Infinity;
  if (ms > MAX_TIME_MS) {
    return _dead(
      "invalid_t",
      `"t" ${_numberText(written as number | ExactInteger)} is after the year 9999`,
    );
  }
  if (!Array.isArray(r)) {
    if (!exact && typeof r === "number" && mayBeRounded(r)) return _readPayload(text, node, true);
    return _dead(
      "invalid_r",
      r === undefined
        ? 'Payload has no "r"'
        : `"r" is ${_describe(r)}, expected an array of device readings`,
    );
  }
  return { kind: "payload", node, t, ms, devices: r, text, exact };
}

function _notObject(body: unknown): DeadResult {
  return _dead("not_object", `Payload is ${_describe(body)}, expected a JSON object`);
}

function _dead(reason: DeadLetterReason, detail: string): DeadResult {
  return { kind: "dead", reason, detail };
}

// A number as the payload wrote it.
function _numberText(value: number | ExactInteger): string {
  return typeof value === "number" ? String(value) : _shortDigits(value.rawJSON);
}

// An integer's digits, the first 40 of a longer one and how many it has.
function _shortDigits(digits: string): string {
  if (digits.length <= 40) return digits;
  const count = digits.length - (digits.startsWith("-") ? 1 : 0);
  return `${digits.slice(0, 40)}… (${count} digits)`;
}

function _describe(value: unknown): string {
  if (value === null) return "null";
  if (isExactInteger(value)) return `the number ${_shortDigits(value.rawJSON)}`;
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return `the string ${JSON.stringify(value.slice(0, 40))}`;
    case "number":
      return `the number ${value}`;
    case "boolean":
      return `the boolean ${value}`;
    case "object":
      return "an object";
    default:
      return typeof value;
  }
}
