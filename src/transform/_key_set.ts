/**
 * The sets of keys with which `record_bytes.ts` refuses a repeated key:
 * the parse keeps a repeat's last value, which a copy cannot.
 *
 * @module
 */

import { type ByteReader, decline } from "./_byte_reader.ts";

// Open addressing over the keys' hashes, a slot in use while its stamp is
// the current one, so that starting over is one increment.
const SLOTS = 4096;
const SLOT_BITS = 12;
const MAX_KEYS = SLOTS / 2;

/**
 * A set of keys of the payload being read, each kept as its start and end
 * in the payload. Finding a repeat spends the reader's `work`: keys made to
 * look alike to the hash would cost more than the parse path, and are
 * declined.
 */
export class KeySet {
  #stamps = new Int32Array(SLOTS);
  #hashes = new Int32Array(SLOTS);
  #starts = new Int32Array(SLOTS);
  #lengths = new Int32Array(SLOTS);
  #stamp = 0;
  #size = 0;

  /** Empties the set. */
  clear(): void {
    // A stamp that would not fit an Int32Array starts the table over.
    if (this.#stamp === 0x7fffffff) {
      this.#stamps.fill(0);
      this.#stamp = 0;
    }
    this.#stamp++;
    this.#size = 0;
  }

  /**
   * Adds the last key `reader` read; declines the payload where the set
   * has it already, or holds as many as it may.
   */
  add(reader: ByteReader): void {
    if (++this.#size > MAX_KEYS) decline();
    const stamps = this.#stamps;
    const hash = reader.keyHash;
    const keyStart = reader.keyStart;
    const keyEnd = reader.keyEnd;
    let i = _slot(hash);
    while (stamps[i] === this.#stamp) {
      if (--reader.work < 0) decline();
      const start = this.#starts[i];
      if (
        this.#hashes[i] === hash && _same(reader, start, start + this.#lengths[i], keyStart, keyEnd)
      ) {
        decline();
      }
      i = (i + 1) & (SLOTS - 1);
    }
    stamps[i] = this.#stamp;
    this.#hashes[i] = hash;
    this.#starts[i] = keyStart;
    this.#lengths[i] = keyEnd - keyStart;
  }
}

// The table slot where a hash starts looking.
function _slot(hash: number): number {
  return Math.imul(hash, 0x85ebca6b) >>> (32 - SLOT_BITS);
}

function _same(reader: ByteReader, a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b) return false;
  if ((reader.work -= aEnd - a) < 0) decline();
  const bytes = reader.bytes;
  for (let i = 0; i < aEnd - a; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}
