/**
 * Integers that a double cannot hold, kept as the payload wrote them.
 *
 * A double holds every integer up to 2^53 exactly; `JSON.parse` rounds
 * larger ones, so the 64-bit counter 18446744073709551615 would be written
 * as 18446744073709552000. Python's `json` keeps them exact, and dataloggers
 * send them: 64-bit energy counters and the "not implemented" sentinels of
 * 64-bit registers. Such an integer is kept as an {@linkcode ExactInteger},
 * a `JSON.rawJSON` value of its digits, which `JSON.stringify` writes
 * verbatim wherever it sits in a record.
 *
 * @module
 */

/**
 * An integer beyond 2^53 as the payload wrote it: a frozen `JSON.rawJSON`
 * value whose `rawJSON` is the integer's digits, with a `-` if negative.
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

const INTEGER = /^-?\d+$/;

/**
 * What a JSON number literal reads as: an {@linkcode ExactInteger} when it
 * is an integer (no fraction, no exponent) beyond 2^53 that is still finite
 * as a double; otherwise its double, `value` when given. An integer too
 * long even for a double stays `Infinity`, dropped like any non-finite
 * number.
 */
export function readNumber(source: string, value: number = Number(source)): number | ExactInteger {
  if (Number.isSafeInteger(value) || !Number.isFinite(value) || !INTEGER.test(source)) {
    return value;
  }
  return json.rawJSON(source);
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
 * Whether a number from the plain `JSON.parse` may have been rounded: an
 * integer beyond 2^53, or a finite float of that size, which the exact
 * parse leaves as it is.
 */
export function mayBeRounded(value: number): boolean {
  return (value >= 2 ** 53 || value <= -(2 ** 53)) && Number.isFinite(value);
}

/** Whether `value` is an {@linkcode ExactInteger}. */
export function isExactInteger(value: unknown): value is ExactInteger {
  return json.isRawJSON(value);
}
