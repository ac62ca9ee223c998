/**
 * What a JSON number's text stands for, by BigInt arithmetic: the model
 * the transform's own digit reading (`number_text.ts`) is checked against.
 * For texts of modest exponents only.
 *
 * @module
 */

/** The most digits an integer spelled with an exponent is written with. */
const MAX_INTEGER_DIGITS = 309;

/** A JSON number's text as an exact fraction: `mantissa / 10^scale`. */
export function exactDecimal(text: string): { mantissa: bigint; scale: number } {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (match === null) throw new Error(`Not a JSON number: ${text}`);
  const [, sign, int, frac = "", exponent = "0"] = match;
  return { mantissa: BigInt(sign + int + frac), scale: frac.length - Number(exponent) };
}

/**
 * The integer a JSON number's text stands for, as digits, or `undefined`
 * for a fraction. `bounded`: also `undefined` where it has more digits
 * than 309 and than the text has characters, as the transform drops it.
 */
export function integerOf(text: string, bounded = false): string | undefined {
  const { mantissa, scale } = exactDecimal(text);
  let value: bigint;
  if (scale <= 0) {
    value = mantissa * 10n ** BigInt(-scale);
  } else {
    const unit = 10n ** BigInt(scale);
    if (mantissa % unit !== 0n) return undefined;
    value = mantissa / unit;
  }
  const digits = String(value);
  const count = digits.replace("-", "").length;
  if (bounded && count > MAX_INTEGER_DIGITS && count > text.length) return undefined;
  return digits;
}

/** Seconds given as a JSON number's text, in milliseconds rounded half away from zero. */
export function millisecondsOf(text: string): number {
  const { mantissa, scale } = exactDecimal(text);
  const negative = mantissa < 0n;
  const magnitude = (negative ? -mantissa : mantissa) * 1000n;
  let ms: bigint;
  if (scale <= 0) {
    ms = magnitude * 10n ** BigInt(-scale);
  } else {
    const unit = 10n ** BigInt(scale);
    ms = magnitude / unit + (2n * (magnitude % unit) >= unit ? 1n : 0n);
  }
  return negative ? -Number(ms) : Number(ms);
}
