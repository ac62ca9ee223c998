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

const NON_FINITE = new RegExp(NON_FINITE_TOKENS.join("|"));

function _parsePlain(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (!NON_FINITE.test(text)) throw error;
    const repaired = _replaceNonFiniteTokens(text);
    if (repaired === text) throw error;
    return JSON.parse(repaired);
  }
}

// The first characters of the non-finite tokens: only there can one start.
const TOKEN_STARTS = NON_FINITE_TOKENS.map((token) => token.charCodeAt(0));

// Replaces the non-finite tokens outside strings with null.
function _replaceNonFiniteTokens(text: string): string {
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
