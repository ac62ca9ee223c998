/**
 * The reader of `record_bytes.ts` over a payload's UTF-8 JSON: white
 * space, keys, numbers, literals and strings, checked and skipped. Any
 * byte the pass does not take declines the payload (`decline()`), which
 * then takes the parse path.
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

/**
 * Reads a payload's bytes: the payload (`bytes`, up to `end`) and the
 * position in it (`at`); the last key read (its hash, start and end in
 * `bytes`); and what the checks for repeated keys may still spend on this
 * payload (`work`).
 */
export class ByteReader {
  bytes: Uint8Array = EMPTY;
  /** The payload as text, decoded where a number first needs it. */
  text: string | undefined;
  at = 0;
  end = 0;
  keyHash = 0;
  keyStart = 0;
  keyEnd = 0;
  work = 0;
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
    this.text = undefined;
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

  /** Reads a key after its opening quote: plain ASCII, no escapes. */
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
      if (c === 92 || c < 32 || c > 126) decline();
      // Every byte counts: keys like cell_V_1 to cell_V_500 differ in one.
      h = (Math.imul(h, 31) + c) | 0;
      p++;
    }
    this.keyHash = h;
    this.keyStart = start;
    this.keyEnd = p;
    this.at = p + 1;
  }

  /**
   * The text of the payload from `start` to `end`. Every byte before the
   * one being read is ASCII (any other declines), so byte and character
   * offsets agree; the payload is decoded once, where a number first needs
   * it.
   */
  latin1(start: number, end: number): string {
    this.text ??= _decoder.decode(this.bytes);
    return this.text.slice(start, end);
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
    const text = this.latin1(start, end);
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
        this.expect(34);
        this.key();
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
    } else if (!this.number()) {
      decline();
    }
  }

  // Checks and skips a string at the cursor (its opening quote): any escape
  // JSON has, ASCII only.
  #skipString(): void {
    const b = this.bytes;
    const end = this.end;
    let p = this.at + 1;
    for (;;) {
      if (p >= end) decline();
      const c = b[p++];
      if (c === 34) break;
      if (c < 32 || c > 126) decline();
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

/** Whether a byte is a decimal digit. */
export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
