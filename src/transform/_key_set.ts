/**
 * The sets of keys with which `record_bytes.ts` finds a repeated key: the
 * parse keeps a repeat's last value where the first stood, which a copy
 * cannot.
 *
 * @module
 */

import type { ByteReader } from "./_byte_reader.ts";

// Open addressing over the keys' hashes, a slot in use while its stamp is
// the current one, so that starting over is one increment.
const SLOTS = 4096;
const SLOT_BITS = 12;
const MAX_KEYS = SLOTS / 2;

/**
 * A set of keys of the payload being read, each kept as its start and end
 * in the payload. Finding a repeat spends the reader's `work`: keys made to
 * look alike to the hash would cost more than the copy is worth.
 */
export class KeySet {
  #stamps = new Int32Array(SLOTS);
  #hashes = new Int32Array(SLOTS);
  #starts = new Int32Array(SLOTS);
  #lengths = new Int32Array(SLOTS);
  #escaped = new Uint8Array(SLOTS);
  #values = new Int32Array(SLOTS);
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
   * Adds the last key `reader` read. True where the set has it already, or
   * holds as many keys as it may, or finding out would cost more than the
   * reader's `work` allows: the key may be a repeat.
   */
  add(reader: ByteReader): boolean {
    const slot = this.#probe(reader);
    if (slot < 0 || slot >= SLOTS) return true;
    this.#insert(slot, reader, 0);
    return false;
  }

  /**
   * Adds the last key `reader` read with `value`, a number of at least 0.
   * Gives -1 where the key is new, the value it was added with where the
   * set has it, and -2 where that cannot be told within the limits.
   */
  addWith(reader: ByteReader, value: number): number {
    const slot = this.#probe(reader);
    if (slot < 0) return -2;
    if (slot >= SLOTS) return this.#values[slot - SLOTS];
    this.#insert(slot, reader, value);
    return -1;
  }

  // The free slot for the last key, SLOTS more than its slot where the set
  // has it, or -1 past the limits.
  #probe(reader: ByteReader): number {
    if (++this.#size > MAX_KEYS) return -1;
    const stamps = this.#stamps;
    const hash = reader.keyHash;
    const keyStart = reader.keyStart;
    const keyEnd = reader.keyEnd;
    const escaped = reader.keyEscaped ? 1 : 0;
    let i = _slot(hash);
    while (stamps[i] === this.#stamp) {
      if (--reader.work < 0) return -1;
      const start = this.#starts[i];
      if (this.#hashes[i] === hash) {
        const end = start + this.#lengths[i];
        let same: boolean;
        if (escaped === 0 && this.#escaped[i] === 0) {
          same = _same(reader, start, end, keyStart, keyEnd);
        } else {
          // Spelled differently, perhaps, but with the same text.
          reader.work -= end - start + keyEnd - keyStart;
          same = reader.work >= 0 &&
            reader.stringText(start, end) === reader.stringText(keyStart, keyEnd);
        }
        if (reader.work < 0) return -1;
        if (same) return SLOTS + i;
      }
      i = (i + 1) & (SLOTS - 1);
    }
    return i;
  }

  #insert(i: number, reader: ByteReader, value: number): void {
    this.#stamps[i] = this.#stamp;
    this.#hashes[i] = reader.keyHash;
    this.#starts[i] = reader.keyStart;
    this.#lengths[i] = reader.keyEnd - reader.keyStart;
    this.#escaped[i] = reader.keyEscaped ? 1 : 0;
    this.#values[i] = value;
  }
}

// The table slot where a hash starts looking.
function _slot(hash: number): number {
  return Math.imul(hash, 0x85ebca6b) >>> (32 - SLOT_BITS);
}

function _same(reader: ByteReader, a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b) return false;
  if ((reader.work -= aEnd - a) < 0) return false;
  const bytes = reader.bytes;
  for (let i = 0; i < aEnd - a; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}
