import assert from "node:assert/strict";
import fc from "fast-check";
import { integerDigits, MAX_INTEGER_DIGITS, roundedMilliseconds } from "./number_text.ts";
import { integerOf, millisecondsOf } from "../../tests/_support/exact_decimal.ts";

const digits = (min: number, max: number) =>
  fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));
const numberText = fc.tuple(
  fc.boolean(),
  fc.oneof(
    fc.constant("0"),
    fc.tuple(fc.integer({ min: 1, max: 9 }), digits(0, 30))
      .map(([lead, rest]) => lead + rest),
  ),
  fc.option(digits(1, 30), { nil: undefined }),
  fc.option(
    fc.tuple(
      fc.constantFrom("e", "E"),
      fc.constantFrom("", "+", "-"),
      fc.integer({ min: 0, max: 60 }),
    ),
    { nil: undefined },
  ),
).map(([negative, int, frac, exponent]) =>
  (negative ? "-" : "") + int + (frac === undefined ? "" : "." + frac) +
  (exponent === undefined ? "" : exponent[0] + exponent[1] + exponent[2])
);

Deno.test("integerDigits() gives the integer any spelling stands for, and nothing for a fraction", () => {
  fc.assert(
    fc.property(numberText, (text) => {
      assert.equal(integerDigits(text), integerOf(text), text);
    }),
    { numRuns: 20_000 },
  );
  assert.equal(integerDigits("18446744073709551615.0"), "18446744073709551615");
  assert.equal(integerDigits("1.8446744073709551615e19"), "18446744073709551615");
  assert.equal(integerDigits("-0.000e3"), "0");
  assert.equal(integerDigits("1.5"), undefined);
});

Deno.test("integerDigits() writes no more digits than a double has or the spelling holds", () => {
  assert.equal(integerDigits("1e308"), "1" + "0".repeat(308));
  assert.equal(integerDigits(`9.${"9".repeat(40)}e${MAX_INTEGER_DIGITS - 1}`)?.length, 309);
  assert.equal(integerDigits(`1e${MAX_INTEGER_DIGITS}`), undefined);
  assert.equal(integerDigits("1e999999999999999999999999"), undefined);
  const long = "7".repeat(5000);
  assert.equal(integerDigits(long), long);
  assert.equal(integerDigits(`${long}00.000e-2`), long);
  assert.equal(integerDigits(`${long}e2`), long + "00");
  assert.equal(integerDigits(`${long}e9`), undefined);
  assert.equal(integerDigits("0e999999999999999999999"), "0");
  assert.equal(integerDigits("5e-999999999999999999999"), undefined);
});

Deno.test("roundedMilliseconds() rounds seconds to the millisecond from their digits, half away from zero", () => {
  fc.assert(
    fc.property(numberText.filter((text) => Math.abs(Number(text)) < 1e12), (text) => {
      assert.equal(roundedMilliseconds(text), millisecondsOf(text), text);
    }),
    { numRuns: 20_000 },
  );
  const cases: [string, number][] = [
    ["1752036980.9654999", 1752036980965],
    ["1709288100.00049999", 1709288100000],
    ["1709288100.0005", 1709288100001],
    ["0.0005", 1],
    ["0.00049999999999999999", 0],
    ["-0.0005", -1],
    ["1.5e-3", 2],
    ["253402300799.9994", 253402300799999],
    ["253402300799.9995", 253402300800000],
    ["1e-999999999999", 0],
    ["0", 0],
  ];
  for (const [text, ms] of cases) assert.equal(roundedMilliseconds(text), ms, text);
  assert.equal(roundedMilliseconds("1e13"), Infinity);
  assert.equal(roundedMilliseconds("-1e999999999"), -Infinity);
});
