/**
 * The pure heart of the agent: one MQTT message in, one record, dead letter
 * or "ignored" out. The rules are those of the AMMP payload contract
 * (`docs/payload-contract.md`); nothing here does I/O.
 *
 * @module
 */

import { type ExactInteger, isExactInteger, parseExactJson } from "./exact_integer.ts";
import { hasEscapedKey, parseStrictJson } from "./strict_json.ts";

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

/** Why part of a payload was left out of its record. Each is a `reason` label. */
export const SKIP_REASONS = [
  "missing_vid",
  "invalid_device",
  "invalid_value",
  "invalid_status",
] as const;

/** A reason for leaving one reading or device out of a record. */
export type SkipReason = typeof SKIP_REASONS[number];

/**
 * A reading value as it appears in a record. An integer beyond 2^53 is an
 * {@linkcode ExactInteger}, which `JSON.stringify` writes with every digit;
 * status entries hold such integers the same way.
 */
export type ReadingValue = number | ExactInteger | string | boolean;

/** The record written for one data payload, in the contract's key order. */
export interface AmmpRecord {
  /** The node id from the topic, absent when the topic carries none. */
  node_id?: string;
  /** `t` as RFC 3339 in UTC with an explicit `+00:00` offset. */
  time: string;
  /** Readings by vendor id. */
  data: Record<string, Record<string, ReadingValue>>;
  /** Status entries by vendor id; absent when no device has any. */
  status?: Record<string, unknown[]>;
}

/** A message that cannot become a record, and why. */
export interface DeadResult {
  kind: "dead";
  reason: DeadLetterReason;
  detail: string;
}

/** A message on a topic that carries no data. */
export interface IgnoredResult {
  kind: "ignored";
}

/** The outcome of {@linkcode transform}. */
export type TransformResult =
  | {
    kind: "record";
    record: AmmpRecord;
    /** The payload's `t`, in seconds. */
    readingTime: number;
  }
  | DeadResult
  | IgnoredResult;

/** Options for {@linkcode transform}. */
export interface TransformOptions {
  /** Payloads larger than this many bytes become `too_large` dead letters. */
  maxPayloadBytes?: number;
  /** Called once for every reading or device left out of a record. */
  onSkip?: (reason: SkipReason) => void;
}

/** The default of `MAX_PAYLOAD_BYTES`: 1 MiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

// 9999-12-31T23:59:59.999Z: the last instant RFC 3339 can write.
const MAX_TIME_MS = 253402300799999;

const decoder = new TextDecoder("utf-8", { fatal: true });

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
 * Formats a Unix time in seconds as RFC 3339 in UTC: second precision, or
 * milliseconds when `t` has a fraction that does not round to a whole second.
 *
 * @example
 * ```ts
 * formatTime(1709288100); // "2024-03-01T10:15:00+00:00"
 * formatTime(1709288460.25); // "2024-03-01T10:21:00.250+00:00"
 * ```
 */
export function formatTime(t: number): string {
  const ms = Math.round(t * 1000);
  const iso = new Date(ms).toISOString();
  return (ms % 1000 === 0 ? iso.slice(0, 19) : iso.slice(0, 23)) + "+00:00";
}

/**
 * Turns one MQTT message into its record, a dead letter, or "ignored" for a
 * topic that carries no data. Never throws.
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
  options: TransformOptions = {},
): TransformResult {
  const parsed = parsePayload(topic, payload, options);
  if (parsed.kind !== "payload") return parsed;
  // Skips were all reported by the first pass; the exact one makes the same.
  const record = buildRecord(parsed, options.onSkip) ??
    buildRecord(parseExactly(parsed), undefined) as AmmpRecord;
  return { kind: "record", record, readingTime: parsed.t };
}

/** The outcome of {@linkcode transformToLine}. */
export type LineResult =
  | {
    kind: "record";
    /** The record as one line of JSON, without the newline. */
    line: string;
    /** The payload's `t`, in seconds. */
    readingTime: number;
  }
  | DeadResult
  | IgnoredResult;

/**
 * Like {@linkcode transform}, but gives the record as the JSON line the
 * agent writes: exactly `JSON.stringify(transform(...).record)`, made at
 * a fraction of the cost. Never throws.
 *
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode('{"t":0,"r":[{"_vid":"m","P":1}]}');
 * transformToLine("a/b827eb000001/u/data", bytes).line;
 * // '{"node_id":"b827eb000001","time":"1970-01-01T00:00:00+00:00","data":{"m":{"P":1}}}'
 * ```
 */
export function transformToLine(
  topic: string,
  payload: Uint8Array,
  options: TransformOptions = {},
): LineResult {
  const parsed = parsePayload(topic, payload, options);
  if (parsed.kind !== "payload") return parsed;
  // Skips were all reported by the first pass; the exact one makes the same.
  let line = writeRecordLine(parsed, options.onSkip);
  if (line === INEXACT) {
    line = writeRecordLine(parseExactly(parsed), undefined) as string;
  } else if (line === undefined) {
    line = JSON.stringify(
      buildRecord(parsed, options.onSkip) ?? buildRecord(parseExactly(parsed), undefined),
    );
  }
  return { kind: "record", line, readingTime: parsed.t };
}

// A data payload that passed every check: what both transforms start from.
interface ParsedPayload {
  kind: "payload";
  node: string | undefined;
  t: number;
  devices: unknown[];
  /** The payload's text. */
  text: string;
  /** Whether integers beyond 2^53 were read with every digit. */
  exact: boolean;
}

// What the writers of a record return when it holds a number beyond 2^53
// that the plain JSON.parse may have rounded: the payload must be read
// again with every digit. That parse takes six times as long as
// JSON.parse, and even looking for long runs of digits in the text costs
// a tenth of the transform; a reading or status value of magnitude 2^53 or
// more costs one comparison where the writers look at it anyway.
const INEXACT = Symbol("inexact");

// The payload read again, keeping every digit of integers beyond 2^53.
function parseExactly(parsed: ParsedPayload): ParsedPayload {
  return readPayload(parsed.text, parsed.node, true) as ParsedPayload;
}

// Whether a number from the plain JSON.parse may have been rounded: an
// integer beyond 2^53 (or a float of that size, which the exact parse
// leaves as it is).
function mayBeRounded(value: number): boolean {
  return (value >= 2 ** 53 || value <= -(2 ** 53)) && Number.isFinite(value);
}

function parsePayload(
  topic: string,
  payload: Uint8Array,
  options: TransformOptions,
): ParsedPayload | DeadResult | IgnoredResult {
  if (!isDataTopic(topic)) return { kind: "ignored" };
  const maxBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  if (payload.byteLength > maxBytes) {
    return dead(
      "too_large",
      `Payload of ${payload.byteLength} bytes exceeds the limit of ${maxBytes} bytes`,
    );
  }

  let text: string;
  try {
    text = decoder.decode(payload);
  } catch {
    return dead("not_utf8", "Payload is not valid UTF-8");
  }
  return readPayload(text, nodeIdOf(topic), false);
}

// Parses and checks the payload's text. `exact`: read integers beyond 2^53
// with every digit, which a dead letter's detail also quotes.
function readPayload(
  text: string,
  node: string | undefined,
  exact: boolean,
): ParsedPayload | DeadResult {
  let body: unknown;
  try {
    // V8 can misread escaped keys after earlier parses; see strict_json.ts.
    if (hasEscapedKey(text)) {
      body = parseStrictJson(text);
      exact = true;
    } else {
      body = parseText(text, exact);
    }
  } catch (error) {
    return dead("not_json", `Payload is not JSON: ${(error as Error).message}`);
  }
  // Where a dead letter's detail would quote a rounded number, the payload
  // is read again with every digit.
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    if (!exact && typeof body === "number" && mayBeRounded(body)) {
      return readPayload(text, node, true);
    }
    return notObject(body);
  }

  const { t: written, r } = body as { t?: unknown; r?: unknown };
  if (written === undefined) {
    // An ExactInteger is an object without "t".
    return isExactInteger(body) ? notObject(body) : dead("invalid_t", 'Payload has no "t"');
  }
  // A "t" beyond 2^53 is far beyond the year 9999, or negative.
  if (!exact && typeof written === "number" && mayBeRounded(written)) {
    return readPayload(text, node, true);
  }
  const t = typeof written === "object" && isExactInteger(written)
    ? Number(written.rawJSON)
    : written;
  if (typeof t !== "number" || !Number.isFinite(t) || t < 0) {
    return dead(
      "invalid_t",
      `"t" is ${describe(written)}, expected Unix seconds as a non-negative number`,
    );
  }
  if (t * 1000 > MAX_TIME_MS) {
    return dead(
      "invalid_t",
      `"t" ${numberText(written as number | ExactInteger)} is after the year 9999`,
    );
  }
  if (!Array.isArray(r)) {
    if (!exact && typeof r === "number" && mayBeRounded(r)) return readPayload(text, node, true);
    return dead(
      "invalid_r",
      r === undefined
        ? 'Payload has no "r"'
        : `"r" is ${describe(r)}, expected an array of device readings`,
    );
  }
  return { kind: "payload", node, t, devices: r, text, exact };
}

// The record, or undefined when it holds a number the parse may have
// rounded (see INEXACT).
function buildRecord(
  parsed: ParsedPayload,
  onSkip: TransformOptions["onSkip"],
): AmmpRecord | undefined {
  const time = formatTime(parsed.t);
  const record: AmmpRecord = parsed.node === undefined
    ? { time, data: {} }
    : { node_id: parsed.node, time, data: {} };
  const complete = collectReadings(record, parsed.devices, onSkip);
  return complete || parsed.exact ? record : undefined;
}

// Fills `data` and `status` of a record from the device readings `r`.
// Returns false when some value may have been rounded (see INEXACT).
function collectReadings(
  record: AmmpRecord,
  devices: unknown[],
  onSkip: TransformOptions["onSkip"],
): boolean {
  // Null-prototype maps: a vendor id or field named "__proto__" stays a
  // plain key and can never reach an object's prototype.
  const data: Record<string, Record<string, ReadingValue>> = Object.create(
    null,
  );
  let status: Record<string, unknown[]> | undefined;
  let complete = true;

  for (const device of devices) {
    const fields = usableDevice(device, onSkip);
    if (fields === undefined) continue;
    const vid = fields._vid;
    let readings = data[vid];
    if (readings === undefined) {
      readings = Object.create(null) as Record<string, ReadingValue>;
      data[vid] = readings;
    }
    for (const key in fields) {
      if (key.charCodeAt(0) === 95 /* "_" */) continue;
      const value = readingOf(fields[key], onSkip);
      if (value === INEXACT) {
        complete = false;
        readings[key] = fields[key] as number;
      } else if (value !== undefined) {
        readings[key] = value;
      }
    }
    const entries = fields._s;
    if (entries !== undefined && entries !== null) {
      if (!Array.isArray(entries)) {
        onSkip?.("invalid_status");
      } else {
        for (const entry of entries) {
          // Entries are kept as they are, so they must stay writable:
          // JSON.stringify recurses and would overflow on deep nesting.
          const check = checkEntry(entry, MAX_STATUS_DEPTH);
          if (check === TOO_DEEP) {
            onSkip?.("invalid_status");
            continue;
          }
          if (check === INEXACT) complete = false;
          status ??= Object.create(null) as Record<string, unknown[]>;
          (status[vid] ??= []).push(entry);
        }
      }
    }
  }

  record.data = data;
  if (status !== undefined) record.status = status;
  return complete;
}

// What a reading value becomes in the record, for both transforms: itself;
// undefined when the record leaves it out (counted when it is not a
// reading at all); or INEXACT, kept, for a number the parse may have rounded.
function readingOf(
  value: unknown,
  onSkip: TransformOptions["onSkip"],
): ReadingValue | undefined | typeof INEXACT {
  switch (typeof value) {
    case "number":
      if (value < 2 ** 53 && value > -(2 ** 53)) return value;
      // JSON.parse turns 1e999 into Infinity: not a reading either
      return Number.isFinite(value) ? INEXACT : undefined;
    case "string":
    case "boolean":
      return value;
    case "object":
      if (value === null) return undefined;
      if (isExactInteger(value)) return value;
      onSkip?.("invalid_value");
      return undefined;
  }
  return undefined;
}

/** How deeply a status entry may nest objects and arrays. */
export const MAX_STATUS_DEPTH = 16;

// A status entry that nests objects or arrays too deeply to write.
const TOO_DEEP = Symbol("too deep");

// Whether a status entry nests objects or arrays more than `limit` levels
// deep, or else holds a number the parse may have rounded: TOO_DEEP,
// INEXACT or undefined. The recursion stops at `limit`, whatever the input.
function checkEntry(value: unknown, limit: number): typeof TOO_DEEP | typeof INEXACT | undefined {
  if (typeof value !== "object" || value === null) {
    return typeof value === "number" && mayBeRounded(value) ? INEXACT : undefined;
  }
  // An ExactInteger is a number, not a level of nesting.
  if (limit === 0) return isExactInteger(value) ? undefined : TOO_DEEP;
  let found: typeof INEXACT | undefined;
  for (const child of Object.values(value)) {
    const check = checkEntry(child, limit - 1);
    if (check === TOO_DEEP) return check;
    found ??= check;
  }
  return found;
}

// Writes the record's line from the parsed payload itself. JSON.stringify
// of the record's freshly built objects cost twice as much as of the
// objects JSON.parse makes, and building them as much again; so the
// devices are reused as they are, with every part the record leaves out
// set to undefined, which JSON.stringify omits. The parsed payload is not
// used afterwards. Returns undefined, before reporting any skip, when
// devices share a vendor id: those are merged by the object path; INEXACT,
// after reporting every skip, when a value may have been rounded.
function writeRecordLine(
  parsed: ParsedPayload,
  onSkip: TransformOptions["onSkip"],
): string | undefined | typeof INEXACT {
  const devices = parsed.devices;
  if (hasRepeatedVid(devices)) return undefined;
  const data: Record<string, unknown> = {};
  let status: Record<string, unknown> | undefined;
  let complete = true;
  for (const device of devices) {
    const fields = usableDevice(device, onSkip);
    if (fields === undefined) continue;
    const vid = fields._vid;
    const entries = fields._s;
    for (const key in fields) {
      if (key.charCodeAt(0) === 95 /* "_" */) {
        fields[key] = undefined;
        continue;
      }
      const value = fields[key];
      // Written only where it changes: a kept reading stays as parsed.
      const kept = readingOf(value, onSkip);
      if (kept === value) continue;
      if (kept === INEXACT) complete = false;
      else fields[key] = undefined;
    }
    setOwn(data, vid, fields);
    if (entries !== undefined && entries !== null) {
      if (!Array.isArray(entries)) {
        onSkip?.("invalid_status");
      } else {
        // As in collectReadings: entries nested too deeply to write are
        // left out, each one counted.
        const kept = entries.filter((entry) => {
          const check = checkEntry(entry, MAX_STATUS_DEPTH);
          if (check === INEXACT) complete = false;
          if (check !== TOO_DEEP) return true;
          onSkip?.("invalid_status");
          return false;
        });
        if (kept.length > 0) {
          status ??= {};
          setOwn(status, vid, kept);
        }
      }
    }
  }
  if (!complete && !parsed.exact) return INEXACT;
  const time = formatTime(parsed.t);
  // JSON.stringify leaves out status while it is undefined.
  return JSON.stringify(
    parsed.node === undefined
      ? { time, data, status }
      : { node_id: parsed.node, time, data, status },
  );
}

// Whether two usable devices share a vendor id.
function hasRepeatedVid(devices: unknown[]): boolean {
  let first: string | undefined;
  let seen: Set<string> | undefined;
  for (const device of devices) {
    if (typeof device !== "object" || device === null) continue;
    const vid = (device as { _vid?: unknown })._vid;
    if (typeof vid !== "string" || vid === "") continue;
    if (first === undefined) {
      first = vid;
    } else {
      seen ??= new Set([first]);
      if (seen.has(vid)) return true;
      seen.add(vid);
    }
  }
  return false;
}

// Sets a property, also one named "__proto__", which a plain assignment
// would take as the object's prototype where that accessor exists (Deno
// removes it unless run with --unstable-unsafe-proto).
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    target[key] = value;
  }
}

// A device reading with a usable vendor id, or undefined (counted) when it
// is not an object or has no non-empty string `_vid`.
function usableDevice(
  device: unknown,
  onSkip: TransformOptions["onSkip"],
): Record<string, unknown> & { _vid: string } | undefined {
  if (typeof device !== "object" || device === null || Array.isArray(device)) {
    onSkip?.("invalid_device");
    return undefined;
  }
  const fields = device as Record<string, unknown>;
  if (typeof fields._vid !== "string" || fields._vid === "") {
    onSkip?.(isExactInteger(device) ? "invalid_device" : "missing_vid");
    return undefined;
  }
  return fields as Record<string, unknown> & { _vid: string };
}

/**
 * `JSON.parse`, also accepting the bare `NaN`, `Infinity` and `-Infinity`
 * that Python's `json.dumps` writes: they are read as `null`, so the
 * readings they stand for are dropped like any other failed read. An
 * integer beyond 2^53 is read as an {@linkcode ExactInteger}, keeping every
 * digit.
 */
export function parseJson(text: string): unknown {
  // V8 can misread escaped keys after earlier parses; see strict_json.ts.
  if (hasEscapedKey(text)) return parseStrictJson(text);
  return parseText(text, true);
}

// JSON.parse with Python's non-finite tokens; `exact`: keeping every digit
// of integers beyond 2^53.
function parseText(text: string, exact: boolean): unknown {
  if (exact) {
    try {
      return parseExactJson(text);
    } catch {
      // The reviver recurses, so deep nesting that JSON.parse reads
      // overflows its stack. The strict parser is exact too, iterative, and
      // reads Python's tokens; it throws where the text is not JSON.
      return parseStrictJson(text);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    if (!/NaN|Infinity/.test(text)) throw error;
    const repaired = replaceNonFiniteTokens(text);
    if (repaired === text) throw error;
    return JSON.parse(repaired);
  }
}

// Replaces NaN, Infinity and -Infinity outside strings with null.
function replaceNonFiniteTokens(text: string): string {
  let out = "";
  let from = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      continue;
    }
    let length = 0;
    if (text.startsWith("NaN", i)) length = 3;
    else if (text.startsWith("Infinity", i)) length = 8;
    else if (text.startsWith("-Infinity", i)) length = 9;
    if (length > 0) {
      out += text.slice(from, i) + "null";
      i += length - 1;
      from = i + 1;
    }
  }
  return out + text.slice(from);
}

function notObject(body: unknown): DeadResult {
  return dead("not_object", `Payload is ${describe(body)}, expected a JSON object`);
}

function dead(reason: DeadLetterReason, detail: string): DeadResult {
  return { kind: "dead", reason, detail };
}

// A number as the payload wrote it.
function numberText(value: number | ExactInteger): string {
  return typeof value === "number" ? String(value) : value.rawJSON;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (isExactInteger(value)) return `the number ${value.rawJSON}`;
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
