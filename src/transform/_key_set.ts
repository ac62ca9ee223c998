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
    if (++this.#size > MAX_KEYS) return true;
    const stamps = this.#stamps;
    const hash = reader.keyHash;
    const keyStart = reader.keyStart;
    const keyEnd = reader.keyEnd;
    const escaped = reader.keyEscaped ? 1 : 0;
    let i = _slot(hash);
    while (stamps[i] === this.#stamp) {
      if (--reader.work < 0) return true;
      const start = this.#starts[i];
      if (this.#hashes[i] === hash) {
        const end = start + this.#lengths[i];
        if (escaped === 0 && this.#escaped[i] === 0) {
          if (_same(reader, start, end, keyStart, keyEnd)) return true;
        } else {
          // Spelled differently, perhaps, but with the same text.
          if ((reader.work -= end - start + keyEnd - keyStart) < 0) return true;
          if (reader.stringText(start, end) === reader.stringText(keyStart, keyEnd)) return true;
        }
      }
      i = (i + 1) & (SLOTS - 1);
    }
    stamps[i] = this.#stamp;
    this.#hashes[i] = hash;
    this.#starts[i] = keyStart;
    this.#lengths[i] = keyEnd - keyStart;
    this.#escaped[i] = escaped;
    return false;
  }
}

// The table slot where a hash starts looking.
function _slot(hash: number): number {
  return Math.imul(hash, 0x85ebca6b) >>> (32 - SLOT_BITS);
}

function _same(reader: ByteReader, a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b) return false;
  if ((reader.work -= aEnd - a) < 0) return true;
  const bytes = reader.bytes;
  for (let i = 0; i < aEnd - a; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}
