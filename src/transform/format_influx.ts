/**
 * The `influx` format: InfluxDB line protocol, one point per device with
 * readings and one per device with status entries.
 *
 * @module
 */

import type { ReadingValue } from "./device_walk.ts";
import { type ExactInteger, isExactInteger } from "./exact_integer.ts";
import type { AmmpRecord } from "./record.ts";

/** The line protocol measurement of device readings. */
export const INFLUX_MEASUREMENT = "ammp";

/** The line protocol measurement of device status entries. */
export const INFLUX_STATUS_MEASUREMENT = "ammp_status";

/**
 * The line protocol points of a record: per device, one `ammp` point with
 * its readings as fields, and one `ammp_status` point when it has `_s`
 * entries. Tags are `node_id` (when the record has one) and `vid`, sorted
 * by key as InfluxDB prefers. Timestamps are Unix nanoseconds, the
 * protocol's default precision.
 *
 * Every number a double holds exactly is written as a float (`5`, not
 * `5i`): AMMP readings are JSON numbers, and a reading that is `5` in one
 * payload and `5.1` in the next must not become an integer field that then
 * rejects the float. An integer beyond 2^53 is a float field too, written
 * with every digit (`9007199254740993`): as an integer field, a 64-bit
 * counter would change type the day it crosses 2^53, and InfluxDB would
 * reject every later point of it. The line keeps the digits; InfluxDB
 * stores a float field as a double, rounded.
 * A point needs at least one field, so a device without readings (polled,
 * nothing returned) has no `ammp` point, and a reading whose name is empty
 * is left out.
 */
export function influxLines(record: AmmpRecord): string[] {
  const lines: string[] = [];
  const timestamp = nanoseconds(record.time);
  const node = record.node_id ? `,node_id=${escapeKey(record.node_id)}` : "";
  for (const vid in record.data) {
    const tags = `${node},vid=${escapeKey(vid)}`;
    const fields: string[] = [];
    const readings = record.data[vid];
    for (const name in readings) {
      if (name === "") continue;
      fields.push(`${escapeKey(name)}=${influxValue(readings[name])}`);
    }
    if (fields.length > 0) {
      lines.push(`${INFLUX_MEASUREMENT}${tags} ${fields.join(",")} ${timestamp}`);
    }
    const status = record.status?.[vid];
    if (status !== undefined) {
      lines.push(`${INFLUX_STATUS_MEASUREMENT}${tags} ${statusFields(status)} ${timestamp}`);
    }
  }
  return lines;
}

// `entries`: the `_s` array as JSON; `level`: its highest numeric `l`,
// always a float field, written with every digit.
function statusFields(entries: unknown[]): string {
  let level: number | undefined;
  let written = "";
  for (const entry of entries) {
    const l = (entry as { l?: unknown } | null)?.l;
    const value = isExactInteger(l) ? Number(l.rawJSON) : l;
    if (
      typeof value === "number" && Number.isFinite(value) && (level === undefined || value > level)
    ) {
      level = value;
      written = typeof l === "number" ? String(l) : (l as ExactInteger).rawJSON;
    }
  }
  const fields = `entries=${influxString(JSON.stringify(entries))}`;
  return level === undefined ? fields : `${fields},level=${written}`;
}

function influxValue(value: ReadingValue): string {
  switch (typeof value) {
    case "number":
      return String(value);
    case "boolean":
      return value ? "true" : "false";
    case "string":
      return influxString(value);
    default:
      return influxInteger(value);
  }
}

// An integer beyond 2^53: a float field, like every number, with its digits.
function influxInteger(value: ExactInteger): string {
  return value.rawJSON;
}

// A string field value: quoted; `"` and `\` escaped. The protocol cannot
// carry a line break anywhere, so CR and LF become the two characters `\r`, `\n`.
function influxString(value: string): string {
  return `"${value.replace(/["\\]/g, "\\$&").replace(/\r/g, "\\r").replace(/\n/g, "\\n")}"`;
}

/**
 * Escapes a measurement, tag key, tag value or field key for the line
 * protocol: comma, equals sign and space get a backslash; CR and LF become
 * `\r` and `\n`. A backslash before an ordinary character is written as it
 * is, which every reader takes literally; one that would otherwise escape
 * what follows (a comma, equals sign, space, another backslash, or the end)
 * is doubled, as the protocol's reference specifies.
 */
export function escapeKey(value: string): string {
  return value
    .replace(/\\(?=[\\,= ]|$)/g, "\\\\")
    .replace(/[,= ]/g, "\\$&")
    .replace(/\r/g, "\\r")
    .replace(/\n/g, "\\n");
}

// RFC 3339 time (second or millisecond precision) to Unix nanoseconds.
function nanoseconds(time: string): string {
  return String(BigInt(Date.parse(time)) * 1_000_000n);
}
