/**
 * The `record` format written straight from a payload's bytes: one pass
 * over the UTF-8 JSON that checks its grammar and copies what the record
 * keeps into a reused buffer, with no object per device or reading and no
 * string per value. Parsing a payload into objects only to write most of
 * it back out costs about four times as much, and is most of the garbage
 * a busy agent makes.
 *
 * This pass takes only the payloads whose record needs nothing beyond
 * copying, and declines the rest, for which the caller takes the parse path
 * (`format_record.ts`). That path writes the same bytes for every payload
 * taken here. Declined:
 * - anything that is not a usable data payload (a dead letter's reason and
 *   detail come from the parse path);
 * - any device or reading left out and counted, and a vendor id used by two
 *   devices (their readings are merged);
 * - a key that is repeated (the parse keeps its last value), escaped, or
 *   starts with a digit (objects put integer keys first);
 * - text beyond ASCII in the payload's bytes (its `\u` escapes, which
 *   Python writes, are taken, and so are PHP's `\/`), and escaped keys;
 * - a number beyond 2^53, or not finite. A number of at most 15
 *   significant digits, which a double keeps exactly, is copied, cut to its
 *   shortest form (230.0 is written 230); any other is read and written by
 *   V8 (`Number()`, `String()`), as `JSON.stringify` of the parse would;
 * - nesting beyond a status entry's limit, and payloads over 128 KiB;
 * - more than 2,048 keys in one object, or keys that finding a repeat among
 *   would cost more than twice the payload's size in probes and compared
 *   bytes (keys made to share a hash): the work stays in proportion to the
 *   payload, whatever it holds.
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

import { decline, DECLINED, isDigit } from "./_byte_reader.ts";
import { KeySet } from "./_key_set.ts";
import { RecordWriter } from "./_record_writer.ts";
import { MAX_TIME_MS } from "./payload.ts";
import { formatMilliseconds } from "./record.ts";

/** A record written from a payload's bytes. */
export interface RecordBytes {
  /** The record's line, without the newline; valid until the next call. */
  bytes: Uint8Array;
  /** The payload's `t`, in Unix seconds. */
  t: number;
}

/** Payloads larger than this go the parse path, so the buffers stay small. */
export const MAX_RECORD_BYTES_PAYLOAD = 128 * 1024;

/**
 * The record line of a data payload, written from its bytes, or
 * `undefined` where the payload is declined (see the module's notes) and
 * must take the parse path. `node` is the node id from the topic.
 */
export function recordBytes(
  payload: Uint8Array,
  node: string | undefined,
): RecordBytes | undefined {
  if (payload.byteLength > MAX_RECORD_BYTES_PAYLOAD) return undefined;
  const line = node === undefined ? "" : `{"node_id":${JSON.stringify(node)},"time":"`;
  // The header goes in front of the data once `t` is known: room for it.
  const room = line.length * 3 + 48;
  const pass = _pass;
  pass.startRecord(room, payload.byteLength);
  pass.start(payload);
  try {
    const t = pass.payload();
    const time = formatMilliseconds(pass.timeMs);
    return { bytes: pass.finishRecord(room, line === "" ? '{"time":"' : line, time), t };
  } catch (error) {
    if (error === DECLINED) return undefined;
    throw error;
  } finally {
    pass.stop();
  }
}

// How deeply a status entry nests; one level short of the walk's limit
// (`MAX_STATUS_DEPTH`).
const MAX_ENTRY_DEPTH = 15;

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

  /**
   * The whole payload: an object with `t` and `r`, nothing after it.
   * Gives `t`; the devices are written as they come.
   */
  payload(): number {
    this.#payloadKeys.clear();
    this.#vendorIds.clear();
    this.expect(123);
    let t = NaN;
    let devices = false;
    if (this.next() !== 34) decline();
    for (;;) {
      this.key();
      this.#payloadKeys.add(this);
      this.expect(58);
      this.ws();
      const length = this.keyEnd - this.keyStart;
      const first = this.bytes[this.keyStart];
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
    for (let first = true;; first = false) {
      if (c !== 123) decline();
      if (!first) this.put(44);
      this.#device();
      c = this.next();
      if (c === 93) return;
      if (c !== 44) decline();
      c = this.next();
    }
  }

  // One device after its `{`: `"vid":{readings}` into the data, and
  // `"vid":[entries]` into the status when it has any.
  #device(): void {
    this.#deviceKeys.clear();
    const b = this.bytes;
    const at = this.dataEnd;
    const statusAt = this.statusEnd;
    let vidAt = -1;
    let vidEnd = -1;
    // Whether `"vid":{` is written: at once when the vendor id comes before
    // any reading, else in front of them at the end.
    let prefixed = false;
    let readings = 0;
    let entries = 0;
    let c = this.next();
    if (c === 125) decline(); // no vendor id
    for (;;) {
      if (c !== 34) decline();
      this.key();
      this.#deviceKeys.add(this);
      const keyAt = this.keyStart;
      const keyEnd = this.keyEnd;
      this.expect(58);
      this.ws();
      if (b[keyAt] === 95 /* _ */) {
        const length = keyEnd - keyAt;
        if (length === 4 && b[keyAt + 1] === 118 && b[keyAt + 2] === 105 && b[keyAt + 3] === 100) {
          if (b[this.at++] !== 34) decline(); // not a string: counted as missing
          this.key();
          if (this.keyEnd === this.keyStart || isDigit(b[this.keyStart])) decline();
          vidAt = this.keyStart;
          vidEnd = this.keyEnd;
          this.#vendorIds.add(this);
          if (readings === 0) {
            this.#vidKey(vidAt, vidEnd);
            prefixed = true;
          }
        } else if (length === 2 && b[keyAt + 1] === 115) {
          if (b[this.at] === 110) {
            if (!this.literal()) decline();
          } else {
            entries = this.#entries(statusAt);
          }
        } else {
          this.skip(0);
        }
      } else {
        if (isDigit(b[keyAt])) decline();
        const v = b[this.at];
        if (v === 110) {
          // A failed read: left out, not counted.
          if (!this.literal()) decline();
        } else {
          if (v === 123 || v === 91) decline(); // counted as invalid_value
          if (readings > 0) this.put(44);
          readings++;
          this.put(34);
          this.putBytes(keyAt, keyEnd);
          this.put(34);
          this.put(58);
          let end = this.dataEnd;
          if (v === 34) end = this.copyString(this.data, end);
          else if (v === 116 || v === 102) end = this.copyLiteral(this.data, end);
          else end = this.copyNumber(this.data, end);
          this.dataEnd = end;
        }
      }
      c = this.next();
      if (c === 125) break;
      if (c !== 44) decline();
      c = this.next();
    }
    if (vidAt === -1) decline();
    if (!prefixed) {
      // Readings came before the vendor id: moved behind its key.
      const shift = vidEnd - vidAt + 4;
      this.ensure(shift);
      this.data.copyWithin(at + shift, at, this.dataEnd);
      const end = this.dataEnd + shift;
      this.dataEnd = at;
      this.#vidKey(vidAt, vidEnd);
      this.dataEnd = end;
    }
    this.put(125);
    if (entries > 0) {
      const shift = vidEnd - vidAt + 4 + (statusAt > 0 ? 1 : 0);
      this.ensureStatus(shift + 1);
      const st = this.status;
      st.copyWithin(statusAt + shift, statusAt, this.statusEnd);
      let s = statusAt;
      if (statusAt > 0) st[s++] = 44;
      st[s++] = 34;
      for (let k = vidAt; k < vidEnd; k++) st[s++] = b[k];
      st[s++] = 34;
      st[s++] = 58;
      st[s++] = 91;
      this.statusEnd += shift;
      st[this.statusEnd++] = 93;
    }
  }

  // Writes `"vid":{` to the data.
  #vidKey(vidAt: number, vidEnd: number): void {
    this.put(34);
    this.putBytes(vidAt, vidEnd);
    this.put(34);
    this.put(58);
    this.put(123);
  }

  // `_s` at the cursor: an array of entries, written to the status
  // comma-separated from `statusAt`; gives how many.
  #entries(statusAt: number): number {
    if (this.bytes[this.at++] !== 91) decline(); // counted as invalid_status
    this.statusEnd = statusAt;
    let count = 0;
    let c = this.next();
    if (c === 93) return 0;
    this.at--;
    for (;;) {
      if (count > 0) this.putStatus(44);
      this.ws();
      this.statusEnd = this.#copyEntry(0);
      count++;
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
      if (depth >= MAX_ENTRY_DEPTH) decline();
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
          if (isDigit(b[this.keyStart])) decline();
          keys!.add(this);
          this.putStatusKey();
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
    return this.copyNumber(this.status, this.statusEnd);
  }
}

const _pass = new _BytePass();
