/**
 * The `record` format, written straight from the parsed payload: exactly
 * `JSON.stringify` of the record object, at a fraction of the cost.
 *
 * `JSON.stringify` of the record's freshly built objects costs twice as
 * much as of the objects `JSON.parse` makes, and building them as much
 * again; so the parsed devices are reused as they are, with every part the
 * record leaves out set to `undefined`, which `JSON.stringify` omits.
 *
 * @module
 */

import type { OnSkip, RecordBuilder } from "./device_walk.ts";
import type { ParsedPayload } from "./payload.ts";
import { buildRecord, type RecordParts, walkRecord } from "./record.ts";

/**
 * The record of a parsed payload as one line of JSON, without the newline,
 * every skip reported to `onSkip` once. Changes `parsed.devices`: the
 * parsed payload is not to be used afterwards.
 */
export function recordLine(parsed: ParsedPayload, onSkip?: OnSkip): string {
  // Devices that share a vendor id are merged, which the record object does.
  const record = _hasRepeatedVid(parsed.devices)
    ? buildRecord(parsed, onSkip)
    : walkRecord(parsed, _LineBuilder, onSkip);
  return JSON.stringify(record);
}

// Vendor ids are unique here: each device's fields become its readings.
// Its `data` holds the parsed devices themselves, typed as the record's.
class _LineBuilder implements RecordBuilder, RecordParts {
  data: RecordParts["data"] = {};
  statuses: RecordParts["statuses"];
  #fields: Record<string, unknown> = {};
  #entries: unknown[] | undefined;

  device(vid: string, fields: Record<string, unknown>): void {
    this.#fields = fields;
    this.#entries = undefined;
    _setOwn(this.data, vid, fields);
  }

  // A kept reading stays as parsed.
  keep(): void {}

  leave(key: string): void {
    this.#fields[key] = undefined;
  }

  status(vid: string, entry: unknown): void {
    if (this.#entries === undefined) {
      this.#entries = [];
      _setOwn(this.statuses ??= {}, vid, this.#entries);
    }
    this.#entries.push(entry);
  }
}

// Whether two usable devices share a vendor id.
function _hasRepeatedVid(devices: unknown[]): boolean {
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
function _setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
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
