/**
 * A JSON parser written out in full, for the payloads that V8's own
 * `JSON.parse` can misread.
 *
 * V8 (in Deno 2.9 and Node 24 to 26 alike) decodes an object key that
 * contains an escape sequence through the hidden-class transitions of
 * earlier parses: once any payload had an object ending in a key such as
 * `"a\\"`, a later object ending in `"a\n"` after the same keys comes back
 * with `"a\\"` (nodejs/node#63785). One payload could so rename the
 * readings of others. Payloads whose keys carry no escape are not affected
 * and keep the native parser; the others go through
 * {@linkcode parseStrictJson}, which builds every key itself.
 *
 * @module
 */

import { readNumber } from "./exact_integer.ts";

/**
 * Whether some object key in `text` contains an escape sequence: a string
 * with a backslash that is followed by a colon. Linear in the text's
 * length, whatever the input.
 */
export function hasEscapedKey(text: string): boolean {
  if (!text.includes("\\")) return false;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) {
        escaped = true;
        i++;
      } else if (c === QUOTE) {
        inString = false;
        if (escaped) {
          let j = i + 1;
          while (isWhitespace(text.charCodeAt(j))) j++;
          if (text.charCodeAt(j) === COLON) return true;
        }
      }
    } else if (c === QUOTE) {
      inString = true;
      escaped = false;
    }
  }
  return false;
}

/**
 * Parses JSON text like `JSON.parse`, and also reads the bare `NaN`,
 * `Infinity` and `-Infinity` that Python writes, as `null`, and an integer
 * beyond 2^53 as an `ExactInteger` with every digit. Iterative, so
 * nesting depth is bounded by memory, not by the call stack. Keys such as
 * `__proto__` become plain own properties, as with `JSON.parse`.
 *
 * @throws {SyntaxError} where the text is not JSON.
 */
export function parseStrictJson(text: string): unknown {
  return new Parser(text).parse();
}

const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;
const COMMA = 44;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/**
 * The bare non-finite numbers Python's `json.dumps` writes. Every reader of
 * payload text takes them as `null`, so the readings they stand for are
 * dropped like any other failed read.
 */
export const NON_FINITE_TOKENS = ["NaN", "Infinity", "-Infinity"] as const;

const LITERALS: [string, unknown][] = [
  ["true", true],
  ["false", false],
  ["null", null],
  ...NON_FINITE_TOKENS.map((token): [string, unknown] => [token, null]),
];

function isWhitespace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

interface Frame {
  container: unknown[] | Record<string, unknown>;
  array: boolean;
  key: string;
}

class Parser {
  #text: string;
  #at = 0;

  constructor(text: string) {
    this.#text = text;
  }

  parse(): unknown {
    const stack: Frame[] = [];
    for (;;) {
      // Read one value; an opened object or array waits on the stack.
      this.#skipWhitespace();
      let value: unknown;
      const c = this.#text.charCodeAt(this.#at);
      if (c === 123 /* { */ || c === 91 /* [ */) {
        const array = c === 91;
        this.#at++;
        const container = array ? [] : {};
        this.#skipWhitespace();
        if (this.#text.charCodeAt(this.#at) === (array ? 93 : 125)) {
          this.#at++;
          value = container;
        } else {
          stack.push({ container, array, key: array ? "" : this.#readKey() });
          continue;
        }
      } else {
        value = this.#readScalar();
      }

      // Hand the value to its container, closing those that end here.
      for (;;) {
        const frame = stack.at(-1);
        if (frame === undefined) {
          this.#skipWhitespace();
          if (this.#at < this.#text.length) this.#fail();
          return value;
        }
        if (frame.array) {
          (frame.container as unknown[]).push(value);
        } else {
          Object.defineProperty(frame.container, frame.key, {
            value,
            writable: true,
            enumerable: true,
            configurable: true,
          });
        }
        this.#skipWhitespace();
        const next = this.#text.charCodeAt(this.#at);
        if (next === COMMA) {
          this.#at++;
          if (!frame.array) frame.key = this.#readKey();
          break;
        }
        if (next !== (frame.array ? 93 /* ] */ : 125 /* } */)) this.#fail();
        this.#at++;
        stack.pop();
        value = frame.container;
      }
    }
  }

  #readKey(): string {
    this.#skipWhitespace();
    if (this.#text.charCodeAt(this.#at) !== QUOTE) this.#fail();
    const key = this.#readString();
    this.#skipWhitespace();
    if (this.#text.charCodeAt(this.#at) !== COLON) this.#fail();
    this.#at++;
    return key;
  }

  #readScalar(): unknown {
    const text = this.#text;
    const c = text.charCodeAt(this.#at);
    if (c === QUOTE) return this.#readString();
    for (const [literal, value] of LITERALS) {
      if (text.startsWith(literal, this.#at)) {
        this.#at += literal.length;
        return value;
      }
    }
    NUMBER.lastIndex = this.#at;
    const match = NUMBER.exec(text);
    if (match === null) this.#fail();
    this.#at += match[0].length;
    return readNumber(match[0]);
  }

  #readString(): string {
    const text = this.#text;
    let out = "";
    let from = ++this.#at;
    while (this.#at < text.length) {
      const c = text.charCodeAt(this.#at);
      if (c === QUOTE) {
        out += text.slice(from, this.#at++);
        return out;
      }
      if (c < 0x20) this.#fail();
      if (c !== BACKSLASH) {
        this.#at++;
        continue;
      }
      out += text.slice(from, this.#at);
      const escape = text[this.#at + 1];
      if (escape === "u") {
        const hex = text.slice(this.#at + 2, this.#at + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.#fail();
        out += String.fromCharCode(parseInt(hex, 16));
        this.#at += 6;
      } else {
        const decoded = ESCAPES[escape];
        if (decoded === undefined || !Object.hasOwn(ESCAPES, escape)) this.#fail();
        out += decoded;
        this.#at += 2;
      }
      from = this.#at;
    }
    return this.#fail();
  }

  #skipWhitespace(): void {
    while (isWhitespace(this.#text.charCodeAt(this.#at))) this.#at++;
  }

  #fail(): never {
    const at = this.#at;
    if (at >= this.#text.length) throw new SyntaxError("Unexpected end of JSON input");
    throw new SyntaxError(
      `Unexpected ${JSON.stringify(this.#text[at])} in JSON at position ${at}`,
    );
  }
}
