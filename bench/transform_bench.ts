/**
 * The transform against the floor of any JavaScript implementation: both
 * start from the same generated payload bytes; the floor decodes, parses
 * and stringifies them, the transform turns them into the record's line as
 * the agent writes it (`transformToOutput()`: from the bytes where it can,
 * else through the parse path).
 *
 * Run: `deno bench bench/transform_bench.ts`
 *
 * @module
 */

import { generateMessages } from "./generator.ts";
import {
  type TransformResult,
  transformToLine,
  transformToOutput,
  transformToText,
} from "../src/transform/transform.ts";

/** Payloads per benchmark iteration; each iteration runs over all of them. */
export const PAYLOADS_PER_ITERATION = 500;
/** The benchmarks' names. */
export const FLOOR_BENCH = "JSON.parse + JSON.stringify (floor)";
export const TRANSFORM_BENCH = "transform to the record's line";
export const COMPARE_BENCH = "transform of --compare to the record's line";

const encoder = new TextEncoder();
const messages = generateMessages(PAYLOADS_PER_ITERATION, { seed: 7 }).map((message) => ({
  topic: message.topic,
  bytes: encoder.encode(message.payload),
}));
const decoder = new TextDecoder();
// Consumes results so that the work cannot be optimised away.
let sink = 0;

Deno.bench({
  name: FLOOR_BENCH,
  group: "transform",
  baseline: true,
  fn() {
    for (const { bytes } of messages) {
      sink += JSON.stringify(JSON.parse(decoder.decode(bytes))).length;
    }
  },
});

Deno.bench({
  name: TRANSFORM_BENCH,
  group: "transform",
  fn() {
    for (const { topic, bytes } of messages) {
      const result = transformToOutput(topic, bytes);
      if (result.kind === "record") sink += result.output.length;
    }
  },
});

// `deno task bench --compare REF` points this at REF's transform, the one
// its agent writes with: transformToOutput(), or in older ones
// transformToText(), transformToLine(), or transform(), whose record the
// agent then stringified.
const compareVariable = "BENCH_COMPARE_TRANSFORM";
const comparePath =
  Deno.permissions.querySync({ name: "env", variable: compareVariable }).state === "granted"
    ? Deno.env.get(compareVariable)
    : undefined;
if (comparePath) {
  const other = (await import(comparePath)) as {
    transform: (topic: string, bytes: Uint8Array) => TransformResult;
    transformToLine?: typeof transformToLine;
    transformToText?: typeof transformToText;
    transformToOutput?: typeof transformToOutput;
  };
  const toOutput = other.transformToOutput;
  const toText = other.transformToText;
  const toLine = other.transformToLine;
  Deno.bench({
    name: COMPARE_BENCH,
    group: "transform",
    fn() {
      for (const { topic, bytes } of messages) {
        if (toOutput) {
          const result = toOutput(topic, bytes);
          if (result.kind === "record") sink += result.output.length;
        } else if (toText) {
          const result = toText(topic, bytes);
          if (result.kind === "record") sink += result.text.length;
        } else if (toLine) {
          const result = toLine(topic, bytes);
          if (result.kind === "record") sink += result.line.length;
        } else {
          const result = other.transform(topic, bytes);
          if (result.kind === "record") sink += JSON.stringify(result.record).length;
        }
      }
    },
  });
}

globalThis.addEventListener("unload", () => {
  if (sink < 0) console.log(sink);
});
