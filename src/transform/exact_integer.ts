/**
 * Integers that a double cannot hold, kept with every digit.
 *
 * A double holds every integer up to 2^53 exactly; `JSON.parse` rounds
 * larger ones, so the 64-bit counter 18446744073709551615 would be written
 * as 18446744073709552000, and one of 309 digits or more becomes
 * `Infinity`. Python's `json` keeps them exact, and dataloggers send them:
 * 64-bit energy counters and the "not implemented" sentinels of 64-bit
 * registers, sometimes spelled as floats (`18446744073709551615.0`,
 * `1.8446744073709551615e19`). Such an integer is kept as an
 * {@linkcode ExactInteger}, a `JSON.rawJSON` value of its digits, which
 * `JSON.stringify` writes verbatim wherever it sits in a record.
 *
 * @module
 */

import { integerDigits } from "./number_text.ts";

/**
 * An integer beyond 2^53 with every digit: a frozen `JSON.rawJSON` value
 * whose `rawJSON` is the integer in its shortest form, its digits with a
 * `-` if negative, however the payload spelled it.
 */
export interface ExactInteger {
  readonly rawJSON: string;
}

// Deno's TypeScript library does not know V8's JSON source text access yet.
interface SourceTextJson {
  rawJSON(text: string): ExactInteger;
  isRawJSON(value: unknown): boolean;
  parse(
    text: string,
    reviver: (key: string, value: unknown, context: { source?: string }) => unknown,
  ): unknown;
}
const json = JSON as unknown as SourceTextJson;

/**
 * What a JSON number literal reads as: an {@linkcode ExactInteger} when
 * its value is an integer beyond 2^53, however it is spelled
 * (`integerDigits()`); otherwise its double, `value` when given. An
 * integer with more digits than a double has and its spelling holds
 * (`1e400`) stays `Infinity`, dropped like any non-finite number.
 */
export function readNumber(source: string, value: number = Number(source)): number | ExactInteger {
  if (value < 2 ** 53 && value > -(2 ** 53)) return value;
  const digits = integerDigits(source);
  return digits === undefined ? value : json.rawJSON(digits);
}

/**
 * `JSON.parse` that reads integers beyond 2^53 with {@linkcode readNumber}.
 * The reviver sees every value, which takes six times as long as
 * `JSON.parse`: for payloads that need it.
 *
 * @throws {SyntaxError} where the text is not JSON.
 */
export function parseExactJson(text: string): unknown {
  return json.parse(text, _revive);
}

function _revive(_key: string, value: unknown, context: { source?: string }): unknown {
  return typeof value === "number" && !Number.isSafeInteger(value) &&
      context.source !== undefined
    ? readNumber(context.source, value)
    : value;
}

/**
 * Whether a number from the plain `JSON.parse` may have been rounded: one
 * of 2^53 or beyond, finite or not, which may be an integer with more
 * digits than its double has.
 */
export function mayBeRounded(value: number): boolean {
  return !(value < 2 ** 53 && value > -(2 ** 53));
}

/** Whether `value` is an {@linkcode ExactInteger}. */
export function isExactInteger(value: unknown): value is ExactInteger {
  return json.isRawJSON(value);
}
