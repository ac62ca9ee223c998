/**
 * The devices of `record_bytes.ts`'s one pass where a vendor id comes
 * twice, as a second driver reads a device again: written again as one
 * once the payload is read, without reading it twice.
 *
 * @module
 */

import { copySpan, spanText } from "./_merged_record.ts";
import type { RecordWriter } from "./_record_writer.ts";

/**
 * The devices of a payload as the pass copied them, where two share a
 * vendor id: each device's `"vid":{readings}` span in the data and its
 * `"vid":[entries]` span in the status, and the first device of its
 * vendor id. Once the payload is read, each vendor id's devices are
 * written again as one, where the first stood: the readings in the order
 * they first came, each with its last value, and the status entries in
 * turn.
 */
export class DeviceGroups {
  #starts: number[] = [];
  #ends: number[] = [];
  #statusStarts: number[] = [];
  #statusEnds: number[] = [];
  #firsts: number[] = [];
  /** Whether a vendor id came twice. */
  repeated = false;

  /** Forgets the payload before. */
  clear(): void {
    this.#starts.length = 0;
    this.#ends.length = 0;
    this.#statusStarts.length = 0;
    this.#statusEnds.length = 0;
    this.#firsts.length = 0;
    this.repeated = false;
  }

  /** How many devices were added. */
  get size(): number {
    return this.#starts.length;
  }

  /**
   * Adds a device copied to the data from `start` to `end`, and its status
   * entries from `statusStart` to `statusEnd` (-1 for none); `first` is
   * the first device of its vendor id, itself where it is the first.
   */
  add(
    { start, end, statusStart, statusEnd, first }: {
      start: number;
      end: number;
      statusStart: number;
      statusEnd: number;
      first: number;
    },
  ): void {
    if (first !== this.#starts.length) this.repeated = true;
    this.#starts.push(start);
    this.#ends.push(end);
    this.#statusStarts.push(statusStart);
    this.#statusEnds.push(statusEnd);
    this.#firsts.push(first);
  }

  /**
   * Writes the devices of `writer`'s data, from `room` on, and its status
   * entries again, each vendor id's devices as one; the writer then holds
   * the new buffers.
   */
  write(writer: RecordWriter, room: number): void {
    const { data, status } = writer;
    const { data: out, status: st } = writer.spareBuffers(
      writer.dataEnd + 256,
      writer.statusEnd + 256,
    );
    const members = new Map<number, number[]>();
    for (let d = 0; d < this.#firsts.length; d++) {
      const first = this.#firsts[d];
      if (first !== d) members.get(first)?.push(d) ?? members.set(first, [first, d]);
    }
    let at = room;
    let s = 0;
    for (let d = 0; d < this.#firsts.length; d++) {
      if (this.#firsts[d] !== d) continue;
      if (at > room) out[at++] = 44;
      const group = members.get(d);
      if (group === undefined) at = copySpan(data, this.#starts[d], this.#ends[d], out, at);
      else at = this.#mergeReadings(data, group, out, at);
    }
    const written = new Set<number>();
    for (let d = 0; d < this.#firsts.length; d++) {
      if (this.#statusStarts[d] < 0) continue;
      const first = this.#firsts[d];
      if (written.has(first)) continue;
      written.add(first);
      if (s > 0) st[s++] = 44;
      const group = members.get(first) ?? [d];
      let opened = false;
      for (const m of group) {
        const start = this.#statusStarts[m];
        if (start < 0) continue;
        // `"vid":[`, then the entries up to the closing `]`.
        const open = _stringEnd(status, start) + 1;
        if (!opened) s = copySpan(status, start, open + 1, st, s);
        else st[s++] = 44;
        opened = true;
        s = copySpan(status, open + 1, this.#statusEnds[m] - 1, st, s);
      }
      st[s++] = 93;
    }
    writer.swapBuffers(at, s);
  }

  // The devices of `group`, one vendor id, written as one object.
  #mergeReadings(data: Uint8Array, group: number[], out: Uint8Array, at: number): number {
    const readings = new Map<string, number>();
    const starts: number[] = [];
    const ends: number[] = [];
    for (const d of group) {
      // Past `"vid":{`, each `"key":value` up to the closing `}`.
      let p = _stringEnd(data, this.#starts[d]) + 2;
      if (d === group[0]) at = copySpan(data, this.#starts[d], p, out, at);
      while (data[p] !== 125) {
        const start = p;
        const keyEnd = _stringEnd(data, p);
        p = keyEnd + 1;
        if (data[p] === 34) p = _stringEnd(data, p);
        else while (data[p] !== 44 && data[p] !== 125) p++;
        const key = spanText(data, start + 1, keyEnd - 1);
        const i = readings.get(key);
        if (i === undefined) {
          readings.set(key, starts.length);
          starts.push(start);
          ends.push(p);
        } else {
          starts[i] = start;
          ends[i] = p;
        }
        if (data[p] === 44) p++;
      }
    }
    for (let i = 0; i < starts.length; i++) {
      if (i > 0) out[at++] = 44;
      at = copySpan(data, starts[i], ends[i], out, at);
    }
    out[at++] = 125;
    return at;
  }
}

// Where the string that opens at `at` (its quote) ends: past its closing
// quote.
function _stringEnd(buffer: Uint8Array, at: number): number {
  let p = at + 1;
  for (;;) {
    const c = buffer[p++];
    if (c === 34) return p;
    if (c === 92) p++;
  }
}
