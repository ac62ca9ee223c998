/**
 * The byte path (`record_bytes.ts`) held to the parse path
 * (`transformToText()`), byte for byte, on a corpus written by hand
 * (`tests/_support/byte_path_corpus.ts`), on the contract's examples and on the benchmark's
 * realistic mix; and the byte path's reach: every payload that has a
 * record takes it.
 */

import assert from "node:assert/strict";
import { generateMessages } from "../../bench/generator.ts";
import { CORPUS, type CorpusCase } from "../../tests/_support/byte_path_corpus.ts";
import type { SkipReason } from "./device_walk.ts";
import { recordBytes } from "./record_bytes.ts";
import {
  recordNodeId,
  type TextResult,
  transform,
  transformToOutput,
  transformToText,
} from "./transform.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// The contract's examples, each with the line it must write.
const fixtures = new URL("../../tests/fixtures/examples/", import.meta.url);
const EXAMPLES: CorpusCase[] = [...Deno.readDirSync(fixtures)]
  .filter((entry) => entry.name.endsWith(".payload.json"))
  .map((entry) => entry.name.slice(0, -".payload.json".length))
  .sort()
  .map((name) => {
    const expected = Deno.readTextFileSync(new URL(`${name}.expected.ndjson`, fixtures)).trim();
    return {
      name: `the contract's example "${name}"`,
      topic: Deno.readTextFileSync(new URL(`${name}.topic`, fixtures)).trim(),
      payload: Deno.readFileSync(new URL(`${name}.payload.json`, fixtures)),
      options: {},
      kind: expected === "" ? "dead" : "record",
      line: expected === "" ? undefined : expected,
    };
  });

const CASES = [...CORPUS, ...EXAMPLES];

/** The parse path's outcome for a case and the skips it counted. */
function parsed(c: CorpusCase): { result: TextResult; skips: SkipReason[] } {
  const skips: SkipReason[] = [];
  const result = transformToText(c.topic, c.payload, {
    ...c.options,
    onSkip: (reason) => skips.push(reason),
  });
  return { result, skips };
}

// Where two byte strings first differ, with the text around it, for a
// message short enough to read on a payload of a MiB.
function difference(actual: Uint8Array, expected: Uint8Array): string | undefined {
  const length = Math.min(actual.length, expected.length);
  let at = 0;
  while (at < length && actual[at] === expected[at]) at++;
  if (at === length && actual.length === expected.length) return undefined;
  const around = (bytes: Uint8Array) =>
    JSON.stringify(decoder.decode(bytes.subarray(Math.max(0, at - 40), at + 40)));
  return `the bytes differ at ${at} of ${actual.length} (expected ${expected.length}): ` +
    `${around(actual)} where the parse path writes ${around(expected)}`;
}

function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  const found = difference(actual, expected);
  if (found !== undefined) assert.fail(`${what}: ${found}`);
}

/**
 * Asserts that `transformToOutput()` gives the parse path's outcome: the
 * same kind, the same bytes of the line, the same readingTime, the same
 * skips; the same dead letter or "ignored" otherwise.
 */
function assertSameOutcome(c: CorpusCase): { result: TextResult; skips: SkipReason[] } {
  const oracle = parsed(c);
  const skips: SkipReason[] = [];
  const output = transformToOutput(c.topic, c.payload, {
    ...c.options,
    onSkip: (reason) => skips.push(reason),
  });
  const expected = oracle.result;
  if (output.kind === "record" && expected.kind === "record") {
    const bytes = typeof output.output === "string"
      ? encoder.encode(output.output)
      : output.output.slice();
    assertSameBytes(bytes, encoder.encode(expected.text), c.name);
    assert.equal(output.readingTime, expected.readingTime, `readingTime of ${c.name}`);
  } else {
    assert.deepEqual(output, expected, c.name);
  }
  assert.deepEqual(skips, oracle.skips, `skips of ${c.name}`);
  return oracle;
}

// The corpus's own word on each case, so that the oracle is checked too.
function assertContract(c: CorpusCase, oracle: { result: TextResult; skips: SkipReason[] }): void {
  const { result, skips } = oracle;
  assert.equal(result.kind, c.kind, `kind of ${c.name}`);
  if (result.kind === "dead" && c.reason !== undefined) {
    assert.equal(result.reason, c.reason, `reason of ${c.name}`);
  }
  if (result.kind !== "record") return;
  if (c.line !== undefined) {
    assertSameBytes(encoder.encode(result.text), encoder.encode(c.line), `line of ${c.name}`);
  }
  if (c.skips !== undefined) assert.deepEqual(skips, c.skips, `skips of ${c.name}`);
  // The record object, written by JSON.stringify, is the same line.
  const object = transform(c.topic, c.payload, c.options);
  assert.equal(object.kind, "record");
  if (object.kind === "record") assert.equal(JSON.stringify(object.record), result.text);
}

for (const c of CASES) {
  Deno.test(`transformToOutput() gives the parse path's outcome, the contract's, for ${c.name}`, () => {
    assertContract(c, assertSameOutcome(c));
  });
}

// The payloads with a record that the byte path leaves to the parse path,
// and why: each is rare, and a copy cannot write it.
const LEFT_TO_PARSE = new Map<string, string>([
  ["a payload with a byte order mark in front", "which TextDecoder drops"],
  ["a payload with _vid and its escaped spelling in one device", "where the last _vid counts"],
  ["a payload with t and its escaped spelling", "where the last t counts"],
  ["a payload with a status entry's key and its escaped spelling", "where the last counts"],
  ["a payload with a vendor id made null by a later _vid", "where the last _vid counts"],
  ["a payload with a null vendor id made usable by a later _vid", "where the last _vid counts"],
  ["a payload with _vid twice in one device", "where the last _vid counts"],
  ["a payload with _s twice in one device", "where the last _s counts"],
  ["a payload with r twice", "where the last r counts"],
  ["a payload with t twice", "where the last t counts"],
  ["a payload with integer-like keys in a status entry", "which an object puts first"],
]);

Deno.test("every case the byte path leaves to the parse path is in the corpus", () => {
  const names = new Set(CASES.map((c) => c.name));
  for (const name of LEFT_TO_PARSE.keys()) assert.ok(names.has(name), name);
});

for (const c of CASES.filter((c) => c.kind === "record" && LEFT_TO_PARSE.has(c.name))) {
  Deno.test(`the byte path leaves ${c.name} to the parse path, ${LEFT_TO_PARSE.get(c.name)}`, () => {
    const node = recordNodeId(c.topic, c.options.nodeId);
    assert.equal(recordBytes(c.payload, node, { onSkip: () => {} }), undefined);
  });
}

for (const c of CASES.filter((c) => c.kind === "record" && !LEFT_TO_PARSE.has(c.name))) {
  Deno.test(`the byte path takes ${c.name}`, () => {
    const skips: SkipReason[] = [];
    const node = recordNodeId(c.topic, c.options.nodeId);
    const taken = recordBytes(c.payload, node, { onSkip: (reason) => skips.push(reason) });
    assert.ok(taken !== undefined, `recordBytes() declined ${c.name}`);
    const bytes = taken.bytes.slice();
    const oracle = parsed(c);
    assert.equal(oracle.result.kind, "record");
    if (oracle.result.kind !== "record") return;
    assertSameBytes(bytes, encoder.encode(oracle.result.text), c.name);
    assert.equal(taken.t, oracle.result.readingTime, `t of ${c.name}`);
    assert.deepEqual(skips, oracle.skips, `skips of ${c.name}`);
  });
}

Deno.test("the byte path writes what the parse path writes for 2,000 payloads of the benchmark's realistic mix, taking at least 99 %", () => {
  const messages = generateMessages(2_000, { mix: "realistic", seed: 1 });
  const declined = new Map<string, number>();
  let taken = 0;
  for (const [i, message] of messages.entries()) {
    const c: CorpusCase = {
      name: `realistic payload ${i} (${message.classes.join(", ")})`,
      topic: message.topic,
      payload: encoder.encode(message.payload),
      options: {},
      kind: "record",
    };
    assert.equal(assertSameOutcome(c).result.kind, "record", c.name);
    const written = recordBytes(c.payload, recordNodeId(c.topic), { onSkip: () => {} });
    if (written !== undefined) {
      taken++;
    } else {
      for (const name of message.classes) declined.set(name, (declined.get(name) ?? 0) + 1);
    }
  }
  const share = taken / messages.length;
  const classes = [...declined].map(([name, count]) => `${name} ${count}`).join(", ");
  assert.ok(
    share >= 0.99,
    `recordBytes() took ${(share * 100).toFixed(1)} % of ${messages.length} realistic payloads; ` +
      `declined, by class: ${classes}`,
  );
});

Deno.test("the corpus has every class it is meant to have, under unique names", () => {
  const names = CASES.map((c) => c.name);
  assert.equal(new Set(names).size, names.length, "unique names");
  for (
    const phrase of [
      "a 64-bit counter",
      "raw 2-byte UTF-8",
      "\\u-escaped",
      "NaN",
      "repeated vendor id",
      "without _vid",
      "status",
      "exactly the default MAX_PAYLOAD_BYTES",
      "integer-like keys",
      "surrogate",
      "Python's separators",
      "as t",
    ]
  ) {
    assert.ok(names.some((name) => name.includes(phrase)), phrase);
  }
  assert.ok(EXAMPLES.length >= 10, `${EXAMPLES.length} examples`);
  assert.ok(CASES.filter((c) => c.kind === "dead" && c.reason === "not_utf8").length >= 10);
});
