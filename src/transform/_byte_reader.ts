/**
 * The reader of `record_bytes.ts` over a payload's UTF-8 JSON: white
 * space, numbers, literals (Python's `NaN` and `Infinity` among them) and
 * strings, checked and skipped, UTF-8 validated as `TextDecoder` would
 * with `fatal`. Any byte the pass does not take declines the payload
 * (`decline()`), which then takes the parse path: there, a payload that is
 * not JSON or not UTF-8 becomes a dead letter with its reason.
 *
 * @module
 */

import { roundedMilliseconds } from "./number_text.ts";

/** Thrown wherever the payload is declined. */
export const DECLINED = new Error("Payload declined");

// The empty payload, which the reader holds between passes.
const EMPTY = new Uint8Array(0);

// How deeply a skipped value may nest.
const MAX_SKIPPED_DEPTH = 64;

const _decoder = new TextDecoder();
const _latin1 = new TextDecoder("latin1");

/**
 * Reads a payload's bytes: the payload (`bytes`, up to `end`) and the
 * position in it (`at`); the last key read (the hash of its text, its
 * start and end in `bytes`, whether it has escapes); and what the checks
 * for repeated keys may still spend on this payload (`work`).
 */
export class ByteReader {
  bytes: Uint8Array = EMPTY;
  at = 0;
  end = 0;
  keyHash = 0;
  keyStart = 0;
  keyEnd = 0;
  /** Whether the last key is spelled with escapes: its text is not its bytes. */
  keyEscaped = false;
  work = 0;
  #bytesText: string | undefined;
  /** The `t` read last, rounded to the millisecond (see `readTime()`). */
  timeMs = NaN;

  /**
   * Starts reading `payload`. The checks for repeated keys may spend twice
   * its size in probes and compared bytes: keys made to look alike to the
   * hash would cost more than the parse path; they are declined.
   */
  start(payload: Uint8Array): void {
    this.bytes = payload;
    this.at = 0;
    this.end = payload.byteLength;
    this.work = 2 * payload.byteLength + 4096;
  }

  /** Lets go of the payload read. */
  stop(): void {
    this.bytes = EMPTY;
    this.#bytesText = undefined;
  }

  /** Skips white space. */
  ws(): void {
    const b = this.bytes;
    let p = this.at;
    let c = b[p];
    while (c === 32 || c === 10 || c === 13 || c === 9) c = b[++p];
    this.at = p;
  }

  /** The next byte after white space, taken. */
  next(): number {
    const c = this.bytes[this.at];
    if (c > 32) {
      this.at++;
      return c;
    }
    this.ws();
    if (this.at >= this.end) decline();
    return this.bytes[this.at++];
  }

  /** Takes `byte` after white space; declines where another comes. */
  expect(byte: number): void {
    if (this.next() !== byte) decline();
  }

  /**
   * The ASCII text of the payload from `start` to `end`, such as a
   * number's. The payload is decoded once, where a number first needs it.
   */
  ascii(start: number, end: number): string {
    let text = this.#bytesText;
    if (text === undefined) {
      // UTF-8 is decoded fastest; where the payload holds more than ASCII,
      // a character for each byte keeps the offsets.
      text = _decoder.decode(this.bytes);
      if (text.length !== this.end) text = _latin1.decode(this.bytes);
      this.#bytesText = text;
    }
    return text.slice(start, end);
  }

  /**
   * The text of the string whose characters, between its quotes, run from
   * `start` to `end` in the payload, with its escapes decoded.
   */
  stringText(start: number, end: number): string {
    return JSON.parse(`"${_decoder.decode(this.bytes.subarray(start, end))}"`);
  }

  /**
   * Reads `t`, a plain number (anything else is for the parse path to
   * refuse), and gives it in seconds; `timeMs` is then `t` rounded to the
   * millisecond from its digits.
   */
  readTime(): number {
    const start = this.at;
    if (!this.number()) decline();
    const b = this.bytes;
    const end = this.at;
    let value = 0;
    for (let i = start; i < end; i++) {
      const c = b[i];
      if (c < 48 || c > 57) return this.#readTimeText(start, end);
      value = value * 10 + (c - 48);
    }
    if (end - start > 15) return this.#readTimeText(start, end);
    this.timeMs = value * 1000;
    return value;
  }

  #readTimeText(start: number, end: number): number {
    const text = this.ascii(start, end);
    this.timeMs = roundedMilliseconds(text);
    return Number(text);
  }

  /** Skips a number's grammar; false where none starts here. */
  number(): boolean {
    const b = this.bytes;
    let p = this.at;
    let c = b[p];
    if (c === 45) c = b[++p];
    if (c === 48) {
      c = b[++p];
    } else if (c >= 49 && c <= 57) {
      do c = b[++p]; while (c >= 48 && c <= 57);
    } else {
      return false;
    }
    if (c === 46) {
      c = b[++p];
      if (!(c >= 48 && c <= 57)) return false;
      do c = b[++p]; while (c >= 48 && c <= 57);
    }
    if (c === 101 || c === 69) {
      c = b[++p];
      if (c === 43 || c === 45) c = b[++p];
      if (!(c >= 48 && c <= 57)) return false;
      do c = b[++p]; while (c >= 48 && c <= 57);
    }
    this.at = p;
    return true;
  }

  /** Skips true, false or null; false where none is here. */
  literal(): boolean {
    const i = this.at;
    const b = this.bytes;
    if (b[i] === 116 && b[i + 1] === 114 && b[i + 2] === 117 && b[i + 3] === 101) {
      this.at += 4;
    } else if (
      b[i] === 102 && b[i + 1] === 97 && b[i + 2] === 108 && b[i + 3] === 115 && b[i + 4] === 101
    ) {
      this.at += 5;
    } else if (b[i] === 110 && b[i + 1] === 117 && b[i + 2] === 108 && b[i + 3] === 108) {
      this.at += 4;
    } else {
      return false;
    }
    return true;
  }

  /**
   * Skips Python's `NaN`, `Infinity` or `-Infinity`, which the parse path
   * reads as `null`; false where none is here.
   */
  nonFinite(): boolean {
    const i = this.at;
    const b = this.bytes;
    if (b[i] === 78 && b[i + 1] === 97 && b[i + 2] === 78) {
      this.at += 3;
      return true;
    }
    const s = b[i] === 45 ? i + 1 : i;
    if (
      b[s] === 73 && b[s + 1] === 110 && b[s + 2] === 102 && b[s + 3] === 105 &&
      b[s + 4] === 110 && b[s + 5] === 105 && b[s + 6] === 116 && b[s + 7] === 121
    ) {
      this.at = s + 8;
      return true;
    }
    return false;
  }

  /** Checks and skips any value at the cursor, which the record leaves out. */
  skip(depth: number): void {
    if (depth > MAX_SKIPPED_DEPTH) decline();
    const c = this.bytes[this.at];
    if (c === 34) {
      this.#skipString();
    } else if (c === 123) {
      this.at++;
      if (this.next() === 125) return;
      this.at--;
      for (;;) {
        if (this.bytes[this.at] !== 34) {
          this.ws();
          if (this.bytes[this.at] !== 34) decline();
        }
        this.#skipString();
        this.expect(58);
        this.ws();
        this.skip(depth + 1);
        const d = this.next();
        if (d === 125) return;
        if (d !== 44) decline();
      }
    } else if (c === 91) {
      this.at++;
      if (this.next() === 93) return;
      this.at--;
      for (;;) {
        this.ws();
        this.skip(depth + 1);
        const d = this.next();
        if (d === 93) return;
        if (d !== 44) decline();
      }
    } else if (c === 116 || c === 102 || c === 110) {
      if (!this.literal()) decline();
    } else if (!this.number() && !this.nonFinite()) {
      decline();
    }
  }

  // Checks and skips a string at the cursor (its opening quote): any escape
  // JSON has, and valid UTF-8.
  #skipString(): void {
    const b = this.bytes;
    const end = this.end;
    let p = this.at + 1;
    for (;;) {
      if (p >= end) decline();
      const c = b[p++];
      if (c === 34) break;
      if (c < 32) decline();
      if (c >= 128) {
        p += utf8Length(b, p - 1) - 1;
        continue;
      }
      if (c !== 92) continue;
      const e = b[p++];
      if (e === 117 /* u */) {
        hex4(b, p);
        p += 4;
      } else if (
        e !== 34 && e !== 92 && e !== 47 && e !== 98 && e !== 102 && e !== 110 && e !== 114 &&
        e !== 116
      ) {
        decline();
      }
    }
    this.at = p;
  }
}

/** Declines the payload: it takes the parse path. */
export function decline(): never {
  throw DECLINED;
}

/** The value of four hexadecimal digits at `at`; declines where there are none. */
export function hex4(b: Uint8Array, at: number): number {
  let value = 0;
  for (let k = at; k < at + 4; k++) {
    const h = b[k];
    const letter = h | 32; // either case
    let digit: number;
    if (h >= 48 && h <= 57) digit = h - 48;
    else if (letter >= 97 && letter <= 102) digit = letter - 87;
    else return decline();
    value = value * 16 + digit;
  }
  return value;
}

/**
 * The length of the UTF-8 sequence whose first byte, 128 or more, is at
 * `at`: 2 to 4; declines where the bytes are not UTF-8 (an overlong form,
 * a surrogate, beyond U+10FFFF, cut short), as a strict `TextDecoder`
 * refuses them.
 */
export function utf8Length(b: Uint8Array, at: number): number {
  const c = b[at];
  const c1 = b[at + 1];
  if (c >= 0xc2 && c <= 0xdf) {
    if ((c1 & 0xc0) === 0x80) return 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    const low = c === 0xe0 ? 0xa0 : 0x80;
    const high = c === 0xed ? 0x9f : 0xbf;
    if (c1 >= low && c1 <= high && (b[at + 2] & 0xc0) === 0x80) return 3;
  } else if (c >= 0xf0 && c <= 0xf4) {
    const low = c === 0xf0 ? 0x90 : 0x80;
    const high = c === 0xf4 ? 0x8f : 0xbf;
    if (c1 >= low && c1 <= high && (b[at + 2] & 0xc0) === 0x80 && (b[at + 3] & 0xc0) === 0x80) {
      return 4;
    }
  }
  return decline();
}

/** Whether a byte is a decimal digit. */
export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
