/**
 * Output formats: how a record is written on stdout. Pure: a record in,
 * text out (one or more lines, or none), no I/O.
 *
 * - `record`: the record of the payload contract, one JSON object per line
 *   (`format_record.ts`).
 * - `device`: one JSON object per device (`format_device.ts`).
 * - `influx`: InfluxDB line protocol, one point per device with readings
 *   (`format_influx.ts`).
 *
 * @module
 */

import type { OnSkip } from "./device_walk.ts";
import { deviceLines } from "./format_device.ts";
import { influxLines } from "./format_influx.ts";
import { recordLine } from "./format_record.ts";
import type { ParsedPayload } from "./payload.ts";
import { type AmmpRecord, buildRecord } from "./record.ts";

/** The values of `OUTPUT_FORMAT`, the default first. */
export const OUTPUT_FORMATS = ["record", "device", "influx"] as const;

/** An output format. */
export type OutputFormat = typeof OUTPUT_FORMATS[number];

/**
 * Writes a record in `format`: lines joined by `"\n"` without a final
 * newline, or `""` when the format has nothing to write for it (`device`
 * and `influx` for a record without devices, `influx` when no device has a
 * reading).
 *
 * @example
 * ```ts
 * const record = { node_id: "b827eb000001", time: "2024-03-01T10:15:00+00:00",
 *   data: { "inv-1": { P_total: 5120.5 } } };
 * formatRecord(record, "influx");
 * // 'ammp,node_id=b827eb000001,vid=inv-1 P_total=5120.5 1709288100000000000'
 * ```
 */
export function formatRecord(record: AmmpRecord, format: OutputFormat): string {
  switch (format) {
    case "record":
      return JSON.stringify(record);
    case "device":
      return deviceLines(record).map((line) => JSON.stringify(line)).join("\n");
    case "influx":
      return influxLines(record).join("\n");
  }
}

/**
 * Writes a parsed payload's record in `format`, as {@linkcode formatRecord}
 * would: the `record` format straight from the parsed payload, the others
 * from the record object. Every skip is reported to `onSkip` once. Changes
 * the parsed payload, which is not to be used afterwards.
 */
export function formatPayload(
  parsed: ParsedPayload,
  format: OutputFormat,
  onSkip?: OnSkip,
): string {
  return format === "record"
    ? recordLine(parsed, onSkip)
    : formatRecord(buildRecord(parsed, onSkip), format);
}
