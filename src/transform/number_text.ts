/**
 * What a JSON number's text stands for, read from its digits rather than
 * from its double: the integer it spells, in full, and a time in seconds
 * rounded to the millisecond. A double keeps 15 to 17 significant digits;
 * `18446744073709551615.0` and `1.8446744073709551615e19` are integers
 * beyond them, and `1752036980.9654999` is below half a millisecond though
 * `Math.round(t * 1000)` rounds its product up.
 *
 * Every function here is linear in the text's length, whatever its
 * exponent: `1e999999999` is never written out.
 *
 * @module
 */

/**
 * The most digits an integer spelled with an exponent is written with,
 * beyond those of its spelling: as many as the largest finite double has
 * (1.7976931348623157e308). An integer with more, `1e400`, is beyond a
 * double's range, and is dropped as `Infinity` is.
 */
export const MAX_INTEGER_DIGITS = 309;

/**
 * The integer a JSON number's text stands for, in its shortest form
 * (`"1.8446744073709551615e19"` is `"18446744073709551615"`, `"-0.0"` is
 * `"0"`), or `undefined` where the value has a fraction, or would have
 * more digits than both {@linkcode MAX_INTEGER_DIGITS} and its text has
 * characters. `text` must be a JSON number.
 *
 * @example
 * ```ts
 * integerDigits("9007199254740993.0"); // "9007199254740993"
 * integerDigits("1e21"); // "1000000000000000000000"
 * integerDigits("1.5"); // undefined
 * integerDigits("1e400"); // undefined
 * ```
 */
export function integerDigits(text: string): string | undefined {
  const { negative, digits, point } = _decimal(text);
  let first = 0;
  while (first < digits.length && digits.charCodeAt(first) === 48) first++;
  if (first === digits.length) return "0";
  let last = digits.length - 1;
  while (digits.charCodeAt(last) === 48) last--;
  if (last >= point) return undefined;
  const count = point - first;
  if (count > MAX_INTEGER_DIGITS && count > text.length) return undefined;
  const zeros = point - digits.length;
  return (negative ? "-" : "") + digits.slice(first, point) + (zeros > 0 ? "0".repeat(zeros) : "");
}

/**
 * A time in seconds, given as a JSON number's text, in milliseconds
 * rounded from its digits, half away from zero: `"0.0005"` is 1, and
 * `"1709288100.00049999"` is 1709288100000 though its double is the one
 * of `"1709288100.0005"`. Beyond 10^16 ms it is `Infinity`, or
 * `-Infinity`. `text` must be a JSON number.
 *
 * @example
 * ```ts
 * roundedMilliseconds("1752036980.9654999"); // 1752036980965
 * roundedMilliseconds("1.5e-3"); // 2
 * ```
 */
export function roundedMilliseconds(text: string): number {
  const { negative, digits, point } = _decimal(text);
  // The digits of the milliseconds end three places after the point.
  const end = point + 3;
  let first = 0;
  while (first < digits.length && digits.charCodeAt(first) === 48) first++;
  if (first === digits.length) return 0;
  if (end - first > 16) return negative ? -Infinity : Infinity;
  let ms = 0;
  for (let k = first; k < end; k++) {
    ms = ms * 10 + (k < digits.length ? digits.charCodeAt(k) - 48 : 0);
  }
  if (end >= 0 && end < digits.length && digits.charCodeAt(end) >= 53 /* 5 */) ms++;
  return negative ? -ms : ms;
}

// The highest exponent read: beyond it, any number has more digits than a
// payload can hold, or is too small to reach a millisecond.
const MAX_EXPONENT = 1e15;

// A JSON number's text as its sign, its digits without the point, and the
// point's place in them (which the exponent moves, to either side).
function _decimal(text: string): { negative: boolean; digits: string; point: number } {
  const negative = text.charCodeAt(0) === 45;
  const start = negative ? 1 : 0;
  let p = start;
  while (_isDigit(text.charCodeAt(p))) p++;
  const intEnd = p;
  let digits = text.slice(start, intEnd);
  if (text.charCodeAt(p) === 46) {
    const fracStart = ++p;
    while (_isDigit(text.charCodeAt(p))) p++;
    digits += text.slice(fracStart, p);
  }
  let exponent = 0;
  if (p < text.length) {
    // e or E, a sign, digits.
    let c = text.charCodeAt(++p);
    const sign = c === 45 ? -1 : 1;
    if (c === 45 || c === 43) c = text.charCodeAt(++p);
    for (; p < text.length; c = text.charCodeAt(++p)) {
      exponent = Math.min(exponent * 10 + (c - 48), MAX_EXPONENT);
    }
    exponent *= sign;
  }
  return { negative, digits, point: intEnd - start + exponent };
}

function _isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
