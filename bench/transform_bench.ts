/**
 * The transform against the floor of any JavaScript implementation: both
 * start from the same generated payload bytes; the floor decodes, parses
 * (with Python's `NaN` read as `null`, `floor_json.ts`) and stringifies
 * them, the transform turns them into the record's line as the agent
 * writes it (`transformToOutput()`: from the bytes where it can, else
 * through the parse path). One pair of benchmarks per set of payloads
 * (`transform_sets.ts`): the compact mix, the realistic mix, and each
 * class of the realistic mix.
 *
 * Run: `deno bench bench/transform_bench.ts`
 *
 * @module
 */

import { floorParse } from "./floor_json.ts";
import {
  benchName,
  COMPARE_BENCH,
  FLOOR_BENCH,
  TRANSFORM_BENCH,
  transformSets,
} from "./transform_sets.ts";
import {
  type TransformResult,
  transformToLine,
  transformToOutput,
  transformToText,
} from "../src/transform/transform.ts";

const sets = transformSets();
const decoder = new TextDecoder();
// Consumes results so that the work cannot be optimised away.
let sink = 0;

for (const { name, messages } of sets) {
  Deno.bench({
    name: benchName(FLOOR_BENCH, name),
    group: name,
    baseline: true,
    fn() {
      for (const { bytes } of messages) {
        sink += JSON.stringify(floorParse(decoder.decode(bytes))).length;
      }
    },
  });
  Deno.bench({
    name: benchName(TRANSFORM_BENCH, name),
    group: name,
    fn() {
      for (const { topic, bytes } of messages) {
        const result = transformToOutput(topic, bytes);
        if (result.kind === "record") sink += result.output.length;
      }
    },
  });
}

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
  for (const { name, messages } of sets.filter((set) => set.mix !== undefined)) {
    Deno.bench({
      name: benchName(COMPARE_BENCH, name),
      group: name,
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
}

globalThis.addEventListener("unload", () => {
  if (sink < 0) console.log(sink);
});
