/**
 * Reading payload text as JSON: the one entry point over V8's `JSON.parse`
 * and its two companions, the strict parser (`strict_json.ts`) for escaped
 * keys and deep nesting, and exact integers beyond 2^53
 * (`exact_integer.ts`). Python's bare `NaN`, `Infinity` and `-Infinity`
 * are read as `null` on every path.
 *
 * @module
 */

import { parseExactJson } from "./exact_integer.ts";
import { hasEscapedKey, NON_FINITE_TOKENS, parseStrictJson } from "./strict_json.ts";

/** Options for {@linkcode readJson}. */
export interface ReadJsonOptions {
  /**
   * Read integers beyond 2^53 as `ExactInteger`s with every digit. Costs
   * six times a plain parse, so the transform asks for it only where a
   * value may have been rounded. Defaults to `false`.
   */
  exact?: boolean;
}

/** What {@linkcode readJson} read. */
export interface JsonRead {
  /** The parsed value. */
  value: unknown;
  /** Whether integers beyond 2^53 were read with every digit. */
  exact: boolean;
}

/**
 * Parses JSON text, also reading Python's non-finite tokens as `null`.
 * Text with an escaped object key goes through the strict parser, which is
 * always exact: V8 can misread such keys after earlier parses (see
 * `strict_json.ts`).
 *
 * @throws {SyntaxError} where the text is not JSON.
 */
export function readJson(text: string, options: ReadJsonOptions = {}): JsonRead {
  if (hasEscapedKey(text)) return { value: parseStrictJson(text), exact: true };
  const exact = options.exact ?? false;
  return { value: exact ? _parseExact(text) : _parsePlain(text), exact };
}

/**
 * `JSON.parse`, also accepting the bare `NaN`, `Infinity` and `-Infinity`
 * that Python's `json.dumps` writes: they are read as `null`, so the
 * readings they stand for are dropped like any other failed read. An
 * integer beyond 2^53 is read as an `ExactInteger`, keeping every digit.
 *
 * @throws {SyntaxError} where the text is not JSON.
 */
export function parseJson(text: string): unknown {
  return readJson(text, { exact: true }).value;
}

function _parseExact(text: string): unknown {
  try {
    return parseExactJson(text);
  } catch {
    // The reviver recurses, so deep nesting that JSON.parse reads
    // overflows its stack. The strict parser is exact too, iterative, and
    // reads Python's tokens; it throws where the text is not JSON.
    return parseStrictJson(text);
  }
}

/**
 * The text of the value of `key` in the JSON object `text` (its last, as
 * `JSON.parse` keeps the last of a repeated key), without parsing it: for
 * the digits of a number that its double has lost. `undefined` where the
 * object has no such key. `text` must be JSON that {@linkcode readJson}
 * reads as an object. Linear in the text's length, whatever its nesting.
 *
 * @example
 * ```ts
 * memberText('{"m":{"t":1},"t":1709288100.00049999,"r":[]}', "t"); // "1709288100.00049999"
 * ```
 */
export function memberText(text: string, key: string): string | undefined {
  let found: string | undefined;
  let depth = 0;
  let i = text.indexOf("{");
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      const start = i;
      i = _stringEnd(text, i);
      if (depth !== 1) continue;
      let colon = i;
      while (_isSpace(text.charCodeAt(colon))) colon++;
      if (text.charCodeAt(colon) !== 58 /* : */) continue;
      // A key at the top: its value is next.
      let valueStart = colon + 1;
      while (_isSpace(text.charCodeAt(valueStart))) valueStart++;
      i = valueStart;
      if (_keyOf(text, start, colon) !== key) continue;
      let end = valueStart;
      const first = text.charCodeAt(end);
      if (first === 34 || first === 123 || first === 91) {
        found = undefined; // not a number: the parse has refused it already
        continue;
      }
      while (end < text.length && !_ends(text.charCodeAt(end))) end++;
      found = text.slice(valueStart, end);
      i = end;
    } else {
      if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) depth--;
      i++;
    }
  }
  return found;
}

// Where the string that starts at `at` (its quote) ends, after its quote.
function _stringEnd(text: string, at: number): number {
  let i = at + 1;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 92 /* \ */) i += 2;
    else if (c === 34 || i >= text.length) return i + 1;
    else i++;
  }
}

// A key, its escapes read, from its quote at `start` to the colon after it.
function _keyOf(text: string, start: number, colon: number): string {
  const quoted = text.slice(start, colon).trimEnd();
  return quoted.includes("\\") ? JSON.parse(quoted) : quoted.slice(1, -1);
}

function _isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

// Whether a character ends a bare value: a number or a literal.
function _ends(c: number): boolean {
  return c === 44 || c === 125 || c === 93 || _isSpace(c);
}

const NON_FINITE = new RegExp(NON_FINITE_TOKENS.join("|"));

function _parsePlain(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (!NON_FINITE.test(text)) throw error;
    const repaired = replaceNonFiniteTokens(text);
    if (repaired === text) throw error;
    return JSON.parse(repaired);
  }
}

// The first characters of the non-finite tokens: only there can one start.
const TOKEN_STARTS = NON_FINITE_TOKENS.map((token) => token.charCodeAt(0));

/** `text` with Python's bare `NaN`, `Infinity` and `-Infinity` outside strings replaced by `null`. */
export function replaceNonFiniteTokens(text: string): string {
  let out = "";
  let from = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      continue;
    }
    if (!TOKEN_STARTS.includes(c)) continue;
    for (const token of NON_FINITE_TOKENS) {
      if (!text.startsWith(token, i)) continue;
      out += text.slice(from, i) + "null";
      i += token.length - 1;
      from = i + 1;
      break;
    }
  }
  return out + text.slice(from);
}
