/**
 * The keys of `record_bytes.ts`: read, hashed by their text however they
 * are spelled, and written as `JSON.stringify` writes them.
 *
 * @module
 */

import { decline, utf8Length } from "./_byte_reader.ts";
import { capacity, RecordWriter } from "./_record_writer.ts";

/** A {@linkcode RecordWriter} that reads and writes keys. */
export class KeyReader extends RecordWriter {
  /**
   * The last key read as the record writes it, quotes included, up to
   * `keyTextEnd`, where it has escapes (`keyEscaped`); else it is its bytes
   * in the payload.
   */
  keyText: Uint8Array = new Uint8Array(1024);
  keyTextEnd = 0;
  /** The first byte of the last key's text, or -1 for an empty key. */
  keyFirst = -1;

  /** The vendor id of the device being read, quoted, up to `vidEnd`. */
  vid: Uint8Array = new Uint8Array(256);
  vidEnd = 0;

  /** Starts the record of a payload, with room for its keys' text. */
  override startRecord(room: number, payloadLength: number): void {
    super.startRecord(room, payloadLength);
    this.keyText = capacity(this.keyText, payloadLength + 2);
  }

  /**
   * Reads a key after its opening quote: its hash, its span and first
   * byte; where it has escapes, its text into `keyText`. Keys of the same
   * text have the same hash, however they are spelled.
   */
  key(): void {
    const b = this.bytes;
    const end = this.end;
    const start = this.at;
    let p = start;
    let h = 0;
    for (;;) {
      if (p >= end) decline();
      const c = b[p];
      if (c === 34) break;
      if (c === 92) return this.#escapedKey(start);
      if (c < 32) decline();
      if (c >= 128) {
        const next = p + utf8Length(b, p);
        for (; p < next; p++) h = (Math.imul(h, 31) + b[p]) | 0;
        continue;
      }
      // Every byte counts: keys like cell_V_1 to cell_V_500 differ in one.
      h = (Math.imul(h, 31) + c) | 0;
      p++;
    }
    this.keyHash = h;
    this.keyStart = start;
    this.keyEnd = p;
    this.keyEscaped = false;
    this.keyFirst = p > start ? b[start] : -1;
    this.at = p + 1;
  }

  #escapedKey(start: number): void {
    this.at = start - 1;
    const text = this.keyText;
    const end = this.copyString(text, 0);
    let h = 0;
    for (let k = 1; k < end - 1; k++) h = (Math.imul(h, 31) + text[k]) | 0;
    this.keyHash = h;
    this.keyStart = start;
    this.keyEnd = this.at - 1;
    this.keyEscaped = true;
    this.keyTextEnd = end;
    this.keyFirst = end > 2 ? text[1] : -1;
  }

  /** The length of the last key's text as the record writes it. */
  keyLength(): number {
    return this.keyEscaped ? this.keyTextEnd - 2 : this.keyEnd - this.keyStart;
  }

  /** Byte `i` of the last key's text as the record writes it. */
  keyByte(i: number): number {
    return this.keyEscaped ? this.keyText[1 + i] : this.bytes[this.keyStart + i];
  }

  /**
   * Whether the last key is an array index (`"0"` to `"4294967294"`),
   * which an object lists before its other keys, in numeric order.
   */
  keyIsIndex(): boolean {
    const first = this.keyFirst;
    if (first < 48 || first > 57) return false;
    const length = this.keyLength();
    if (length > 10 || (first === 48 && length > 1)) return false;
    let value = 0;
    for (let i = 0; i < length; i++) {
      const c = this.keyByte(i);
      if (c < 48 || c > 57) return false;
      value = value * 10 + (c - 48);
    }
    return value <= 4294967294;
  }

  /** Writes the last key, quoted, to `target` at `at`; gives the new end. */
  putKey(target: Uint8Array, at: number): number {
    if (this.keyEscaped) {
      const text = this.keyText;
      for (let k = 0; k < this.keyTextEnd; k++) target[at++] = text[k];
      return at;
    }
    const b = this.bytes;
    target[at++] = 34;
    for (let k = this.keyStart; k < this.keyEnd; k++) target[at++] = b[k];
    target[at++] = 34;
    return at;
  }

  /** Keeps the last key read as the vendor id, quoted, in `vid`. */
  keepVid(): void {
    const length = this.keyLength() + 2;
    if (this.vid.byteLength < length) this.vid = new Uint8Array(2 * length);
    this.vidEnd = this.putKey(this.vid, 0);
  }

  /** Writes the vendor id kept, quoted, to the data. */
  putVid(): void {
    this.ensure(this.vidEnd);
    const data = this.data;
    let o = this.dataEnd;
    for (let k = 0; k < this.vidEnd; k++) data[o++] = this.vid[k];
    this.dataEnd = o;
  }

  /** Writes the vendor id kept, and `:{`, to the data. */
  vidKey(): void {
    this.putVid();
    this.put(58);
    this.put(123);
  }
}
