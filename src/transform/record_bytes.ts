/**
 * The `record` format written straight from a payload's bytes: one pass
 * over the UTF-8 JSON that checks its grammar and copies what the record
 * keeps into a reused buffer, with no object per device or reading and no
 * string per value.
 *
 * The pass writes the same bytes, and reports the same skips, as the parse
 * path (`format_record.ts`) for every payload it takes: UTF-8 (validated)
 * and `\u` escapes anywhere, Python's `NaN` and `Infinity`, devices and
 * readings left out and counted, status entries, integers of any length
 * with every digit. The devices of a vendor id used twice are merged once
 * the payload is read (`_device_groups.ts`); a payload with a key repeated
 * in one device, or array-index keys, is read a second time and written
 * in the record's order (`_merged_record.ts`). Declined, for the parse path:
 * - anything that is not a usable data payload (a dead letter's reason and
 *   detail come from the parse path);
 * - `t`, `r`, `_vid` or `_s` given twice in one object, and a repeated or
 *   array-index key inside a status entry;
 * - values nested deeper than 64 levels;
 * - more than 2,048 keys in the payload object or a status object, or keys
 *   there that finding a repeat among would cost more than twice the
 *   payload's size in probes and compared bytes (keys made to share a
 *   hash): the work stays in proportion to the payload, whatever it holds.
 *
 * The pass is one object, a class built in layers: the reader of the
 * payload's bytes (`_byte_reader.ts`), the writer of the record
 * (`_record_writer.ts`), its keys (`_key_reader.ts`) and status entries
 * (`_status_writer.ts`), with sets of keys to find a repeat
 * (`_key_set.ts`); this module walks the payload and its devices. As
 * fields of one receiver, the state costs what module variables did.
 *
 * @module
 */

import { decline, DECLINED } from "./_byte_reader.ts";
import { KeySet } from "./_key_set.ts";
import { DeviceGroups } from "./_device_groups.ts";
import { MergedRecord, spanText } from "./_merged_record.ts";
import { StatusWriter } from "./_status_writer.ts";
import { type OnSkip, SKIP_REASONS } from "./device_walk.ts";
import { MAX_TIME_MS } from "./payload.ts";
import { formatMilliseconds } from "./record.ts";

/** A record written from a payload's bytes. */
export interface RecordBytes {
  /** The record's line, without the newline; valid until the next call. */
  bytes: Uint8Array;
  /** The payload's `t`, in Unix seconds. */
  t: number;
}

/** Options for {@linkcode recordBytes}. */
export interface RecordBytesOptions {
  /** Called once for every reading or device left out of the record. */
  onSkip?: OnSkip;
}

/**
 * The record line of a data payload, written from its bytes, or
 * `undefined` where the payload is declined (see the module's notes) and
 * must take the parse path. `node` is the node id of the record. Skips are
 * reported only for a payload taken.
 */
export function recordBytes(
  payload: Uint8Array,
  node: string | undefined,
  options: RecordBytesOptions = {},
): RecordBytes | undefined {
  const line = node === undefined ? "" : `{"node_id":${JSON.stringify(node)},"time":"`;
  // The header goes in front of the data once `t` is known: room for it.
  const room = line.length * 3 + 48;
  const pass = _pass;
  for (let merging = false;; merging = true) {
    pass.startRecord(room, payload.byteLength);
    pass.start(payload);
    try {
      const t = pass.payload(merging);
      if (merging) pass.mergedRecord.write(pass, room);
      else if (pass.groups.repeated) pass.groups.write(pass, room);
      const time = formatMilliseconds(pass.timeMs);
      const bytes = pass.finishRecord(room, line === "" ? '{"time":"' : line, time);
      const onSkip = options.onSkip;
      if (onSkip !== undefined) { for (const skip of pass.skips) onSkip(SKIP_REASONS[skip]); }
      return { bytes, t };
    } catch (error) {
      if (error === _MERGE && !merging) continue;
      if (error === DECLINED || error === _MERGE) return undefined;
      throw error;
    } finally {
      pass.stop();
    }
  }
}

// Thrown where the payload needs its objects merged: read again, merging.
const _MERGE = new Error("Payload to merge");
function _merge(): never {
  throw _MERGE;
}

// The skips, as indexes of SKIP_REASONS.
const [MISSING_VID, INVALID_DEVICE, INVALID_VALUE, INVALID_STATUS] = [0, 1, 2, 3];

// The pass: the walk over the payload and its devices, writing as it goes.
class _BytePass extends StatusWriter {
  // The keys of the payload object and of the device being read, and the
  // payload's vendor ids.
  #payloadKeys = new KeySet();
  #deviceKeys = new KeySet();
  #vendorIds = new KeySet();
  #merging = false;
  /** The devices of a payload read at once, some of one vendor id. */
  groups = new DeviceGroups();
  /** The devices of a payload read merging. */
  mergedRecord = new MergedRecord();
  /** The payload's skips so far, as indexes of `SKIP_REASONS`. */
  skips: number[] = [];

  /**
   * The whole payload: an object with `t` and `r`, nothing after it.
   * Gives `t`; the devices are written as they come, or kept to merge.
   */
  payload(merging: boolean): number {
    this.#merging = merging;
    if (merging) this.mergedRecord.clear();
    else this.groups.clear();
    this.skips.length = 0;
    this.#payloadKeys.clear();
    this.#vendorIds.clear();
    this.expect(123);
    let t = NaN;
    let devices = false;
    if (this.next() !== 34) decline();
    for (;;) {
      this.key();
      if (this.#payloadKeys.add(this)) decline();
      this.expect(58);
      this.ws();
      const length = this.keyLength();
      const first = this.keyFirst;
      if (length === 1 && first === 116 /* t */) {
        t = this.readTime();
      } else if (length === 1 && first === 114 /* r */) {
        this.#devices();
        devices = true;
      } else {
        this.skip(0);
      }
      const c = this.next();
      if (c === 125) break;
      if (c !== 44 || this.next() !== 34) decline();
    }
    this.ws();
    if (this.at !== this.end || !devices || !(t >= 0) || !(this.timeMs <= MAX_TIME_MS)) {
      decline();
    }
    return t;
  }

  // `r`: an array of devices, each an object with a vendor id.
  #devices(): void {
    if (this.bytes[this.at++] !== 91) decline();
    let c = this.next();
    if (c === 93) return;
    let count = 0;
    for (;;) {
      if (c === 123) {
        const mark = this.dataEnd;
        if (count > 0 && !this.#merging) this.put(44);
        if (this.#device()) count++;
        else this.dataEnd = mark;
      } else {
        // Not an object: left out and counted.
        this.at--;
        this.skip(0);
        this.skips.push(INVALID_DEVICE);
      }
      c = this.next();
      if (c === 93) return;
      if (c !== 44) decline();
      c = this.next();
    }
  }

  // One device after its `{`: `"vid":{readings}` into the data, and
  // `"vid":[entries]` into the status when it has any. False where it has
  // no usable vendor id: then nothing is written, and it is counted.
  #device(): boolean {
    const merging = this.#merging;
    this.#deviceKeys.clear();
    if (merging) this.mergedRecord.startDevice();
    const b = this.bytes;
    const at = this.dataEnd;
    const statusAt = this.statusEnd;
    const skipsAt = this.skips.length;
    // -1: none yet; 0: one that is not a non-empty string; 1: usable.
    let vid = -1;
    // Whether `"vid":{` is written: at once when the vendor id comes before
    // any reading, else in front of them at the end.
    let prefixed = false;
    let readings = 0;
    let entries = 0;
    let statusSeen = false;
    let statusSkips = 0;
    // The first device of this vendor id.
    let first = -1;
    let c = this.next();
    if (c !== 125) {
      for (;;) {
        if (c !== 34) decline();
        this.key();
        if (!merging && this.#deviceKeys.add(this)) _merge();
        this.expect(58);
        this.ws();
        if (this.keyFirst === 95 /* _ */) {
          const length = this.keyLength();
          if (
            length === 4 && this.keyByte(1) === 118 && this.keyByte(2) === 105 &&
            this.keyByte(3) === 100
          ) {
            if (vid !== -1) decline(); // the parse keeps the last
            vid = 0;
            if (b[this.at] === 34) {
              this.at++;
              this.key();
              if (this.keyLength() > 0) {
                vid = 1;
                this.keepVid();
                if (!merging) {
                  if (this.keyIsIndex()) _merge();
                  const prior = this.#vendorIds.addWith(this, this.groups.size);
                  if (prior === -2) _merge();
                  first = prior === -1 ? this.groups.size : prior;
                  if (readings === 0) {
                    this.vidKey();
                    prefixed = true;
                  }
                }
              }
            } else {
              this.skip(0);
            }
          } else if (length === 2 && this.keyByte(1) === 115) {
            if (statusSeen) decline();
            statusSeen = true;
            if (b[this.at] === 110 || b[this.at] === 78 || b[this.at] === 73 || b[this.at] === 45) {
              // null, or NaN as the parse path reads it: no entries.
              if (!this.literal() && !this.nonFinite()) {
                this.skip(0);
                statusSkips++;
              }
            } else if (b[this.at] !== 91) {
              this.skip(0);
              statusSkips++;
            } else {
              this.statusSkips = 0;
              entries = this.entries(statusAt);
              statusSkips += this.statusSkips;
            }
          } else {
            this.skip(0);
          }
        } else {
          if (!merging && this.keyIsIndex()) _merge();
          readings = this.#reading(readings);
        }
        c = this.next();
        if (c === 125) break;
        if (c !== 44) decline();
        c = this.next();
      }
    }
    if (vid !== 1) {
      this.dataEnd = at;
      this.statusEnd = statusAt;
      this.skips.length = skipsAt;
      this.skips.push(MISSING_VID);
      return false;
    }
    if (merging) {
      const start = this.dataEnd;
      this.putVid();
      const invalid = this.mergedRecord.endDevice(spanText(this.vid, 1, this.vidEnd - 1), {
        start,
        end: this.dataEnd,
        statusStart: statusAt,
        statusEnd: entries > 0 ? this.statusEnd : statusAt,
      });
      for (let k = 0; k < invalid; k++) this.skips.push(INVALID_VALUE);
    } else {
      this.closeDevice({ at, statusAt, prefixed, entries });
      this.groups.add({
        start: at,
        end: this.dataEnd,
        statusStart: entries > 0 ? statusAt + (statusAt > 0 ? 1 : 0) : -1,
        statusEnd: this.statusEnd,
        first,
      });
    }
    for (let k = 0; k < statusSkips; k++) this.skips.push(INVALID_STATUS);
    return true;
  }

  // A reading after its key: written, or left out (counted where it is an
  // object or array). Gives how many readings the device has written.
  #reading(readings: number): number {
    const b = this.bytes;
    const merging = this.#merging;
    const v = b[this.at];
    if (v === 110 || v === 78 || v === 73 || (v === 45 && b[this.at + 1] === 73)) {
      // null, NaN, Infinity: a failed read, left out, not counted.
      if (!this.literal() && !this.nonFinite()) decline();
      if (merging) this.mergedRecord.dropped(this.#keyString());
      return readings;
    }
    if (v === 123 || v === 91) {
      this.skip(0);
      if (merging) this.mergedRecord.invalid(this.#keyString());
      else this.skips.push(INVALID_VALUE);
      return readings;
    }
    const key = merging ? this.#keyString() : "";
    const mark = this.dataEnd;
    if (readings > 0 && !merging) this.put(44);
    let end = this.putKey(this.data, this.dataEnd);
    this.data[end++] = 58;
    if (v === 34) end = this.copyString(this.data, end);
    else if (v === 116 || v === 102) end = this.copyLiteral(this.data, end);
    else end = this.copyNumber(this.data, end);
    if (end < 0) {
      // Beyond a double: left out, not counted.
      this.dataEnd = mark;
      if (merging) this.mergedRecord.dropped(key);
      return readings;
    }
    this.dataEnd = end;
    if (merging) this.mergedRecord.reading(key, mark, end);
    return readings + 1;
  }

  // The last key's text, as the record writes it.
  #keyString(): string {
    return this.keyEscaped
      ? spanText(this.keyText, 1, this.keyTextEnd - 1)
      : spanText(this.bytes, this.keyStart, this.keyEnd);
  }
}

const _pass = new _BytePass();
