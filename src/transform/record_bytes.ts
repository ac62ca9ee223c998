/**
 * The `record` format written straight from a payload's bytes: one pass
 * over the UTF-8 JSON that checks its grammar and copies what the record
 * keeps into a reused buffer, with no object per device or reading and no
 * string per value. Parsing a payload into objects only to write most of
 * it back out costs about four times as much, and is most of the garbage
 * a busy agent makes.
 *
 * This pass takes only the payloads whose record needs nothing beyond
 * copying, and declines the rest, for which the caller takes the parse path
 * (`format_record.ts`). That path writes the same bytes for every payload
 * taken here. Declined:
 * - anything that is not a usable data payload (a dead letter's reason and
 *   detail come from the parse path);
 * - any device or reading left out and counted, and a vendor id used by two
 *   devices (their readings are merged);
 * - a key that is repeated (the parse keeps its last value), escaped, or
 *   starts with a digit (objects put integer keys first);
 * - text beyond ASCII in the payload's bytes (its `\u` escapes, which
 *   Python writes, are taken, and so are PHP's `\/`), and escaped keys;
 * - a number beyond 2^53, or not finite. A number of at most 15
 *   significant digits, which a double keeps exactly, is copied, cut to its
 *   shortest form (230.0 is written 230); any other is read and written by
 *   V8 (`Number()`, `String()`), as `JSON.stringify` of the parse would;
 * - nesting beyond a status entry's limit, and payloads over 128 KiB;
 * - more than 2,048 keys in one object, or keys that finding a repeat among
 *   would cost more than twice the payload's size in probes and compared
 *   bytes (keys made to share a hash): the work stays in proportion to the
 *   payload, whatever it holds.
 *
 * @module
 */

import { formatTime } from "./record.ts";

/** A record written from a payload's bytes. */
export interface RecordBytes {
  /** The record's line, without the newline; valid until the next call. */
  bytes: Uint8Array;
  /** The payload's `t`, in Unix seconds. */
  t: number;
}

/** Payloads larger than this go the parse path, so the buffers stay small. */
export const MAX_RECORD_BYTES_PAYLOAD = 128 * 1024;

/**
 * The record line of a data payload, written from its bytes, or
 * `undefined` where the payload is declined (see the module's notes) and
 * must take the parse path. `node` is the node id from the topic.
 */
export function recordBytes(
  payload: Uint8Array,
  node: string | undefined,
): RecordBytes | undefined {
  if (payload.byteLength > MAX_RECORD_BYTES_PAYLOAD) return undefined;
  const header = node === undefined ? "" : `{"node_id":${JSON.stringify(node)},"time":"`;
  // The header goes in front of the data once `t` is known: room for it.
  const room = header.length * 3 + 48;
  _out = _capacity(_out, room + 2 * payload.byteLength + 256);
  _st = _capacity(_st, 2 * payload.byteLength + 256);
  _in = payload;
  _p = 0;
  _end = payload.byteLength;
  _o = room;
  _so = 0;
  _work = 2 * payload.byteLength + 4096;
  _payloadKeys.clear();
  _vendorIds.clear();
  try {
    const t = _payload();
    const time = formatTime(t);
    // Data, then status, then the closing brace.
    _put(125);
    if (_so > 0) {
      if (_so > _st.byteLength) _decline();
      _ensure(_so + 16);
      _putAscii(',"status":{');
      _out.set(_st.subarray(0, _so), _o);
      _o += _so;
      _put(125);
    }
    _put(125);
    if (_o > _out.byteLength) _decline(); // bytes were lost: see _grown()
    const start = _header(room, header === "" ? '{"time":"' : header, time);
    return { bytes: _out.subarray(start, _o), t };
  } catch (error) {
    if (error === _DECLINED) return undefined;
    throw error;
  } finally {
    _in = _EMPTY;
    _text = undefined;
  }
}

// Thrown wherever the payload is declined.
const _DECLINED = new Error("Payload declined");
const _EMPTY = new Uint8Array(0);
const _encoder = new TextEncoder();
const _decoder = new TextDecoder();

// 9999-12-31T23:59:59.999Z: the last instant RFC 3339 can write.
const MAX_TIME_MS = 253402300799999;
// How deeply a status entry nests; one level short of the walk's limit
// (`MAX_STATUS_DEPTH`), and anything skipped.
const MAX_ENTRY_DEPTH = 15;
const MAX_SKIPPED_DEPTH = 64;

// The payload being read and the position in it; the record's data being
// written (`_out`, up to `_o`) and its status entries (`_st`, up to `_so`).
let _in: Uint8Array = _EMPTY;
let _text: string | undefined;
let _p = 0;
let _end = 0;
let _out: Uint8Array = new Uint8Array(16 * 1024);
let _o = 0;
let _st: Uint8Array = new Uint8Array(16 * 1024);
let _so = 0;

// A set of keys, to refuse a repeat: open addressing over their hashes,
// a slot in use while its stamp is the current one, so that starting over
// is one increment.
const SLOTS = 4096;
const SLOT_BITS = 12;
const MAX_KEYS = SLOTS / 2;

class _KeySet {
  #stamps = new Int32Array(SLOTS);
  #hashes = new Int32Array(SLOTS);
  #starts = new Int32Array(SLOTS);
  #lengths = new Int32Array(SLOTS);
  #stamp = 0;
  #size = 0;

  clear(): void {
    // A stamp that would not fit an Int32Array starts the table over.
    if (this.#stamp === 0x7fffffff) {
      this.#stamps.fill(0);
      this.#stamp = 0;
    }
    this.#stamp++;
    this.#size = 0;
  }

  // Adds the last key read; declines the payload where the set has it
  // already, or holds as many as it may.
  add(): void {
    if (++this.#size > MAX_KEYS) _decline();
    const stamps = this.#stamps;
    let i = _slot(_hash);
    while (stamps[i] === this.#stamp) {
      if (--_work < 0) _decline();
      const start = this.#starts[i];
      if (this.#hashes[i] === _hash && _same(start, start + this.#lengths[i], _ks, _ke)) {
        _decline();
      }
      i = (i + 1) & (SLOTS - 1);
    }
    stamps[i] = this.#stamp;
    this.#hashes[i] = _hash;
    this.#starts[i] = _ks;
    this.#lengths[i] = _ke - _ks;
  }
}

// The keys of the payload object and of the device being read, and the
// payload's vendor ids.
const _payloadKeys = new _KeySet();
const _deviceKeys = new _KeySet();
const _vendorIds = new _KeySet();

// What the checks for repeated keys may still spend on this payload, in
// probes and compared bytes: twice its size. Keys made to look alike to
// the hash would cost more than the parse path; they are declined.
let _work = 0;
// The keys of the status entries' objects being written, a set for each
// depth: objects of one depth are written one after the other.
const _entrySets: _KeySet[] = [];

// The last key read: its hash, start and end in `_in`.
let _hash = 0;
let _ks = 0;
let _ke = 0;

function _capacity(buffer: Uint8Array, size: number): Uint8Array {
  return buffer.byteLength >= size ? buffer : new Uint8Array(size);
}

// Makes room for `bytes` more in `_out`, keeping what is written.
function _ensure(bytes: number): void {
  _out = _grown(_out, _o, bytes);
}

function _ensureStatus(bytes: number): void {
  _st = _grown(_st, _so, bytes);
}

// `buffer`, or a larger copy of its first `at` bytes, with room for
// `bytes` more. A typed array drops writes past its end without a word,
// so a position already past the end means bytes were lost: declined.
function _grown(buffer: Uint8Array, at: number, bytes: number): Uint8Array {
  if (at > buffer.byteLength) _decline();
  if (at + bytes <= buffer.byteLength) return buffer;
  const grown = new Uint8Array(Math.max(2 * buffer.byteLength, at + bytes));
  grown.set(buffer.subarray(0, at));
  return grown;
}

function _put(byte: number): void {
  _out[_o++] = byte;
}

function _putAscii(text: string): void {
  for (let i = 0; i < text.length; i++) _out[_o++] = text.charCodeAt(i);
}

// Writes the header and `"data":{` so that they end at `room`; gives
// where the line starts.
function _header(room: number, header: string, time: string): number {
  const tail = '","data":{';
  const length = time.length + tail.length;
  let start = room - length;
  for (let i = 0; i < time.length; i++) _out[start + i] = time.charCodeAt(i);
  for (let i = 0; i < tail.length; i++) _out[start + time.length + i] = tail.charCodeAt(i);
  const { written } = _encoder.encodeInto(header, _out.subarray(0, start));
  _out.copyWithin(start - written, 0, written);
  start -= written;
  return start;
}

function _decline(): never {
  throw _DECLINED;
}

function _ws(): void {
  const b = _in;
  let p = _p;
  let c = b[p];
  while (c === 32 || c === 10 || c === 13 || c === 9) c = b[++p];
  _p = p;
}

// The next byte after white space, taken.
function _next(): number {
  const c = _in[_p];
  if (c > 32) {
    _p++;
    return c;
  }
  _ws();
  if (_p >= _end) _decline();
  return _in[_p++];
}

function _expect(byte: number): void {
  if (_next() !== byte) _decline();
}

// The whole payload: an object with `t` and `r`, nothing after it.
// Gives `t`; the devices are written as they come.
function _payload(): number {
  _expect(123);
  let t = NaN;
  let devices = false;
  if (_next() !== 34) _decline();
  for (;;) {
    _key();
    _payloadKeys.add();
    _expect(58);
    _ws();
    const length = _ke - _ks;
    if (length === 1 && _in[_ks] === 116 /* t */) {
      t = _time();
    } else if (length === 1 && _in[_ks] === 114 /* r */) {
      _devices();
      devices = true;
    } else {
      _skip(0);
    }
    const c = _next();
    if (c === 125) break;
    if (c !== 44 || _next() !== 34) _decline();
  }
  _ws();
  if (_p !== _end || !devices || !(t >= 0) || t * 1000 > MAX_TIME_MS) _decline();
  return t;
}

// Reads a key after its opening quote: plain ASCII, no escapes.
function _key(): void {
  const b = _in;
  const end = _end;
  const start = _p;
  let p = start;
  let h = 0;
  for (;;) {
    if (p >= end) _decline();
    const c = b[p];
    if (c === 34) break;
    if (c === 92 || c < 32 || c > 126) _decline();
    // Every byte counts: keys like cell_V_1 to cell_V_500 differ in one.
    h = (Math.imul(h, 31) + c) | 0;
    p++;
  }
  _hash = h;
  _ks = start;
  _ke = p;
  _p = p + 1;
}

// The table slot where a hash starts looking.
function _slot(hash: number): number {
  return Math.imul(hash, 0x85ebca6b) >>> (32 - SLOT_BITS);
}

function _same(a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b) return false;
  if ((_work -= aEnd - a) < 0) _decline();
  for (let i = 0; i < aEnd - a; i++) if (_in[a + i] !== _in[b + i]) return false;
  return true;
}

// `t`: a plain number; anything else is for the parse path to refuse.
function _time(): number {
  const start = _p;
  if (!_number()) _decline();
  let value = 0;
  for (let i = start; i < _p; i++) {
    const c = _in[i];
    if (c < 48 || c > 57) return Number(_latin1(start, _p));
    value = value * 10 + (c - 48);
  }
  return _p - start <= 15 ? value : Number(_latin1(start, _p));
}

// The text of `_in` from `start` to `end`. Every byte before the one
// being read is ASCII (any other declines), so byte and character offsets
// agree; the payload is decoded once, where a number first needs it.
function _latin1(start: number, end: number): string {
  _text ??= _decoder.decode(_in);
  return _text.slice(start, end);
}

// Skips a number's grammar; false where none starts here.
function _number(): boolean {
  const b = _in;
  let p = _p;
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
  _p = p;
  return true;
}

// Copies a number at `_p` to `target` as `JSON.stringify` writes it;
// gives the new end of `target`.
function _copyNumber(target: Uint8Array, at: number): number {
  const b = _in;
  const start = _p;
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
    _decline();
  }
  const intEnd = p;
  let fracEnd = p;
  if (c === 46) {
    c = b[++p];
    if (!(c >= 48 && c <= 57)) _decline();
    do c = b[++p]; while (c >= 48 && c <= 57);
    fracEnd = p;
    // 230.50 and 230.0 are written 230.5 and 230.
    while (b[fracEnd - 1] === 48) fracEnd--;
    if (fracEnd === intEnd + 1) fracEnd = intEnd;
  }
  if (c === 101 || c === 69) {
    _p = start;
    if (!_number()) _decline();
    return _copyNumberText(target, at, start, _p);
  }
  _p = p;
  const zeroInt = b[intStart] === 48;
  let significant = zeroInt ? 0 : intEnd - intStart;
  if (fracEnd > intEnd) {
    let f = intEnd + 1;
    if (zeroInt) {
      // Below 1e-6 the shortest form has an exponent.
      while (b[f] === 48) f++;
      if (f - intEnd - 1 > 5) return _copyNumberText(target, at, start, p);
    }
    significant += fracEnd - f;
  }
  if (significant > 15) return _copyNumberText(target, at, start, p);
  // -0 is written 0.
  if (negative && significant > 0) target[at++] = 45;
  for (let k = intStart; k < fracEnd; k++) target[at++] = b[k];
  return at;
}

// A number whose shortest form is not its text cut short.
function _copyNumberText(target: Uint8Array, at: number, start: number, end: number): number {
  const value = Number(_latin1(start, end));
  if (!(value < 2 ** 53 && value > -(2 ** 53))) _decline();
  const text = String(value);
  // The only write that can be longer than what it copies (1e15 is written
  // with 16 digits): what follows must still find the room the buffers
  // were sized with, twice what is left to read.
  const room = text.length + 2 * (_end - _p) + 256;
  let buffer = target;
  if (target === _out) buffer = _out = _grown(_out, at, room);
  else if (target === _st) buffer = _st = _grown(_st, at, room);
  for (let k = 0; k < text.length; k++) buffer[at++] = text.charCodeAt(k);
  return at;
}

// Copies a string at `_p` (its opening quote) to `target`; escapes only
// as `JSON.stringify` writes them.
function _copyString(target: Uint8Array, at: number): number {
  const b = _in;
  const end = _end;
  let p = _p + 1;
  target[at++] = 34;
  for (;;) {
    if (p >= end) _decline();
    const c = b[p++];
    if (c === 34) break;
    if (c < 32 || c > 126) _decline();
    if (c === 92) {
      const e = b[p++];
      if (e === 117) {
        // \uXXXX, which Python writes for every character beyond ASCII.
        let code = _hex4(b, p);
        p += 4;
        if (code >= 0xd800 && code <= 0xdbff && b[p] === 92 && b[p + 1] === 117) {
          const low = _hex4(b, p + 2);
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
        _decline();
      }
      continue;
    }
    target[at++] = c;
  }
  target[at++] = 34;
  _p = p;
  return at;
}

// The value of four hexadecimal digits at `at`; declines where there are
// none.
function _hex4(b: Uint8Array, at: number): number {
  let value = 0;
  for (let k = at; k < at + 4; k++) {
    const h = b[k];
    const letter = h | 32; // either case
    let digit: number;
    if (h >= 48 && h <= 57) digit = h - 48;
    else if (letter >= 97 && letter <= 102) digit = letter - 87;
    else return _decline();
    value = value * 16 + digit;
  }
  return value;
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

// Copies true, false or null at `_p`.
function _copyLiteral(target: Uint8Array, at: number): number {
  const c = _in[_p];
  const length = c === 102 ? 5 : 4;
  if (!_literal()) _decline();
  for (let k = _p - length; k < _p; k++) target[at++] = _in[k];
  return at;
}

// Skips true, false or null; false where none is here.
function _literal(): boolean {
  const i = _p;
  const b = _in;
  if (b[i] === 116 && b[i + 1] === 114 && b[i + 2] === 117 && b[i + 3] === 101) {
    _p += 4;
  } else if (
    b[i] === 102 && b[i + 1] === 97 && b[i + 2] === 108 && b[i + 3] === 115 && b[i + 4] === 101
  ) {
    _p += 5;
  } else if (b[i] === 110 && b[i + 1] === 117 && b[i + 2] === 108 && b[i + 3] === 108) {
    _p += 4;
  } else {
    return false;
  }
  return true;
}

// Checks and skips any value at `_p`, which the record leaves out.
function _skip(depth: number): void {
  if (depth > MAX_SKIPPED_DEPTH) _decline();
  const c = _in[_p];
  if (c === 34) {
    _skipString();
  } else if (c === 123) {
    _p++;
    if (_next() === 125) return;
    _p--;
    for (;;) {
      _expect(34);
      _key();
      _expect(58);
      _ws();
      _skip(depth + 1);
      const d = _next();
      if (d === 125) return;
      if (d !== 44) _decline();
    }
  } else if (c === 91) {
    _p++;
    if (_next() === 93) return;
    _p--;
    for (;;) {
      _ws();
      _skip(depth + 1);
      const d = _next();
      if (d === 93) return;
      if (d !== 44) _decline();
    }
  } else if (c === 116 || c === 102 || c === 110) {
    if (!_literal()) _decline();
  } else if (!_number()) {
    _decline();
  }
}

// Checks and skips a string at `_p` (its opening quote): any escape JSON
// has, ASCII only.
function _skipString(): void {
  const b = _in;
  const end = _end;
  let p = _p + 1;
  for (;;) {
    if (p >= end) _decline();
    const c = b[p++];
    if (c === 34) break;
    if (c < 32 || c > 126) _decline();
    if (c !== 92) continue;
    const e = b[p++];
    if (e === 117 /* u */) {
      _hex4(b, p);
      p += 4;
    } else if (
      e !== 34 && e !== 92 && e !== 47 && e !== 98 && e !== 102 && e !== 110 && e !== 114 &&
      e !== 116
    ) {
      _decline();
    }
  }
  _p = p;
}

// `r`: an array of devices, each an object with a vendor id.
function _devices(): void {
  if (_in[_p++] !== 91) _decline();
  let c = _next();
  if (c === 93) return;
  for (let first = true;; first = false) {
    if (c !== 123) _decline();
    if (!first) _put(44);
    _device();
    c = _next();
    if (c === 93) return;
    if (c !== 44) _decline();
    c = _next();
  }
}

// One device after its `{`: `"vid":{readings}` into the data, and
// `"vid":[entries]` into the status when it has any.
function _device(): void {
  _deviceKeys.clear();
  const at = _o;
  const statusAt = _so;
  let vidAt = -1;
  let vidEnd = -1;
  // Whether `"vid":{` is written: at once when the vendor id comes before
  // any reading, else in front of them at the end.
  let prefixed = false;
  let readings = 0;
  let entries = 0;
  let c = _next();
  if (c === 125) _decline(); // no vendor id
  for (;;) {
    if (c !== 34) _decline();
    _key();
    _deviceKeys.add();
    const keyAt = _ks;
    const keyEnd = _ke;
    _expect(58);
    _ws();
    if (_in[keyAt] === 95 /* _ */) {
      const length = keyEnd - keyAt;
      if (
        length === 4 && _in[keyAt + 1] === 118 && _in[keyAt + 2] === 105 && _in[keyAt + 3] === 100
      ) {
        if (_in[_p++] !== 34) _decline(); // not a string: counted as missing
        _key();
        if (_ke === _ks || _isDigit(_in[_ks])) _decline();
        vidAt = _ks;
        vidEnd = _ke;
        _vendorIds.add();
        if (readings === 0) {
          _vidKey(vidAt, vidEnd);
          prefixed = true;
        }
      } else if (length === 2 && _in[keyAt + 1] === 115) {
        if (_in[_p] === 110) {
          if (!_literal()) _decline();
        } else {
          entries = _entries(statusAt);
        }
      } else {
        _skip(0);
      }
    } else {
      if (_isDigit(_in[keyAt])) _decline();
      const v = _in[_p];
      if (v === 110) {
        // A failed read: left out, not counted.
        if (!_literal()) _decline();
      } else {
        if (v === 123 || v === 91) _decline(); // counted as invalid_value
        if (readings > 0) _put(44);
        readings++;
        _put(34);
        for (let k = keyAt; k < keyEnd; k++) _out[_o++] = _in[k];
        _put(34);
        _put(58);
        if (v === 34) _o = _copyString(_out, _o);
        else if (v === 116 || v === 102) _o = _copyLiteral(_out, _o);
        else _o = _copyNumber(_out, _o);
      }
    }
    c = _next();
    if (c === 125) break;
    if (c !== 44) _decline();
    c = _next();
  }
  if (vidAt === -1) _decline();
  if (!prefixed) {
    // Readings came before the vendor id: moved behind its key.
    const shift = vidEnd - vidAt + 4;
    _ensure(shift);
    _out.copyWithin(at + shift, at, _o);
    const end = _o + shift;
    _o = at;
    _vidKey(vidAt, vidEnd);
    _o = end;
  }
  _put(125);
  if (entries > 0) {
    const shift = vidEnd - vidAt + 4 + (statusAt > 0 ? 1 : 0);
    _ensureStatus(shift + 1);
    _st.copyWithin(statusAt + shift, statusAt, _so);
    let s = statusAt;
    if (statusAt > 0) _st[s++] = 44;
    _st[s++] = 34;
    for (let k = vidAt; k < vidEnd; k++) _st[s++] = _in[k];
    _st[s++] = 34;
    _st[s++] = 58;
    _st[s++] = 91;
    _so += shift;
    _st[_so++] = 93;
  }
}

// Writes `"vid":{` to the data.
function _vidKey(vidAt: number, vidEnd: number): void {
  _put(34);
  for (let k = vidAt; k < vidEnd; k++) _out[_o++] = _in[k];
  _put(34);
  _put(58);
  _put(123);
}

function _isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

// `_s` at `_p`: an array of entries, written to the status comma-separated
// from `statusAt`; gives how many.
function _entries(statusAt: number): number {
  if (_in[_p++] !== 91) _decline(); // counted as invalid_status
  _so = statusAt;
  let count = 0;
  let c = _next();
  if (c === 93) return 0;
  _p--;
  for (;;) {
    if (count > 0) _st[_so++] = 44;
    _ws();
    _so = _copyEntry(0);
    count++;
    c = _next();
    if (c === 93) return count;
    if (c !== 44) _decline();
  }
}

// Copies one value of a status entry to the status.
function _copyEntry(depth: number): number {
  const c = _in[_p];
  if (c === 34) return _copyString(_st, _so);
  if (c === 123 || c === 91) {
    if (depth >= MAX_ENTRY_DEPTH) _decline();
    _p++;
    _st[_so++] = c;
    const close = c + 2;
    const keys = c === 123 ? _entrySets[depth] ??= new _KeySet() : undefined;
    keys?.clear();
    if (_next() === close) {
      _st[_so++] = close;
      return _so;
    }
    _p--;
    for (let first = true;; first = false) {
      if (!first) _st[_so++] = 44;
      if (c === 123) {
        _expect(34);
        _key();
        if (_isDigit(_in[_ks])) _decline();
        keys!.add();
        _st[_so++] = 34;
        for (let k = _ks; k < _ke; k++) _st[_so++] = _in[k];
        _st[_so++] = 34;
        _expect(58);
        _st[_so++] = 58;
      }
      _ws();
      _so = _copyEntry(depth + 1);
      const d = _next();
      if (d === close) break;
      if (d !== 44) _decline();
    }
    _st[_so++] = close;
    return _so;
  }
  if (c === 116 || c === 102 || c === 110) return _copyLiteral(_st, _so);
  return _copyNumber(_st, _so);
}
