/**
 * The status entries of `record_bytes.ts`, copied as they are, with
 * Python's `NaN` and numbers beyond a double written `null` as the parse
 * path writes them.
 *
 * @module
 */

import { decline } from "./_byte_reader.ts";
import { KeyReader } from "./_key_reader.ts";
import { KeySet } from "./_key_set.ts";

// How deeply a status entry's objects may nest (`MAX_STATUS_DEPTH`): one
// at this depth makes the entry invalid.
const TOO_DEEP_ENTRY = 16;

// Thrown inside a status entry nested too deeply.
const _TOO_DEEP = new Error("Status entry too deep");

/** A {@linkcode KeyReader} that copies status entries. */
export class StatusWriter extends KeyReader {
  /** The entries left out by {@linkcode StatusWriter.entries}, nested too deeply. */
  statusSkips = 0;
  // The keys of the status entries' objects being written, a set for each
  // depth: objects of one depth are written one after the other.
  #entrySets: KeySet[] = [];

  /**
   * `_s` at the cursor: an array of entries, written to the status
   * comma-separated from `statusAt`; gives how many. An entry nested too
   * deeply is left out and counted in `statusSkips`.
   */
  entries(statusAt: number): number {
    this.at++;
    this.statusEnd = statusAt;
    let count = 0;
    let c = this.next();
    if (c === 93) return 0;
    this.at--;
    for (;;) {
      this.ws();
      const entryAt = this.at;
      const mark = this.statusEnd;
      if (count > 0) this.putStatus(44);
      try {
        this.statusEnd = this.#copyEntry(0);
        count++;
      } catch (error) {
        if (error !== _TOO_DEEP) throw error;
        this.at = entryAt;
        this.skip(0);
        this.statusEnd = mark;
        this.statusSkips++;
      }
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
      if (depth >= TOO_DEEP_ENTRY) throw _TOO_DEEP;
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
          if (this.keyIsIndex() || keys!.add(this)) decline();
          this.ensureStatus(this.keyLength() * 2 + 2);
          this.statusEnd = this.putKey(this.status, this.statusEnd);
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
    if (c === 78 || c === 73 || (c === 45 && b[this.at + 1] === 73)) {
      // NaN and Infinity are written as the parse path reads them: null.
      if (!this.nonFinite()) decline();
      return this.#putNull();
    }
    const end = this.copyNumber(this.status, this.statusEnd);
    return end < 0 ? this.#putNull() : end;
  }

  #putNull(): number {
    this.ensureStatus(4);
    const st = this.status;
    let s = this.statusEnd;
    st[s++] = 110;
    st[s++] = 117;
    st[s++] = 108;
    st[s++] = 108;
    return s;
  }

  /**
   * Closes a device copied from `at` in the data and `statusAt` in the
   * status, its `"vid":{` already written where `prefixed`: the vendor id
   * goes in front of its readings and of its `entries` status entries.
   */
  closeDevice(
    { at, statusAt, prefixed, entries }: {
      at: number;
      statusAt: number;
      prefixed: boolean;
      entries: number;
    },
  ): void {
    if (!prefixed) {
      // Readings came before the vendor id: moved behind its key.
      const shift = this.vidEnd + 2;
      this.ensure(shift);
      this.data.copyWithin(at + shift, at, this.dataEnd);
      const end = this.dataEnd + shift;
      this.dataEnd = at;
      this.vidKey();
      this.dataEnd = end;
    }
    this.put(125);
    if (entries > 0) {
      const shift = this.vidEnd + 2 + (statusAt > 0 ? 1 : 0);
      this.ensureStatus(shift + 1);
      const st = this.status;
      st.copyWithin(statusAt + shift, statusAt, this.statusEnd);
      let s = statusAt;
      if (statusAt > 0) st[s++] = 44;
      for (let k = 0; k < this.vidEnd; k++) st[s++] = this.vid[k];
      st[s++] = 58;
      st[s++] = 91;
      this.statusEnd += shift;
      st[this.statusEnd++] = 93;
    }
  }
}
