/**
 * The `device` format: one JSON object per device,
 * `{"node_id","time","vid","readings":{...},"status":[...]}`.
 *
 * @module
 */

import type { ReadingValue } from "./device_walk.ts";
import type { AmmpRecord } from "./record.ts";

/** One line of the `device` format. */
export interface DeviceLine {
  node_id?: string;
  time: string;
  vid: string;
  /** The device's readings; their own object, so no reading can clash with the keys above. */
  readings: Record<string, ReadingValue>;
  /** The device's `_s` entries; absent when it has none. */
  status?: unknown[];
}

/** The `device` lines of a record, one per device, in the record's order. */
export function deviceLines(record: AmmpRecord): DeviceLine[] {
  const lines: DeviceLine[] = [];
  for (const vid in record.data) {
    const line: DeviceLine = record.node_id === undefined
      ? { time: record.time, vid, readings: record.data[vid] }
      : { node_id: record.node_id, time: record.time, vid, readings: record.data[vid] };
    const status = record.status?.[vid];
    if (status !== undefined) line.status = status;
    lines.push(line);
  }
  return lines;
}
