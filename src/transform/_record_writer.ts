/**
 * The writing half of `record_bytes.ts`: the record's buffers, and the
 * copies of numbers, strings and literals from the payload being read
 * into them, each as `JSON.stringify` of the parse writes it.
 *
 * @module
 */

import { ByteReader, decline, hex4, utf8Length } from "./_byte_reader.ts";
import { integerDigits } from "./number_text.ts";

const _encoder = new TextEncoder();

// Buffers grow with the payload, and are let go of past this size once a
// smaller payload comes.
const KEPT_BUFFER_BYTES = 256 * 1024;

/**
 * A {@linkcode ByteReader} that writes the record: its data (`data`, up to
 * `dataEnd`) and its status entries (`status`, up to `statusEnd`), buffers
 * reused from payload to payload.
 */
export class RecordWriter extends ByteReader {
  data: Uint8Array = new Uint8Array(16 * 1024);
  dataEnd = 0;
  status: Uint8Array = new Uint8Array(16 * 1024);
  statusEnd = 0;
  #spareData: Uint8Array = new Uint8Array(0);
  #spareStatus: Uint8Array = new Uint8Array(0);
  /**
   * Starts the record of a payload of `payloadLength` bytes, its data
   * written from `room` on: the header goes in front once `t` is known.
   */
  startRecord(room: number, payloadLength: number): void {
    this.data = capacity(this.data, room + 2 * payloadLength + 256);
    this.status = capacity(this.status, 2 * payloadLength + 256);
    this.dataEnd = room;
    this.statusEnd = 0;
  }

  /**
   * Finishes the record: its header and time in front of the data, the
   * status after it. Gives the line, valid until the next record.
   */
  finishRecord(room: number, header: string, time: string): Uint8Array {
    // Data, then status, then the closing brace.
    this.put(125);
    const statusEnd = this.statusEnd;
    if (statusEnd > 0) {
      if (statusEnd > this.status.byteLength) decline();
      this.ensure(statusEnd + 16);
      this.#putAscii(',"status":{');
      this.data.set(this.status.subarray(0, statusEnd), this.dataEnd);
      this.dataEnd += statusEnd;
      this.put(125);
    }
    this.put(125);
    // Bytes were lost: see _grown().
    if (this.dataEnd > this.data.byteLength) decline();
    const start = this.#header(room, header, time);
    return this.data.subarray(start, this.dataEnd);
  }

  /**
   * Spare buffers of at least `dataBytes` and `statusBytes`, to write the
   * record again into; {@linkcode RecordWriter.swapBuffers} makes them the
   * record's.
   */
  spareBuffers(dataBytes: number, statusBytes: number): { data: Uint8Array; status: Uint8Array } {
    this.#spareData = capacity(this.#spareData, dataBytes);
    this.#spareStatus = capacity(this.#spareStatus, statusBytes);
    return { data: this.#spareData, status: this.#spareStatus };
  }

  /**
   * Makes the spare buffers the record's, written up to `dataEnd` and
   * `statusEnd`, and the record's the spare ones.
   */
  swapBuffers(dataEnd: number, statusEnd: number): void {
    const { data, status } = this;
    this.data = this.#spareData;
    this.status = this.#spareStatus;
    this.#spareData = data;
    this.#spareStatus = status;
    this.dataEnd = dataEnd;
    this.statusEnd = statusEnd;
  }

  /** Makes room for `bytes` more in the data, keeping what is written. */
  ensure(bytes: number): void {
    this.data = _grown(this.data, this.dataEnd, bytes);
  }

  /** Makes room for `bytes` more in the status, keeping what is written. */
  ensureStatus(bytes: number): void {
    this.status = _grown(this.status, this.statusEnd, bytes);
  }

  /** Writes one byte to the data. */
  put(byte: number): void {
    this.data[this.dataEnd++] = byte;
  }

  /** Writes one byte to the status. */
  putStatus(byte: number): void {
    this.status[this.statusEnd++] = byte;
  }

  #putAscii(text: string): void {
    const data = this.data;
    let o = this.dataEnd;
    for (let i = 0; i < text.length; i++) data[o++] = text.charCodeAt(i);
    this.dataEnd = o;
  }

  // Writes the header and `"data":{` so that they end at `room` in the
  // data; gives where the line starts.
  #header(room: number, header: string, time: string): number {
    const data = this.data;
    const tail = '","data":{';
    const length = time.length + tail.length;
    let start = room - length;
    for (let i = 0; i < time.length; i++) data[start + i] = time.charCodeAt(i);
    for (let i = 0; i < tail.length; i++) data[start + time.length + i] = tail.charCodeAt(i);
    const { written: count } = _encoder.encodeInto(header, data.subarray(0, start));
    data.copyWithin(start - count, 0, count);
    start -= count;
    return start;
  }

  /**
   * Copies the number being read to `target` as the record writes it: an
   * integer with every digit, any other number as `JSON.stringify` writes
   * its double. Gives the new end of `target`, or -1 for a number beyond a
   * double, which the record drops.
   */
  copyNumber(target: Uint8Array, at: number): number {
    const b = this.bytes;
    const start = this.at;
    let p = start;
    let c = b[p];
    const negative = c === 45;
    if (negative) c = b[++p];
    const intStart = p;
    if (c === 48) {
      c = b[++p];
    } else if (c >= 49 && c <= 57) {
      do c = b[++p]; while (c >= 48 && c <= 57);
    } else {
      decline();
    }
    const intEnd = p;
    let fracEnd = p;
    if (c === 46) {
      c = b[++p];
      if (!(c >= 48 && c <= 57)) decline();
      do c = b[++p]; while (c >= 48 && c <= 57);
      fracEnd = p;
      // 230.50 and 230.0 are written 230.5 and 230.
      while (b[fracEnd - 1] === 48) fracEnd--;
      if (fracEnd === intEnd + 1) fracEnd = intEnd;
    }
    if (c === 101 || c === 69) {
      this.at = start;
      if (!this.number()) decline();
      return this.#copyNumberText(target, at, start, this.at);
    }
    this.at = p;
    const zeroInt = b[intStart] === 48;
    let significant = zeroInt ? 0 : intEnd - intStart;
    if (fracEnd > intEnd) {
      let f = intEnd + 1;
      if (zeroInt) {
        // Below 1e-6 the shortest form has an exponent.
        while (b[f] === 48) f++;
        if (f - intEnd - 1 > 5) return this.#copyNumberText(target, at, start, p);
      }
      significant += fracEnd - f;
    }
    if (significant > 15) return this.#copyNumberText(target, at, start, p);
    // -0 is written 0.
    if (negative && significant > 0) target[at++] = 45;
    for (let k = intStart; k < fracEnd; k++) target[at++] = b[k];
    return at;
  }

  // A number whose shortest form is not its text cut short.
  #copyNumberText(target: Uint8Array, at: number, start: number, end: number): number {
    const spelled = this.ascii(start, end);
    const value = Number(spelled);
    let text: string;
    if (value < 2 ** 53 && value > -(2 ** 53)) {
      text = String(value);
    } else {
      const digits = integerDigits(spelled);
      if (digits !== undefined) text = digits;
      else if (Number.isFinite(value)) text = String(value);
      else return -1;
    }
    // The only write that can be longer than what it copies (1e15 is written
    // with 16 digits): what follows must still find the room the buffers
    // were sized with, twice what is left to read.
    const room = text.length + 2 * (this.end - this.at) + 256;
    let buffer = target;
    if (target === this.data) buffer = this.data = _grown(this.data, at, room);
    else if (target === this.status) buffer = this.status = _grown(this.status, at, room);
    for (let k = 0; k < text.length; k++) buffer[at++] = text.charCodeAt(k);
    return at;
  }

  /**
   * Copies the string being read (at its opening quote) to `target`; escapes
   * only as `JSON.stringify` writes them. Gives the new end of `target`.
   */
  copyString(target: Uint8Array, at: number): number {
    const b = this.bytes;
    const end = this.end;
    let p = this.at + 1;
    target[at++] = 34;
    for (;;) {
      if (p >= end) decline();
      const c = b[p++];
      if (c === 34) break;
      if (c < 32) decline();
      if (c >= 128) {
        // UTF-8, as JSON.stringify writes it.
        const next = p - 1 + utf8Length(b, p - 1);
        target[at++] = c;
        for (; p < next; p++) target[at++] = b[p];
        continue;
      }
      if (c === 92) {
        const e = b[p++];
        if (e === 117) {
          // \uXXXX, which Python writes for every character beyond ASCII.
          let code = hex4(b, p);
          p += 4;
          if (code >= 0xd800 && code <= 0xdbff && b[p] === 92 && b[p + 1] === 117) {
            const low = hex4(b, p + 2);
            if (low >= 0xdc00 && low <= 0xdfff) {
              code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
              p += 6;
            }
          }
          at = _putCharacter(target, at, code);
        } else if (e === 47) {
          // \/, which PHP writes for every slash.
          target[at++] = 47;
        } else if (
          e === 34 || e === 92 || e === 98 || e === 102 || e === 110 || e === 114 || e === 116
        ) {
          // \" \\ \b \f \n \r \t, as JSON.stringify writes them.
          target[at++] = 92;
          target[at++] = e;
        } else {
          decline();
        }
        continue;
      }
      target[at++] = c;
    }
    target[at++] = 34;
    this.at = p;
    return at;
  }

  /** Copies the true, false or null being read; gives the new end of `target`. */
  copyLiteral(target: Uint8Array, at: number): number {
    const b = this.bytes;
    const length = b[this.at] === 102 ? 5 : 4;
    if (!this.literal()) decline();
    for (let k = this.at - length; k < this.at; k++) target[at++] = b[k];
    return at;
  }
}

/**
 * `buffer` where it holds `size` bytes and is not much larger than the
 * buffers kept; else a new one of `size` bytes, so that a large payload's
 * buffers go once a small one comes.
 */
export function capacity(buffer: Uint8Array, size: number): Uint8Array {
  const length = buffer.byteLength;
  if (length >= size && (length <= KEPT_BUFFER_BYTES || size > KEPT_BUFFER_BYTES / 4)) {
    return buffer;
  }
  return new Uint8Array(Math.max(size, 16 * 1024));
}

// `buffer`, or a larger copy of its first `at` bytes, with room for
// `bytes` more. A typed array drops writes past its end without a word,
// so a position already past the end means bytes were lost: declined.
function _grown(buffer: Uint8Array, at: number, bytes: number): Uint8Array {
  if (at > buffer.byteLength) decline();
  if (at + bytes <= buffer.byteLength) return buffer;
  const larger = new Uint8Array(Math.max(2 * buffer.byteLength, at + bytes));
  larger.set(buffer.subarray(0, at));
  return larger;
}

const _SHORT_ESCAPES: Record<number, number> = { 8: 98, 9: 116, 10: 110, 12: 102, 13: 114 };
const _HEX = "0123456789abcdef";

// Writes a character of an escape as JSON.stringify writes it: control
// characters and lone surrogates escaped (lower-case hex), `"` and `\`
// escaped, any other character as its UTF-8 bytes. Never longer than the
// escape it came from.
function _putCharacter(target: Uint8Array, at: number, code: number): number {
  if (code < 0x20 || (code >= 0xd800 && code <= 0xdfff)) {
    const short = _SHORT_ESCAPES[code];
    target[at++] = 92;
    if (short !== undefined) {
      target[at++] = short;
      return at;
    }
    target[at++] = 117;
    for (let shift = 12; shift >= 0; shift -= 4) {
      target[at++] = _HEX.charCodeAt((code >> shift) & 15);
    }
  } else if (code === 34 || code === 92) {
    target[at++] = 92;
    target[at++] = code;
  } else if (code < 0x80) {
    target[at++] = code;
  } else if (code < 0x800) {
    target[at++] = 0xc0 | (code >> 6);
    target[at++] = 0x80 | (code & 63);
  } else if (code < 0x10000) {
    target[at++] = 0xe0 | (code >> 12);
    target[at++] = 0x80 | ((code >> 6) & 63);
    target[at++] = 0x80 | (code & 63);
  } else {
    target[at++] = 0xf0 | (code >> 18);
    target[at++] = 0x80 | ((code >> 12) & 63);
    target[at++] = 0x80 | ((code >> 6) & 63);
    target[at++] = 0x80 | (code & 63);
  }
  return at;
}
