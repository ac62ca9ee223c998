/**
 * The record's last digits, on the agent's path (`transformToOutput()`, from
 * the payload's bytes where it can) and on the parse path
 * (`transformToText()`, `transform()`): `t` rounded to the millisecond from
 * the digits the payload wrote, and every integer with all its digits,
 * however it is spelled.
 */

import assert from "node:assert/strict";
import { recordBytes } from "./record_bytes.ts";
import {
  nodeIdOf,
  transform,
  transformToLine,
  transformToOutput,
  transformToText,
} from "./transform.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const TOPIC = "a/b827eb000001/u/data";
const HEAD = '{"node_id":"b827eb000001","time":"';

/** What every path writes for `payload`: its line, or its dead letter's reason. */
function outcomes(payload: string): Record<string, string> {
  const bytes = encoder.encode(payload);
  const output = transformToOutput(TOPIC, bytes);
  const text = transformToText(TOPIC, bytes);
  const line = transformToLine(TOPIC, bytes);
  const object = transform(TOPIC, bytes);
  const fast = recordBytes(bytes, nodeIdOf(TOPIC));
  const seen: Record<string, string> = {
    transformToOutput: output.kind === "record"
      ? typeof output.output === "string" ? output.output : decoder.decode(output.output)
      : output.kind === "dead"
      ? output.reason
      : output.kind,
    transformToText: text.kind === "record" ? text.text : text.kind === "dead" ? text.reason : "",
    transformToLine: line.kind === "record" ? line.line : line.kind === "dead" ? line.reason : "",
    transform: object.kind === "record"
      ? JSON.stringify(object.record)
      : object.kind === "dead"
      ? object.reason
      : "",
  };
  // The byte pass may leave the payload to the parse path, but what it
  // writes is the record's line.
  if (fast !== undefined) seen.recordBytes = decoder.decode(fast.bytes);
  return seen;
}

/** Asserts that every path writes `expected` for `payload`. */
function assertWritten(payload: string, expected: string): void {
  const seen = outcomes(payload);
  for (const [path, written] of Object.entries(seen)) {
    assert.equal(written, expected, `${path}() of ${payload.slice(0, 120)}`);
  }
}

function timeLine(t: string, time: string): [string, string] {
  return [`{"t":${t},"r":[]}`, `${HEAD}${time}+00:00","data":{}}`];
}

Deno.test("every path rounds t to the millisecond from its digits, half away from zero", () => {
  const cases: [string, string][] = [
    // Below the half, as written and as a double.
    ["1752036980.9654999", "2025-07-09T04:56:20.965"],
    ["1709288100.00049999", "2024-03-01T10:15:00"],
    ["0.00049999999999999999", "1970-01-01T00:00:00"],
    ["1709288100.99949999999", "2024-03-01T10:15:00.999"],
    // At the half: away from zero, though the double may be just below.
    ["1709288100.0005", "2024-03-01T10:15:00.001"],
    ["1709288460.0015", "2024-03-01T10:21:00.002"],
    ["0.0005", "1970-01-01T00:00:00.001"],
    ["1.5e-3", "1970-01-01T00:00:00.002"],
    ["25E-4", "1970-01-01T00:00:00.003"],
    ["1709288100.9995", "2024-03-01T10:15:01"],
    // Above the half.
    ["1709288100.00050000001", "2024-03-01T10:15:00.001"],
    // Whole seconds in any spelling, and fractions a double holds.
    ["1709288100.000", "2024-03-01T10:15:00"],
    ["1.7092881e9", "2024-03-01T10:15:00"],
    ["170928810025e-2", "2024-03-01T10:15:00.250"],
    ["1709288460.25", "2024-03-01T10:21:00.250"],
    ["-0", "1970-01-01T00:00:00"],
    ["-0.0", "1970-01-01T00:00:00"],
  ];
  for (const [t, time] of cases) {
    assertWritten(...timeLine(t, time));
    // The byte pass takes a device too.
    assertWritten(
      `{"t":${t},"r":[{"_vid":"inv-1","P":1}]}`,
      `${HEAD}${time}+00:00","data":{"inv-1":{"P":1}}}`,
    );
  }
  // The digits of the t the parse keeps: the last, its key escaped or not.
  for (const t of ['"t":1,"t":1709288100.00049999', '"\\u0074":1709288100.00049999']) {
    assertWritten(
      `{${t},"m":{"t":1709288100.0005},"r":[]}`,
      timeLine("0", "2024-03-01T10:15:00")[1],
    );
  }
});

Deno.test("every path takes a t that rounds to the last millisecond of the year 9999", () => {
  assertWritten(...timeLine("253402300799.9994", "9999-12-31T23:59:59.999"));
  assertWritten(...timeLine("253402300799.999", "9999-12-31T23:59:59.999"));
  assertWritten(...timeLine("253402300799.99949999", "9999-12-31T23:59:59.999"));
  for (const t of ["253402300799.9995", "253402300800", "2.534023008e11"]) {
    assertWritten(`{"t":${t},"r":[]}`, "invalid_t");
  }
  const dead = transformToText(TOPIC, encoder.encode('{"t":253402300799.9995,"r":[]}'));
  assert.equal(dead.kind === "dead" && dead.detail, '"t" 253402300799.9995 is after the year 9999');
});

Deno.test("every path keeps every digit of integers of 309 digits and more", () => {
  const long = "1" + "0".repeat(309);
  const longer = "-9" + "87654321".repeat(100);
  assertWritten(
    `{"t":0,"r":[{"_vid":"a","P":${long},"_s":[${long}]}]}`,
    `${HEAD}1970-01-01T00:00:00+00:00","data":{"a":{"P":${long}}},"status":{"a":[${long}]}}`,
  );
  assertWritten(
    `{"t":0,"r":[{"_vid":"a","Q":${longer},"_s":[{"l":${longer}}]}]}`,
    `${HEAD}1970-01-01T00:00:00+00:00","data":{"a":{"Q":${longer}}},"status":{"a":[{"l":${longer}}]}}`,
  );
});

Deno.test("every path writes an integer spelled with a fraction or an exponent with all its digits", () => {
  const cases: [string, string][] = [
    ["18446744073709551615.0", "18446744073709551615"],
    ["1.8446744073709551615e19", "18446744073709551615"],
    ["9007199254740993.0", "9007199254740993"],
    ["-9223372036854775808.000", "-9223372036854775808"],
    ["184467440737095516150e-1", "18446744073709551615"],
    ["0.18446744073709551615E+20", "18446744073709551615"],
    ["1e21", "1" + "0".repeat(21)],
    ["1.5e300", "15" + "0".repeat(299)],
    ["1e308", "1" + "0".repeat(308)],
    // Beyond a double: every digit all the same.
    ["1.8e308", "18" + "0".repeat(307)],
    [`1${"0".repeat(400)}.0`, "1" + "0".repeat(400)],
    [`1${"0".repeat(400)}e-2`, "1" + "0".repeat(398)],
    // Integers a double holds, in any spelling.
    ["1.0", "1"],
    ["1e2", "100"],
    ["-0.0e5", "0"],
    ["0e999999999", "0"],
  ];
  for (const [spelled, digits] of cases) {
    assertWritten(
      `{"t":0,"r":[{"_vid":"m","v":${spelled},"_s":[{"v":${spelled}}]}]}`,
      `${HEAD}1970-01-01T00:00:00+00:00","data":{"m":{"v":${digits}}},` +
        `"status":{"m":[{"v":${digits}}]}}`,
    );
  }
});

Deno.test("every path writes a number that is not an integer as JSON writes its double", () => {
  const cases: [string, string][] = [
    ["18446744073709551615.5", "18446744073709552000"],
    ["1.84467440737095516155e19", "18446744073709552000"],
    ["12345678901234567.5", "12345678901234568"],
    ["0.1e-6", "1e-7"],
    ["5120.50", "5120.5"],
  ];
  for (const [spelled, written] of cases) {
    assertWritten(
      `{"t":0,"r":[{"_vid":"m","v":${spelled}}]}`,
      `${HEAD}1970-01-01T00:00:00+00:00","data":{"m":{"v":${written}}}}`,
    );
  }
});

Deno.test("every path drops an integer whose exponent would make more digits than a double has and its spelling holds", () => {
  for (const spelled of ["1e400", "1e999999999", "-1.5e310", "1" + "0".repeat(20) + "e300"]) {
    assertWritten(
      `{"t":0,"r":[{"_vid":"m","v":${spelled},"P":1}]}`,
      `${HEAD}1970-01-01T00:00:00+00:00","data":{"m":{"P":1}}}`,
    );
  }
  // A status entry writes it as JSON writes Infinity.
  assertWritten(
    '{"t":0,"r":[{"_vid":"m","_s":[1e999999999]}]}',
    `${HEAD}1970-01-01T00:00:00+00:00","data":{"m":{}},"status":{"m":[null]}}`,
  );
});

Deno.test("every path tells a t of 309 digits and more is after the year 9999, quoting it short", () => {
  const long = "1" + "0".repeat(400);
  assertWritten(`{"t":${long},"r":[]}`, "invalid_t");
  const dead = transformToText(TOPIC, encoder.encode(`{"t":${long},"r":[]}`));
  assert.equal(
    dead.kind === "dead" && dead.detail,
    `"t" ${long.slice(0, 40)}… (401 digits) is after the year 9999`,
  );
  const negative = transformToText(TOPIC, encoder.encode(`{"t":-${long},"r":[]}`));
  assert.equal(
    negative.kind === "dead" && negative.detail,
    `"t" is the number -${
      long.slice(0, 39)
    }… (401 digits), expected Unix seconds as a non-negative number`,
  );
});

Deno.test("influx writes integers of any spelling as float fields with every digit", () => {
  const long = "1" + "0".repeat(309);
  const payload = '{"t":0,"r":[{"_vid":"m","E":18446744073709551615.0,' +
    `"F":1.8446744073709551615e19,"G":9007199254740993.0,"L":${long},"x":1e21}]}`;
  const result = transformToText(TOPIC, encoder.encode(payload), { format: "influx" });
  assert.equal(
    result.kind === "record" && result.text,
    "ammp,node_id=b827eb000001,vid=m E=18446744073709551615,F=18446744073709551615," +
      `G=9007199254740993,L=${long},x=1${"0".repeat(21)} 0`,
  );
});
