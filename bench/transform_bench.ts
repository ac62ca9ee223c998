/**
 * The transform against the floor of any JavaScript implementation: both
 * decode the same generated payload bytes; the floor then only parses and
 * stringifies them, the transform builds and stringifies the record.
 *
 * Run: `deno bench bench/transform_bench.ts`
 *
 * @module
 */

import { generateMessages } from "./generator.ts";
import { transform } from "../src/transform.ts";

/** Payloads per benchmark iteration; each iteration runs over all of them. */
export const PAYLOADS_PER_ITERATION = 500;

const encoder = new TextEncoder();
const messages = generateMessages(PAYLOADS_PER_ITERATION, { seed: 7 }).map((message) => ({
  topic: message.topic,
  bytes: encoder.encode(message.payload),
}));
const decoder = new TextDecoder("utf-8", { fatal: true });
// Consumes results so that the work cannot be optimised away.
let sink = 0;

Deno.bench({
  name: "JSON.parse + JSON.stringify (floor)",
  group: "transform",
  baseline: true,
  fn() {
    for (const { bytes } of messages) {
      sink += JSON.stringify(JSON.parse(decoder.decode(bytes))).length;
    }
  },
});

Deno.bench({
  name: "transform + JSON.stringify",
  group: "transform",
  fn() {
    for (const { topic, bytes } of messages) {
      const result = transform(topic, bytes);
      if (result.kind === "record") sink += JSON.stringify(result.record).length;
    }
  },
});

globalThis.addEventListener("unload", () => {
  if (sink < 0) console.log(sink);
});
