/**
 * The walk over a payload's device readings (`r`) that decides, once for
 * every way of writing a record, which device, reading and status entry
 * the record keeps, and counts what it leaves out. What is kept goes to a
 * {@linkcode RecordBuilder}: one builds the record object, another
 * prepares the parsed devices for the record's JSON line.
 *
 * @module
 */

import { type ExactInteger, isExactInteger, mayBeRounded } from "./exact_integer.ts";

/** Why part of a payload was left out of its record. Each is a `reason` label. */
export const SKIP_REASONS = [
  "missing_vid",
  "invalid_device",
  "invalid_value",
  "invalid_status",
] as const;

/** A reason for leaving one reading or device out of a record. */
export type SkipReason = typeof SKIP_REASONS[number];

/** Called once for every reading or device left out of a record. */
export type OnSkip = (reason: SkipReason) => void;

/**
 * A reading value as it appears in a record. An integer beyond 2^53 is an
 * {@linkcode ExactInteger}, which `JSON.stringify` writes with every digit;
 * status entries hold such integers the same way.
 */
export type ReadingValue = number | ExactInteger | string | boolean;

/** How deeply a status entry may nest objects and arrays. */
export const MAX_STATUS_DEPTH = 16;

/**
 * What {@linkcode walkDevices} hands on, in the payload's order. A device's
 * calls come together: `device`, then `keep` or `leave` for each of its
 * keys, then `status` for each of its kept `_s` entries.
 */
export interface RecordBuilder {
  /** A usable device: an object with a non-empty string `_vid`. */
  device(vid: string, fields: Record<string, unknown>): void;
  /** A reading the record keeps, as parsed. */
  keep(key: string, value: ReadingValue): void;
  /** A key of `fields` the record leaves out: `_`-prefixed, or not a reading. */
  leave(key: string): void;
  /** A status entry of the current device that the record keeps. */
  status(vid: string, entry: unknown): void;
}

/**
 * Walks the device readings into `builder`, reporting each skip to
 * `onSkip`. Returns false when the record holds a number the plain
 * `JSON.parse` may have rounded: the payload must then be read again with
 * every digit. That parse takes six times as long as `JSON.parse`, and even
 * looking for long runs of digits in the text costs a tenth of the
 * transform; here it costs one comparison on values looked at anyway.
 */
export function walkDevices(
  devices: unknown[],
  builder: RecordBuilder,
  onSkip: OnSkip | undefined,
): boolean {
  let complete = true;
  for (const device of devices) {
    const fields = _usableDevice(device, onSkip);
    if (fields === undefined) continue;
    const vid = fields._vid;
    // Read first: a builder may clear the `_` keys it is told to leave.
    const entries = fields._s;
    builder.device(vid, fields);
    for (const key in fields) {
      if (key.charCodeAt(0) === 95 /* "_" */) {
        builder.leave(key);
        continue;
      }
      const value = fields[key];
      const kept = _readingOf(value, onSkip);
      if (kept === true) {
        builder.keep(key, value as ReadingValue);
      } else if (kept === INEXACT) {
        complete = false;
        builder.keep(key, value as ReadingValue);
      } else {
        // Infinity may be an integer of 309 digits or more: left out
        // unless the exact read finds its digits.
        if (kept === NOT_FINITE) complete = false;
        builder.leave(key);
      }
    }
    if (entries === undefined || entries === null) continue;
    if (!Array.isArray(entries)) {
      onSkip?.("invalid_status");
      continue;
    }
    for (const entry of entries) {
      // Entries are kept as they are, so they must stay writable:
      // JSON.stringify recurses and would overflow on deep nesting.
      const check = _checkEntry(entry, MAX_STATUS_DEPTH);
      if (check === TOO_DEEP) {
        onSkip?.("invalid_status");
        continue;
      }
      if (check === INEXACT) complete = false;
      builder.status(vid, entry);
    }
  }
  return complete;
}

// A kept number that the plain JSON.parse may have rounded.
const INEXACT = Symbol("inexact");

// A number left out as not finite, which the exact read may find digits for.
const NOT_FINITE = Symbol("not finite");

// A status entry that nests objects or arrays too deeply to write.
const TOO_DEEP = Symbol("too deep");

// Whether a reading value is kept (true), kept but maybe rounded (INEXACT),
// or left out (undefined, counted when it is not a reading at all;
// NOT_FINITE for a number JSON.parse read as Infinity).
function _readingOf(
  value: unknown,
  onSkip: OnSkip | undefined,
): true | undefined | typeof INEXACT | typeof NOT_FINITE {
  switch (typeof value) {
    case "number":
      if (value < 2 ** 53 && value > -(2 ** 53)) return true;
      // JSON.parse turns 1e999 into Infinity: not a reading either
      return Number.isFinite(value) ? INEXACT : NOT_FINITE;
    case "string":
    case "boolean":
      return true;
    case "object":
      if (value === null) return undefined;
      if (isExactInteger(value)) return true;
      onSkip?.("invalid_value");
      return undefined;
  }
  return undefined;
}

// Whether a status entry nests objects or arrays more than `limit` levels
// deep, or else holds a number the parse may have rounded: TOO_DEEP,
// INEXACT or undefined. The recursion stops at `limit`, whatever the input.
function _checkEntry(value: unknown, limit: number): typeof TOO_DEEP | typeof INEXACT | undefined {
  if (typeof value !== "object" || value === null) {
    return typeof value === "number" && mayBeRounded(value) ? INEXACT : undefined;
  }
  // An ExactInteger is a number, not a level of nesting.
  if (limit === 0) return isExactInteger(value) ? undefined : TOO_DEEP;
  let found: typeof INEXACT | undefined;
  for (const child of Object.values(value)) {
    const check = _checkEntry(child, limit - 1);
    if (check === TOO_DEEP) return check;
    found ??= check;
  }
  return found;
}

// A device reading with a usable vendor id, or undefined (counted) when it
// is not an object or has no non-empty string `_vid`.
function _usableDevice(
  device: unknown,
  onSkip: OnSkip | undefined,
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
