/**
 * The `record` format written straight from a payload's bytes: one pass
 * over the UTF-8 JSON that checks its grammar and copies what the record
 * keeps into a reused buffer, with no object per device or reading and no
 * string per value. Parsing a payload into objects only to write most of
 * it back out costs about four times as much, and is most of the garbage
 * a busy agent makes.
 *
 The pass writes the same bytes, and reports the same skips, as the parse
 * path (`format_record.ts`) for every payload it takes: UTF-8 (validated)
 * and `\u` escapes anywhere, Python's `NaN` and `Infinity`, devices and
 * readings left out and counted, status entries, integers of any length
 * with every digit. A payload whose objects a copy cannot keep in order (a
 * vendor id used twice, a repeated key, array-index keys) is read a second
 * time and written in the record's order (`_merged_record.ts`). Declined,
 * for the parse path:
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
 * The pass is one object, a class built on the reader of the payload's
 * bytes (`_byte_reader.ts`) and the writer of the record
 * (`_record_writer.ts`), with sets of keys to find a repeat
 * (`_key_set.ts`); this module walks the payload, its devices and their
 * status entries. As fields of one receiver, the state costs what module
 * variables did, and the small steps inline into the walk's loops.
 *
 * @module
 */

import { decline, DECLINED } from "./_byte_reader.ts";
import { KeySet } from "./_key_set.ts";
import { MergedRecord, spanText } from "./_merged_record.ts";
import { capacity, RecordWriter } from "./_record_writer.ts";
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
      if (merging) pass.merge(room);
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
const MISSING_VID = 0;
const INVALID_DEVICE = 1;
const INVALID_VALUE = 2;
const INVALID_STATUS = 3;

// How deeply a status entry's objects may nest (`MAX_STATUS_DEPTH`): one
// at this depth makes the entry invalid.
const TOO_DEEP_ENTRY = 16;

// Thrown inside a status entry nested too deeply.
const _TOO_DEEP = new Error("Status entry too deep");

// The pass: the walk over the payload, the devices and their status
// entries, writing the record as it goes.
class _BytePass extends RecordWriter {
  // The keys of the payload object and of the device being read, and the
  // payload's vendor ids.
  #payloadKeys = new KeySet();
  #deviceKeys = new KeySet();
  #vendorIds = new KeySet();
  // The keys of the status entries' objects being written, a set for each
  // depth: objects of one depth are written one after the other.
  #entrySets: KeySet[] = [];
  #merging = false;
  #merged = new MergedRecord();
  // The vendor id of the device being read, quoted as the record writes it.
  #vid: Uint8Array = new Uint8Array(256);
  #vidEnd = 0;
  #spareData: Uint8Array = new Uint8Array(0);
  #spareStatus: Uint8Array = new Uint8Array(0);
  /** The payload's skips so far, as indexes of `SKIP_REASONS`. */
  skips: number[] = [];

  /**
   * The whole payload: an object with `t` and `r`, nothing after it.
   * Gives `t`; the devices are written as they come, or kept to merge.
   */
  payload(merging: boolean): number {
    this.#merging = merging;
    this.#merged.clear();
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

  /** Writes the merged devices and status entries in the record's order. */
  merge(room: number): void {
    // A comma for each reading, `:{}` and a comma for each vendor id, each
    // span at least 3 bytes long: at most three times what was copied.
    this.#spareData = capacity(this.#spareData, 3 * this.dataEnd + 256);
    this.#spareStatus = capacity(this.#spareStatus, 2 * (this.statusEnd + this.dataEnd) + 256);
    const data = this.data;
    const status = this.status;
    const ends = this.#merged.write(
      { data, status },
      { data: this.#spareData, status: this.#spareStatus },
      room,
    );
    this.data = this.#spareData;
    this.status = this.#spareStatus;
    this.#spareData = data;
    this.#spareStatus = status;
    this.dataEnd = ends.dataEnd;
    this.statusEnd = ends.statusEnd;
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
    if (merging) this.#merged.startDevice();
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
                this.#keepVid();
                if (!merging) {
                  if (this.keyIsIndex() || this.#vendorIds.add(this)) _merge();
                  if (readings === 0) {
                    this.#vidKey();
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
              const before = this.#statusSkips;
              this.#statusSkips = 0;
              entries = this.#entries(statusAt);
              statusSkips += this.#statusSkips;
              this.#statusSkips = before;
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
      this.#putVid();
      const invalid = this.#merged.endDevice(spanText(this.#vid, 1, this.#vidEnd - 1), {
        start,
        end: this.dataEnd,
        statusStart: statusAt,
        statusEnd: entries > 0 ? this.statusEnd : statusAt,
      });
      for (let k = 0; k < invalid; k++) this.skips.push(INVALID_VALUE);
    } else {
      if (!prefixed) {
        // Readings came before the vendor id: moved behind its key.
        const shift = this.#vidEnd + 2;
        this.ensure(shift);
        this.data.copyWithin(at + shift, at, this.dataEnd);
        const end = this.dataEnd + shift;
        this.dataEnd = at;
        this.#vidKey();
        this.dataEnd = end;
      }
      this.put(125);
      if (entries > 0) {
        const shift = this.#vidEnd + 2 + (statusAt > 0 ? 1 : 0);
        this.ensureStatus(shift + 1);
        const st = this.status;
        st.copyWithin(statusAt + shift, statusAt, this.statusEnd);
        let s = statusAt;
        if (statusAt > 0) st[s++] = 44;
        for (let k = 0; k < this.#vidEnd; k++) st[s++] = this.#vid[k];
        st[s++] = 58;
        st[s++] = 91;
        this.statusEnd += shift;
        st[this.statusEnd++] = 93;
      }
    }
    for (let k = 0; k < statusSkips; k++) this.skips.push(INVALID_STATUS);
    return true;
  }

  #statusSkips = 0;

  // A reading after its key: written, or left out (counted where it is an
  // object or array). Gives how many readings the device has written.
  #reading(readings: number): number {
    const b = this.bytes;
    const merging = this.#merging;
    const v = b[this.at];
    if (v === 110 || v === 78 || v === 73 || (v === 45 && b[this.at + 1] === 73)) {
      // null, NaN, Infinity: a failed read, left out, not counted.
      if (!this.literal() && !this.nonFinite()) decline();
      if (merging) this.#merged.dropped(this.#keyString());
      return readings;
    }
    if (v === 123 || v === 91) {
      this.skip(0);
      if (merging) this.#merged.invalid(this.#keyString());
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
      if (merging) this.#merged.dropped(key);
      return readings;
    }
    this.dataEnd = end;
    if (merging) this.#merged.reading(key, mark, end);
    return readings + 1;
  }

  // The last key's text, as the record writes it.
  #keyString(): string {
    return this.keyEscaped
      ? spanText(this.keyText, 1, this.keyTextEnd - 1)
      : spanText(this.bytes, this.keyStart, this.keyEnd);
  }

  // Keeps the last key read, the vendor id, quoted.
  #keepVid(): void {
    const length = this.keyLength() + 2;
    if (this.#vid.byteLength < length) this.#vid = new Uint8Array(2 * length);
    this.#vidEnd = this.putKey(this.#vid, 0);
  }

  // Writes the vendor id, quoted, to the data.
  #putVid(): void {
    this.ensure(this.#vidEnd);
    const data = this.data;
    let o = this.dataEnd;
    for (let k = 0; k < this.#vidEnd; k++) data[o++] = this.#vid[k];
    this.dataEnd = o;
  }

  // Writes `"vid":{` to the data.
  #vidKey(): void {
    this.#putVid();
    this.put(58);
    this.put(123);
  }

  // `_s` at the cursor: an array of entries, written to the status
  // comma-separated from `statusAt`; gives how many. An entry nested too
  // deeply is left out and counted.
  #entries(statusAt: number): number {
    this.at++;
    this.statusEnd = statusAt;
    let count = 0;
    let c = this.next();
    if (c === 93) return 0;
    this.at--;
    for (;;) {
      this.ws();
      const entryAt = this.at;
      const mark = this.statusEnd;
      if (count > 0) this.putStatus(44);
      try {
        this.statusEnd = this.#copyEntry(0);
        count++;
      } catch (error) {
        if (error !== _TOO_DEEP) throw error;
        this.at = entryAt;
        this.skip(0);
        this.statusEnd = mark;
        this.#statusSkips++;
      }
      c = this.next();
      if (c === 93) return count;
      if (c !== 44) decline();
    }
  }

  // Copies one value of a status entry to the status; gives the new end of
  // the status.
  #copyEntry(depth: number): number {
    const b = this.bytes;
    const c = b[this.at];
    if (c === 34) return this.copyString(this.status, this.statusEnd);
    if (c === 123 || c === 91) {
      if (depth >= TOO_DEEP_ENTRY) throw _TOO_DEEP;
      this.at++;
      this.putStatus(c);
      const close = c + 2;
      const keys = c === 123 ? this.#entrySets[depth] ??= new KeySet() : undefined;
      keys?.clear();
      if (this.next() === close) {
        this.putStatus(close);
        return this.statusEnd;
      }
      this.at--;
      for (let first = true;; first = false) {
        if (!first) this.putStatus(44);
        if (c === 123) {
          this.expect(34);
          this.key();
          if (this.keyIsIndex() || keys!.add(this)) decline();
          this.ensureStatus(this.keyLength() * 2 + 2);
          this.statusEnd = this.putKey(this.status, this.statusEnd);
          this.expect(58);
          this.putStatus(58);
        }
        this.ws();
        this.statusEnd = this.#copyEntry(depth + 1);
        const d = this.next();
        if (d === close) break;
        if (d !== 44) decline();
      }
      this.putStatus(close);
      return this.statusEnd;
    }
    if (c === 116 || c === 102 || c === 110) return this.copyLiteral(this.status, this.statusEnd);
    if (c === 78 || c === 73 || (c === 45 && b[this.at + 1] === 73)) {
      // NaN and Infinity are written as the parse path reads them: null.
      if (!this.nonFinite()) decline();
      return this.#putNull();
    }
    const end = this.copyNumber(this.status, this.statusEnd);
    return end < 0 ? this.#putNull() : end;
  }

  #putNull(): number {
    this.ensureStatus(4);
    const st = this.status;
    let s = this.statusEnd;
    st[s++] = 110;
    st[s++] = 117;
    st[s++] = 108;
    st[s++] = 108;
    return s;
  }
}

const _pass = new _BytePass();
