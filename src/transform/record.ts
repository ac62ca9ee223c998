/**
 * The record of the payload contract, built as an object from a parsed
 * payload: what the `device` and `influx` formats write from, and what
 * `transform()` gives.
 *
 * @module
 */

import { type OnSkip, type ReadingValue, type RecordBuilder, walkDevices } from "./device_walk.ts";
import { roundedMilliseconds } from "./number_text.ts";
import { type ParsedPayload, readExactly } from "./payload.ts";

/**
 * Readings further ahead of their arrival than this come from a node with
 * a wrong clock: they are counted, and never taken as the newest reading,
 * which would pin `ammp_agent_last_reading_timestamp_seconds` and silence
 * the lag alert.
 */
export const FUTURE_READING_SECONDS = 300;

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

/**
 * Formats a Unix time in seconds as RFC 3339 in UTC: second precision, or
 * milliseconds when `t` has a fraction that does not round to a whole
 * second. The fraction is rounded from the digits JSON writes for `t`,
 * half away from zero (`roundedMilliseconds()`).
 *
 * @example
 * ```ts
 * formatTime(1709288100); // "2024-03-01T10:15:00+00:00"
 * formatTime(1709288460.25); // "2024-03-01T10:21:00.250+00:00"
 * formatTime(1709288460.0015); // "2024-03-01T10:21:00.002+00:00"
 * ```
 */
export function formatTime(t: number): string {
  return formatMilliseconds(Number.isInteger(t) ? t * 1000 : roundedMilliseconds(String(t)));
}

/**
 * Formats a Unix time in whole milliseconds as RFC 3339 in UTC, as
 * {@linkcode formatTime} does.
 */
export function formatMilliseconds(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  // The payloads of a day share its date, which Date writes once.
  if (day !== _day) {
    _day = day;
    _date = new Date(day * DAY_MS).toISOString().slice(0, 11);
  }
  const inDay = ms - day * DAY_MS;
  const seconds = Math.floor(inDay / 1000);
  const fraction = inDay - seconds * 1000;
  return _date + _TWO_DIGITS[Math.floor(seconds / 3600)] + ":" +
    _TWO_DIGITS[Math.floor(seconds / 60) % 60] + ":" + _TWO_DIGITS[seconds % 60] +
    (fraction === 0 ? "" : "." + String(fraction).padStart(3, "0")) + "+00:00";
}

const DAY_MS = 86_400_000;
const _TWO_DIGITS = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, "0"));
// The day last written, and its "YYYY-MM-DDT".
let _day = NaN;
let _date = "";

/** What a {@linkcode RecordBuilder} has collected once the walk is done. */
export interface RecordParts {
  /** The record's `data`. */
  data: AmmpRecord["data"];
  /** The record's `status`; `undefined` when no device has any. */
  statuses: AmmpRecord["status"];
}

/**
 * Walks a parsed payload into a fresh builder of class `Builder` and gives
 * the record it collected, every skip reported to `onSkip` once. Where the
 * record holds a number the plain parse may have rounded, the payload is
 * read again with every digit and walked again.
 */
export function walkRecord(
  parsed: ParsedPayload,
  Builder: new () => RecordBuilder & RecordParts,
  onSkip?: OnSkip,
): AmmpRecord {
  let builder = new Builder();
  if (!walkDevices(parsed.devices, builder, onSkip) && !parsed.exact) {
    // Skips were all reported by the first walk; the exact one makes the same.
    parsed = readExactly(parsed);
    builder = new Builder();
    walkDevices(parsed.devices, builder, undefined);
  }
  const time = formatMilliseconds(parsed.ms);
  const record: AmmpRecord = parsed.node === undefined
    ? { time, data: builder.data }
    : { node_id: parsed.node, time, data: builder.data };
  if (builder.statuses !== undefined) record.status = builder.statuses;
  return record;
}

/**
 * The record of a parsed payload, every skip reported to `onSkip` once.
 * Devices that share a vendor id are merged: their readings into one
 * object, their status entries into one list.
 */
export function buildRecord(parsed: ParsedPayload, onSkip?: OnSkip): AmmpRecord {
  return walkRecord(parsed, _ObjectBuilder, onSkip);
}

// Null-prototype maps: a vendor id or field named "__proto__" stays a
// plain key and can never reach an object's prototype.
class _ObjectBuilder implements RecordBuilder, RecordParts {
  data: Record<string, Record<string, ReadingValue>> = Object.create(null);
  statuses: Record<string, unknown[]> | undefined;
  #readings: Record<string, ReadingValue> = Object.create(null);

  device(vid: string): void {
    this.#readings = this.data[vid] ??= Object.create(null);
  }

  keep(key: string, value: ReadingValue): void {
    this.#readings[key] = value;
  }

  leave(): void {}

  status(vid: string, entry: unknown): void {
    this.statuses ??= Object.create(null) as Record<string, unknown[]>;
    (this.statuses[vid] ??= []).push(entry);
  }
}
