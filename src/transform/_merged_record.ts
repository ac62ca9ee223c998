/**
 * The record of `record_bytes.ts` for a payload whose objects a copy
 * cannot keep in order: a vendor id used by two devices (their readings
 * merged, the later device's value where a field repeats), a key repeated
 * in one device (its last value where the first stood), and array-index
 * keys (`"0"`, `"17"`), which an object lists first, in numeric order.
 * That is what `JSON.parse` and `JSON.stringify` of the parse path do.
 *
 * The pass still copies every key and value into its data buffer; this
 * module keeps where each is, and writes them out again in the record's
 * order once the payload is read.
 *
 * @module
 */

import type { RecordWriter } from "./_record_writer.ts";

const _decoder = new TextDecoder();

// A reading's value that the record drops: `null`, `NaN`, or beyond a
// double.
const DROPPED = -1;
// A reading's value that is not a reading (an object or array): counted.
const INVALID = -2;

// A vendor id's merged readings and status entries.
interface _Vid {
  /** The vendor id, quoted as the record writes it: its span in the data. */
  start: number;
  end: number;
  /** Each key's place in `starts` and `ends`, its reading's span in the data. */
  readings: Map<string, number>;
  starts: number[];
  ends: number[];
  /** Spans of status entries in the status buffer, start and end in turn. */
  status: number[];
}

/**
 * The readings and status entries of a payload by vendor id, as spans of
 * what the pass copied to its buffers.
 */
export class MergedRecord {
  // The device being read: each key's place in the spans of its readings.
  #device = new Map<string, number>();
  #keyStarts: number[] = [];
  #valueEnds: number[] = [];
  #vids = new Map<string, _Vid>();
  #statusOrder: string[] = [];

  /** Forgets the payload before. */
  clear(): void {
    this.#vids.clear();
    this.#statusOrder.length = 0;
  }

  /** Starts a device. */
  startDevice(): void {
    this.#device.clear();
    this.#keyStarts.length = 0;
    this.#valueEnds.length = 0;
  }

  /**
   * A reading of the device: `key` (its text as the record writes it),
   * copied to the data as `"key":value` from `start` to `end`. Where the
   * key repeats, the last value counts.
   */
  reading(key: string, start: number, end: number): void {
    this.#set(key, start, end);
  }

  /** A reading the record drops: `null`, `NaN`, or beyond a double. */
  dropped(key: string): void {
    this.#set(key, DROPPED, DROPPED);
  }

  /** A reading that is an object or array: dropped and counted. */
  invalid(key: string): void {
    this.#set(key, INVALID, INVALID);
  }

  #set(key: string, start: number, end: number): void {
    const i = this.#device.get(key);
    if (i === undefined) {
      this.#device.set(key, this.#keyStarts.length);
      this.#keyStarts.push(start);
      this.#valueEnds.push(end);
    } else {
      this.#keyStarts[i] = start;
      this.#valueEnds[i] = end;
    }
  }

  /**
   * Ends the device of vendor id `vid`, whose quoted text is in the data
   * from `start` to `end`, and whose status entries are in the status
   * buffer from `statusStart` to `statusEnd`. Gives how many of its
   * readings are counted as invalid, in the order the parse path counts
   * them.
   */
  endDevice(
    vid: string,
    spans: { start: number; end: number; statusStart: number; statusEnd: number },
  ): number {
    let merged = this.#vids.get(vid);
    if (merged === undefined) {
      merged = {
        start: spans.start,
        end: spans.end,
        readings: new Map(),
        starts: [],
        ends: [],
        status: [],
      };
      this.#vids.set(vid, merged);
    }
    let invalid = 0;
    for (const key of _ordered(this.#device.keys())) {
      const i = this.#device.get(key)!;
      const keyStart = this.#keyStarts[i];
      if (keyStart === INVALID) invalid++;
      if (keyStart < 0) continue;
      const at = merged.readings.get(key);
      if (at === undefined) {
        merged.readings.set(key, merged.starts.length);
        merged.starts.push(keyStart);
        merged.ends.push(this.#valueEnds[i]);
      } else {
        // The later device's value, where the key first stood.
        merged.starts[at] = keyStart;
        merged.ends[at] = this.#valueEnds[i];
      }
    }
    if (spans.statusEnd > spans.statusStart) {
      if (merged.status.length === 0) this.#statusOrder.push(vid);
      merged.status.push(spans.statusStart, spans.statusEnd);
    }
    return invalid;
  }

  /**
   * Writes the devices and status entries that `writer` copied to its
   * buffers again, in the record's order, the data from `room` on, into
   * the writer's spare buffers, which then become its record.
   */
  write(writer: RecordWriter, room: number): void {
    const { data, status } = writer;
    // A comma for each reading, `:{}` and a comma for each vendor id, each
    // span at least 3 bytes long: at most three times what was copied.
    const { data: out, status: st } = writer.spareBuffers(
      3 * writer.dataEnd + 256,
      2 * (writer.statusEnd + writer.dataEnd) + 256,
    );
    let at = room;
    let first = true;
    for (const vid of _ordered(this.#vids.keys())) {
      const merged = this.#vids.get(vid)!;
      if (!first) out[at++] = 44;
      first = false;
      at = copySpan(data, merged.start, merged.end, out, at);
      out[at++] = 58;
      out[at++] = 123;
      let firstReading = true;
      for (const key of _ordered(merged.readings.keys())) {
        const i = merged.readings.get(key)!;
        if (!firstReading) out[at++] = 44;
        firstReading = false;
        at = copySpan(data, merged.starts[i], merged.ends[i], out, at);
      }
      out[at++] = 125;
    }
    let s = 0;
    for (const vid of _ordered(this.#statusOrder.values())) {
      const merged = this.#vids.get(vid)!;
      if (s > 0) st[s++] = 44;
      s = copySpan(data, merged.start, merged.end, st, s);
      st[s++] = 58;
      st[s++] = 91;
      for (let k = 0; k < merged.status.length; k += 2) {
        if (k > 0) st[s++] = 44;
        s = copySpan(status, merged.status[k], merged.status[k + 1], st, s);
      }
      st[s++] = 93;
    }
    writer.swapBuffers(at, s);
  }
}

/** The text of a key or vendor id from `start` to `end` of `buffer`. */
export function spanText(buffer: Uint8Array, start: number, end: number): string {
  let text = "";
  for (let k = start; k < end; k++) {
    const c = buffer[k];
    if (c >= 128) return _decoder.decode(buffer.subarray(start, end));
    text += String.fromCharCode(c);
  }
  return text;
}

/** Copies `from`'s bytes from `start` to `end` to `to` at `at`; gives the new end. */
export function copySpan(
  from: Uint8Array,
  start: number,
  end: number,
  to: Uint8Array,
  at: number,
): number {
  to.set(from.subarray(start, end), at);
  return at + end - start;
}

// Keys in the order an object lists them: array indexes first, in
// numeric order, then the others in the order they came.
function _ordered(keys: Iterable<string>): string[] {
  const all = [...keys];
  let indexes: string[] | undefined;
  for (const key of all) if (_isIndex(key)) (indexes ??= []).push(key);
  if (indexes === undefined) return all;
  indexes.sort((a, b) => Number(a) - Number(b));
  return [...indexes, ...all.filter((key) => !_isIndex(key))];
}

function _isIndex(key: string): boolean {
  return /^(?:0|[1-9][0-9]{0,9})$/.test(key) && Number(key) <= 4294967294;
}
