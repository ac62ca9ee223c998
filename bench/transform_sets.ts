/**
 * The payloads of the transform micro-benchmark (`transform_bench.ts`),
 * and the names of its benchmarks, for the bench and for the harness that
 * reads its results.
 *
 * @module
 */

import { generateMessages, type Mix, PAYLOAD_CLASSES, type PayloadClass } from "./generator.ts";

/** Payloads per iteration of each mix's benchmarks. */
export const MIX_PAYLOADS = 500;
/** Realistic payloads the classes' sets are drawn from. */
export const CLASS_SAMPLE = 4000;
/** Payloads per iteration of a class's benchmarks, at most. */
export const CLASS_PAYLOADS = 200;
/** The seed of every set; the compact mix's 500 are those of earlier runs. */
export const SEED = 7;

/** The benchmarks' names, before the set's. */
export const FLOOR_BENCH = "JSON.parse + JSON.stringify (floor)";
export const TRANSFORM_BENCH = "transform to the record's line";
export const COMPARE_BENCH = "transform of --compare to the record's line";

/** Payloads that one pair of benchmarks runs over. */
export interface PayloadSet {
  /** `compact mix`, `realistic mix`, or a payload class. */
  name: string;
  /** The mix, for a mix's set; the class, for a class's. */
  mix?: Mix;
  class?: PayloadClass;
  /** For a class: how many of the {@linkcode CLASS_SAMPLE} realistic payloads are of it. */
  inSample?: number;
  messages: { topic: string; bytes: Uint8Array }[];
}

/** The name of benchmark `bench` (e.g. {@linkcode FLOOR_BENCH}) over set `set`. */
export function benchName(bench: string, set: string): string {
  return `${bench} [${set}]`;
}

/**
 * The sets: the compact mix, the realistic mix, and each class of the
 * realistic mix that its sample holds. The same every time.
 */
export function transformSets(): PayloadSet[] {
  const encoder = new TextEncoder();
  const encode = (message: { topic: string; payload: string }) => ({
    topic: message.topic,
    bytes: encoder.encode(message.payload),
  });
  const compact = generateMessages(MIX_PAYLOADS, { seed: SEED, mix: "compact" });
  const realistic = generateMessages(CLASS_SAMPLE, { seed: SEED, mix: "realistic" });
  const sets: PayloadSet[] = [
    { name: "compact mix", mix: "compact", messages: compact.map(encode) },
    {
      name: "realistic mix",
      mix: "realistic",
      messages: realistic.slice(0, MIX_PAYLOADS).map(encode),
    },
  ];
  for (const payloadClass of PAYLOAD_CLASSES) {
    const members = realistic.filter((message) => message.classes.includes(payloadClass));
    if (members.length === 0) continue;
    sets.push({
      name: payloadClass,
      class: payloadClass,
      inSample: members.length,
      messages: members.slice(0, CLASS_PAYLOADS).map(encode),
    });
  }
  return sets;
}
