/**
 * Property-based fuzzing of the transform: generated payloads with a model
 * of what their record must hold, mutations of the contract's examples,
 * random bytes and random JSON. Whatever comes in, nothing throws, every
 * output is one line of valid JSON, and every record keeps the contract.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { deadLetterEntry, TRUNCATED_PAYLOAD_BYTES } from "../output/dead_letter.ts";
import { isExactInteger } from "./exact_integer.ts";
import { parseStrictJson } from "./strict_json.ts";
import { MAX_STATUS_DEPTH, SKIP_REASONS, type SkipReason } from "./device_walk.ts";
import { DEAD_LETTER_REASONS } from "./payload.ts";
import { integerOf, millisecondsOf } from "../../tests/_support/exact_decimal.ts";
import {
  transform,
  type TransformResult,
  transformToLine,
  transformToOutput,
} from "./transform.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });
const fixtures = new URL("../../tests/fixtures/examples/", import.meta.url);
const EXAMPLES = [...Deno.readDirSync(fixtures)]
  .filter((entry) => entry.name.endsWith(".payload.json"))
  .map((entry) => Deno.readFileSync(new URL(entry.name, fixtures)));

const AMMP_DATA_TOPIC = /^a\/[^/]*\/(u\/)?data$/;
const RFC_3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?\+00:00$/;
const KEY_ORDER = ["node_id", "time", "data", "status"];
const LAST_INSTANT_MS = 253402300799999;

/** How many payloads went through `transform()` in this file. */
let fed = 0;

interface Outcome {
  result: TransformResult;
  skipped: SkipReason[];
  /** The record as written, parsed back; undefined for other outcomes. */
  written?: Record<string, unknown>;
}

/**
 * Runs one payload and checks what holds for every input. Returns the
 * outcome for checks that know more about the input.
 */
function feed(topic: string, payload: Uint8Array, maxPayloadBytes?: number): Outcome {
  fed++;
  const skipped: SkipReason[] = [];
  const result = transform(topic, payload, {
    maxPayloadBytes,
    onSkip: (reason) => skipped.push(reason),
  });
  for (const reason of skipped) assert.ok(SKIP_REASONS.includes(reason), reason);
  // No input may reach Object.prototype.
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTOTYPE_NAMES);
  assertSameLine(topic, payload, maxPayloadBytes, result, skipped);

  switch (result.kind) {
    case "ignored":
      assert.ok(topic.startsWith("a/") && !AMMP_DATA_TOPIC.test(topic), topic);
      return { result, skipped };
    case "dead": {
      assert.ok(DEAD_LETTER_REASONS.includes(result.reason), result.reason);
      assert.equal(typeof result.detail, "string");
      assert.ok(result.detail.length > 0);
      const entry = deadLetterEntry({ ...result, topic, payload, receivedAt: new Date(0) });
      const line = JSON.stringify(entry);
      assert.ok(!line.includes("\n"));
      const parsed = JSON.parse(line);
      assert.equal(parsed.size, payload.byteLength);
      const kept = Buffer.from(parsed.payload_base64, "base64");
      assert.equal(parsed.truncated, kept.byteLength < payload.byteLength);
      assert.ok(kept.byteLength <= Math.max(payload.byteLength, 0));
      if (parsed.truncated) {
        assert.equal(result.reason, "too_large");
        assert.equal(kept.byteLength, TRUNCATED_PAYLOAD_BYTES);
      }
      assert.deepEqual(new Uint8Array(kept), payload.subarray(0, kept.byteLength));
      return { result, skipped };
    }
    case "record": {
      const line = JSON.stringify(result.record);
      assert.ok(!line.includes("\n"), "one line");
      // Valid UTF-8 (no lone surrogates leak into the bytes) and valid JSON
      // that reads back to itself: all but the double of a number that is
      // no integer, 1e21 or more, which JSON spells 1e+21 and which reads
      // back as the integer it is. (Not read back with JSON.parse: V8 can
      // misread escaped keys, see strict_json.ts.)
      JSON.parse(strictDecoder.decode(encoder.encode(line)));
      const again = JSON.stringify(parseStrictJson(line));
      if (again !== line) assert.match(line, /\de\+\d/, line);
      assert.equal(JSON.stringify(parseStrictJson(again)), again);
      const written = result.record as unknown as Record<string, unknown>;
      checkRecord(topic, written, result.readingTime);
      return { result, skipped, written };
    }
  }
}

const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();

// The agent writes records with transformToOutput(), which takes
// transformToLine() where it does not write the bytes itself: both must
// give the same outcome, the record's JSON as its line, and the same skips.
function assertSameLine(
  topic: string,
  payload: Uint8Array,
  maxPayloadBytes: number | undefined,
  result: TransformResult,
  skipped: SkipReason[],
): void {
  const lineSkipped: SkipReason[] = [];
  const lined = transformToLine(topic, payload, {
    maxPayloadBytes,
    onSkip: (reason) => lineSkipped.push(reason),
  });
  assert.deepEqual(lineSkipped, skipped);
  assert.deepEqual(
    lined,
    result.kind === "record"
      ? { kind: "record", line: JSON.stringify(result.record), readingTime: result.readingTime }
      : result,
  );
  const outputSkipped: SkipReason[] = [];
  const output = transformToOutput(topic, payload, {
    maxPayloadBytes,
    onSkip: (reason) => outputSkipped.push(reason),
  });
  assert.deepEqual(outputSkipped, skipped);
  assert.deepEqual(
    output.kind === "record"
      ? {
        kind: "record",
        line: typeof output.output === "string" ? output.output : decoder.decode(output.output),
        readingTime: output.readingTime,
      }
      : output,
    lined,
  );
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTOTYPE_NAMES);
}

// The contract's rules, checked on the record as a consumer reads it.
function checkRecord(topic: string, record: Record<string, unknown>, t: number): void {
  assert.ok(!topic.startsWith("a/") || AMMP_DATA_TOPIC.test(topic), `data topic ${topic}`);
  const keys = Object.keys(record);
  assert.deepEqual(keys, KEY_ORDER.filter((key) => key in record), "key order");
  const node = /^a\/([^/]+)\//.exec(topic)?.[1];
  assert.equal(record.node_id, node);

  assert.equal(typeof record.time, "string");
  const time = record.time as string;
  assert.match(time, RFC_3339_UTC);
  assert.ok(Number.isFinite(t) && t >= 0 && Date.parse(time) <= LAST_INSTANT_MS, `t ${t}`);
  // The time is rounded from the payload's digits, which t's double is
  // within half its ulp of (the generators below check the very digits).
  assert.ok(Math.abs(Date.parse(time) - t * 1000) <= 0.54, `${time} is ${t} s`);

  const data = record.data as Record<string, Record<string, unknown>>;
  assert.ok(isPlainObject(data), "data is an object");
  for (const [vid, readings] of Object.entries(data)) {
    assert.ok(vid.length > 0, "vendor ids are non-empty");
    assert.ok(isPlainObject(readings), `readings of ${vid}`);
    for (const [field, value] of Object.entries(readings)) {
      assert.ok(!field.startsWith("_"), `no _ keys in data: ${field}`);
      assert.ok(value !== null, "no nulls");
      assert.ok(
        (typeof value === "number" && Number.isFinite(value)) || typeof value === "string" ||
          typeof value === "boolean" || isBeyondDouble(value),
        `reading ${field} is a number, string or boolean`,
      );
    }
  }
  if ("status" in record) {
    const status = record.status as Record<string, unknown[]>;
    assert.ok(isPlainObject(status));
    assert.ok(Object.keys(status).length > 0, "status is absent rather than empty");
    for (const [vid, entries] of Object.entries(status)) {
      assert.ok(vid.length > 0);
      assert.ok(Object.hasOwn(data, vid), "a status belongs to a device in data");
      assert.ok(Array.isArray(entries) && entries.length > 0);
    }
  }
}

// An integer kept with every digit: one that a double cannot hold.
function isBeyondDouble(value: unknown): boolean {
  return isExactInteger(value) && /^-?[1-9]\d*$/.test(value.rawJSON) &&
    !Number.isSafeInteger(Number(value.rawJSON));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------
// Generated payloads with a model of their record. The JSON is written as
// text from key/value pairs, so that "__proto__" stays a plain key, keys
// may repeat, and values may be Python's bare NaN and Infinity.

/** A JSON value as text, and what JSON.parse makes of it. */
type Json = { text: string; value: unknown; kind: "value" | "nonfinite" };

const nastyKey = fc.constantFrom(
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "_vid",
  "_s",
  "_d",
  "_",
  "P_total",
  "0",
  "1e3",
  "",
  " ",
  "\u0000",
  "\n",
  "\u2028",
  "\ud800",
  "é",
  "🔋",
);
const key = fc.oneof(
  { weight: 3, arbitrary: nastyKey },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 8 }) },
);

// Small JSON values, cheaper to generate than fc.jsonValue().
const primitive = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 6 }),
  fc.boolean(),
  fc.constant(null),
);
const smallJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: primitive },
  { weight: 1, arbitrary: fc.array(primitive, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(key, primitive, { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.array(fc.array(primitive, { maxLength: 2 }), { maxLength: 2 }) },
);

function json(value: unknown): Json {
  const text = JSON.stringify(value);
  return { text, value: JSON.parse(text), kind: "value" };
}

function nestedArray(levels: number): unknown[] {
  let value: unknown[] = [];
  for (let i = 1; i < levels; i++) value = [value];
  return value;
}

const deepArray = fc.integer({ min: 1, max: 300 }).map((n): Json => ({
  text: "[".repeat(n) + "]".repeat(n),
  value: nestedArray(n),
  kind: "value",
}));
const nonFinite = fc.constantFrom("NaN", "Infinity", "-Infinity").map((text): Json => ({
  text,
  value: null,
  kind: "nonfinite",
}));

// Integers around 2^53 and 2^64 and far beyond, written as digits.
const bigInteger = fc.oneof(
  fc.bigInt({ min: -(2n ** 54n), max: 2n ** 54n }),
  fc.bigInt({ min: -(2n ** 65n), max: 2n ** 65n }),
  fc.bigInt({ min: -(10n ** 400n), max: 10n ** 400n }),
).map((n): Json => ({ text: String(n), value: Number(n), kind: "value" }));

const readingValue: fc.Arbitrary<Json> = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(json),
  fc.integer().map(json),
  bigInteger,
  fc.string({ maxLength: 20 }).map(json),
  fc.string({ unit: "binary", maxLength: 20 }).map(json),
  fc.boolean().map(json),
  fc.constant(null).map(json),
  fc.constantFrom("1e999", "-1e999").map((text): Json => ({
    text,
    value: Number(text),
    kind: "value",
  })),
  nonFinite,
  smallJson.map(json),
  deepArray,
);

const statusValue: fc.Arbitrary<Json> = fc.oneof(
  fc.array(fc.record({ c: fc.string({ maxLength: 20 }), l: fc.integer({ min: 0, max: 4 }) }), {
    maxLength: 4,
  }).map(json),
  fc.tuple(bigInteger, bigInteger).map(([l, v]): Json => ({
    text: `[{"c":"x","l":${l.text},"v":[${v.text}]}]`,
    value: [{ c: "x", l: l.value, v: [v.value] }],
    kind: "value",
  })),
  smallJson.map(json),
  fc.integer({ min: MAX_STATUS_DEPTH - 2, max: MAX_STATUS_DEPTH + 200 }).map((n) =>
    json([{ c: "ok", l: 0 }, nestedArray(n)])
  ),
);

const vidValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 4, arbitrary: key.map(json) },
  { weight: 1, arbitrary: fc.constantFrom(null, 0, 1, true, "", [], {}).map(json) },
);

type Pair = [string, Json];

const device: fc.Arbitrary<Json | Pair[]> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.tuple(
      fc.option(vidValue, { nil: undefined }),
      fc.array(fc.tuple(key, readingValue), { maxLength: 6 }),
      fc.option(statusValue, { nil: undefined }),
      fc.option(fc.tuple(key, readingValue), { nil: undefined }),
    ).map(([vid, fields, status, late]) => {
      const pairs: Pair[] = [];
      if (vid !== undefined) pairs.push(["_vid", vid]);
      pairs.push(...fields);
      if (status !== undefined) pairs.push(["_s", status]);
      if (late !== undefined) pairs.push(late);
      return pairs;
    }),
  },
  {
    weight: 1,
    // Anything but an object: not a device.
    arbitrary: smallJson.filter((v) => !isPlainObject(v)).map(json),
  },
);

const tValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 4_000_000_000 }).map(json) },
  { weight: 2, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map(json) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(0, -1, 253402300799, 253402300799.9994, 253402300800).map(json),
  },
  { weight: 1, arbitrary: smallJson.map(json) },
  { weight: 1, arbitrary: nonFinite },
);

const payloadArbitrary = fc.record({
  t: fc.option(tValue, { nil: undefined }),
  r: fc.option(
    fc.oneof(
      { weight: 8, arbitrary: fc.array(device, { maxLength: 8 }) },
      {
        weight: 1,
        arbitrary: smallJson.filter((v) => !Array.isArray(v)).map(json),
      },
    ),
    { nil: undefined },
  ),
  extra: fc.array(fc.tuple(key, readingValue), { maxLength: 3 }),
  order: fc.boolean(),
});

type Payload = typeof payloadArbitrary extends fc.Arbitrary<infer T> ? T : never;

function pairsText(pairs: Pair[]): string {
  return `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${v.text}`).join(",")}}`;
}

function payloadText(payload: Payload): string {
  const pairs: Pair[] = [];
  const r = payload.r === undefined ? undefined : Array.isArray(payload.r)
    ? {
      text: `[${payload.r.map((d) => Array.isArray(d) ? pairsText(d) : d.text).join(",")}]`,
      value: payload.r,
      kind: "value" as const,
    }
    : payload.r;
  if (payload.t !== undefined) pairs.push(["t", payload.t]);
  if (r !== undefined) pairs.push(["r", r]);
  pairs.push(...payload.extra.filter(([k]) => k !== "t" && k !== "r"));
  if (payload.order) pairs.reverse();
  return pairsText(pairs);
}

// What JSON.parse makes of a device's pairs: the last of a repeated key wins.
function lastValues(pairs: Pair[]): Map<string, Json> {
  const values = new Map<string, Json>();
  for (const [k, v] of pairs) values.set(k, v);
  return values;
}

// How many levels of objects and arrays a parsed value nests.
function depthOf(value: unknown): number {
  if (typeof value !== "object" || value === null) return 0;
  return 1 + Math.max(0, ...Object.values(value).map(depthOf));
}

/** The record's `data` and status vids the model expects, or the dead-letter reason. */
function model(
  payload: Payload,
): { data: Record<string, Record<string, unknown>>; status: Set<string> } | string {
  const t = payload.t;
  if (t === undefined || t.kind === "nonfinite") return "invalid_t";
  if (typeof t.value !== "number" || t.value < 0 || millisecondsOf(t.text) > LAST_INSTANT_MS) {
    return "invalid_t";
  }
  if (!Array.isArray(payload.r)) return "invalid_r";
  const data: Record<string, Record<string, unknown>> = Object.create(null);
  const status = new Set<string>();
  for (const d of payload.r) {
    if (!Array.isArray(d)) continue; // not a device object: skipped
    const values = lastValues(d);
    const vid = values.get("_vid")?.value;
    if (typeof vid !== "string" || vid === "") continue;
    const readings = data[vid] ??= Object.create(null);
    for (const [k, v] of values) {
      if (k.startsWith("_")) continue;
      const value = v.value;
      // An integer beyond 2^53, in any spelling: every digit, up to a bound.
      const digits = typeof value === "number" && !(value < 2 ** 53 && value > -(2 ** 53))
        ? integerOf(v.text, true)
        : undefined;
      if (digits !== undefined) {
        readings[k] = { digits };
      } else if (
        (typeof value === "number" && Number.isFinite(value)) || typeof value === "string" ||
        typeof value === "boolean"
      ) {
        readings[k] = value;
      }
    }
    const s = values.get("_s")?.value;
    if (Array.isArray(s) && s.some((entry) => depthOf(entry) <= MAX_STATUS_DEPTH)) {
      status.add(vid);
    }
  }
  return { data, status };
}

// Plain objects for comparison with what a consumer parses; an integer
// beyond 2^53 as its digits.
function plain(data: Record<string, Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(data).map((
      [vid, readings],
    ) => [
      vid,
      Object.fromEntries(
        Object.entries(readings).map((
          [k, v],
        ) => [k, isExactInteger(v) ? { digits: v.rawJSON } : v]),
      ),
    ]),
  );
}

const topic = fc.oneof(
  { weight: 6, arbitrary: fc.constant("a/b827eb000001/u/data") },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "a/b827eb000001/data",
      "site/7/data",
      "a/__proto__/u/data",
      "a/constructor/data",
      "a//u/data",
      "a/x/u/meta/boot_time",
      "a/x/bridge_state",
      "data",
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);

Deno.test("transform() turns 40,000 generated payloads into what a model of the contract expects", () => {
  fc.assert(
    fc.property(payloadArbitrary, topic, (payload, topicName) => {
      const text = payloadText(payload);
      const outcome = feed(topicName, encoder.encode(text), 16 * 1024 * 1024);
      if (outcome.result.kind === "ignored") return;
      const expected = model(payload);
      if (typeof expected === "string") {
        assert.equal(outcome.result.kind, "dead", text);
        assert.equal((outcome.result as { reason: string }).reason, expected, text);
        return;
      }
      assert.equal(outcome.result.kind, "record", text);
      const written = outcome.written!;
      assert.deepEqual(plain(written.data as typeof expected.data), plain(expected.data), text);
      assert.deepEqual(
        new Set(Object.keys((written.status ?? {}) as object)),
        expected.status,
        text,
      );
    }),
    { numRuns: 40_000 },
  );
});

// ---------------------------------------------------------------------------
// Mutations of the contract's examples: bytes flipped, cut, repeated, and
// spliced with fragments that break parsers.

const FRAGMENTS = [
  '"__proto__"',
  '"constructor"',
  '"prototype"',
  '{"__proto__":{"polluted":1}}',
  '{"_vid":',
  '"_s":',
  "NaN",
  "-Infinity",
  "1e999",
  "null",
  "[".repeat(64),
  "]",
  "}",
  ",",
  '"',
  "\\u0000",
  "\\ud800",
  '"\u0000\u001f\u2028"',
].map((text) => encoder.encode(text)).concat([
  new Uint8Array([0xff]),
  new Uint8Array([0xc0, 0xaf]),
  new Uint8Array([0xed, 0xa0, 0x80]),
  new Uint8Array([0xf0, 0x9f, 0x94]),
  new Uint8Array([0xef, 0xbb, 0xbf]),
  new Uint8Array([0x00]),
]);

type Mutation =
  | { op: "flip"; at: number; bit: number }
  | { op: "set"; at: number; byte: number }
  | { op: "insert"; at: number; bytes: Uint8Array }
  | { op: "delete"; at: number; length: number }
  | { op: "repeat"; at: number; length: number; times: number }
  | { op: "truncate"; at: number };

// The arbitrary for a mutation's name.
function op<T extends Mutation["op"]>(name: T): fc.Arbitrary<T> {
  return fc.constant(name);
}

const position = fc.double({ min: 0, max: 1, noNaN: true });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: op("flip"), at: position, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: op("set"), at: position, byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    op: op("insert"),
    at: position,
    bytes: fc.oneof(fc.constantFrom(...FRAGMENTS), fc.uint8Array({ maxLength: 8 })),
  }),
  fc.record({ op: op("delete"), at: position, length: fc.integer({ min: 1, max: 16 }) }),
  fc.record({
    op: op("repeat"),
    at: position,
    length: fc.integer({ min: 1, max: 64 }),
    times: fc.integer({ min: 2, max: 50 }),
  }),
  fc.record({ op: op("truncate"), at: position }),
);

function mutate(bytes: Uint8Array, mutations: Mutation[]): Uint8Array<ArrayBuffer> {
  let out: Uint8Array<ArrayBuffer> = new Uint8Array(bytes);
  for (const m of mutations) {
    const at = Math.floor(m.at * out.length);
    switch (m.op) {
      case "flip":
        if (out.length > 0) out[Math.min(at, out.length - 1)] ^= 1 << m.bit;
        break;
      case "set":
        if (out.length > 0) out[Math.min(at, out.length - 1)] = m.byte;
        break;
      case "insert":
        out = concat(out.subarray(0, at), m.bytes, out.subarray(at));
        break;
      case "delete":
        out = concat(out.subarray(0, at), out.subarray(at + m.length));
        break;
      case "repeat": {
        const part = out.subarray(at, at + m.length);
        out = concat(out.subarray(0, at), ...Array(m.times).fill(part), out.subarray(at));
        break;
      }
      case "truncate":
        out = out.slice(0, at);
        break;
    }
  }
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

Deno.test("transform() survives 40,000 mutations of the contract's examples", () => {
  assert.ok(EXAMPLES.length >= 16);
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: EXAMPLES.length - 1 }),
      fc.array(mutation, { minLength: 1, maxLength: 8 }),
      topic,
      fc.option(fc.integer({ min: 64, max: 4096 }), { nil: undefined }),
      (example, mutations, topicName, limit) => {
        feed(topicName, mutate(EXAMPLES[example], mutations), limit);
      },
    ),
    { numRuns: 40_000 },
  );
});

Deno.test("transform() survives 10,000 random byte strings and 10,000 random JSON documents", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2048 }), topic, (bytes, topicName) => {
      feed(topicName, bytes);
    }),
    { numRuns: 10_000 },
  );
  fc.assert(
    fc.property(
      fc.oneof(
        fc.jsonValue({ stringUnit: "binary" }),
        fc.record({ t: fc.jsonValue({ maxDepth: 1 }), r: fc.jsonValue() }),
        fc.record({ t: fc.nat(), r: fc.array(fc.jsonValue({ stringUnit: "binary" })) }),
      ),
      (value) => {
        feed("a/b827eb000001/u/data", encoder.encode(JSON.stringify(value) ?? "null"));
      },
    ),
    { numRuns: 10_000 },
  );
});

// ---------------------------------------------------------------------------
// The last digits: times a hair from half a millisecond, and integers long
// or oddly spelled, which every path must read from their digits.

const digitRun = (min: number, max: number) =>
  fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));

// A decimal's digits (one before the point) spelled with its point moved
// `shift` places and the exponent that moves it back, as writers do.
function spelled(int: string, frac: string, shift: number, e: string, sign: string): string {
  if (shift === 0 && e === "") return int + (frac === "" ? "" : "." + frac);
  const all = int + frac;
  const point = int.length - shift;
  const head = point <= 0 ? "0" : all.slice(0, Math.min(point, all.length)).padEnd(point, "0");
  const tail = point <= 0 ? "0".repeat(-point) + all : all.slice(point);
  return head + (tail === "" ? "" : "." + tail) + e + sign + (shift === 0 ? "" : String(shift));
}

// Seconds whose fraction ends a hair from half a millisecond, or on it.
const nearHalf = fc.tuple(
  fc.integer({ min: 0, max: 253402300799 }),
  fc.integer({ min: 0, max: 999 }),
  fc.oneof(
    fc.constant("5"),
    fc.integer({ min: 1, max: 20 }).map((n) => "4" + "9".repeat(n)),
    fc.integer({ min: 1, max: 20 }).map((n) => "5" + "0".repeat(n) + "1"),
    fc.constant("4"),
    digitRun(1, 12),
  ),
  fc.integer({ min: -3, max: 14 }),
  fc.constantFrom("e", "E", "e+", "e-"),
).map(([seconds, ms, tail, shift, e]) => {
  const frac = String(ms).padStart(3, "0") + tail;
  return e === "e-" || shift <= 0
    ? spelled(String(seconds), frac, 0, "", "")
    : spelled(String(seconds), frac, shift, e.slice(0, 1), e.slice(1));
});

Deno.test("every path rounds 20,000 times near half a millisecond from their digits", () => {
  fc.assert(
    fc.property(nearHalf, fc.boolean(), (t, device) => {
      const text = `{"t":${t},"r":[${device ? '{"_vid":"m","P":1}' : ""}]}`;
      const outcome = feed("a/b827eb000001/u/data", encoder.encode(text));
      const ms = millisecondsOf(t);
      if (ms > LAST_INSTANT_MS) {
        assert.equal(outcome.result.kind === "dead" && outcome.result.reason, "invalid_t", text);
        return;
      }
      assert.equal(outcome.result.kind, "record", text);
      assert.equal(Date.parse(outcome.written!.time as string), ms, text);
    }),
    { numRuns: 20_000 },
  );
});

// An integer of up to 400 digits, spelled plainly, with a fraction of
// zeros, or with its point moved and an exponent; sometimes a fraction
// that is not zero, making it no integer.
const oddNumber = fc.tuple(
  fc.oneof(digitRun(1, 20), digitRun(15, 25), digitRun(300, 400)),
  fc.constantFrom("", "-"),
  fc.oneof(fc.constant(""), fc.integer({ min: 1, max: 4 }).map((n) => "0".repeat(n))),
  fc.oneof(fc.constant(""), fc.constantFrom("5", "0001")),
  fc.integer({ min: -2, max: 40 }),
  fc.constantFrom("e", "E", "e+", "E+"),
).map(([digits, sign, zeros, fraction, shift, e]) => {
  const int = digits.replace(/^0+(?=\d)/, "");
  const frac = zeros + fraction;
  const body = shift <= 0
    ? spelled(int, frac, 0, "", "")
    : spelled(int, frac, shift, e.slice(0, 1), e.slice(1));
  return sign + body;
});

Deno.test("every path writes 20,000 long and oddly spelled integers with every digit", () => {
  fc.assert(
    fc.property(oddNumber, (number) => {
      const text = `{"t":0,"r":[{"_vid":"m","v":${number},"_s":[${number}]}]}`;
      const outcome = feed("a/b827eb000001/u/data", encoder.encode(text));
      assert.equal(outcome.result.kind, "record", text);
      const line = JSON.stringify((outcome.result as { record: unknown }).record);
      const digits = integerOf(number, true);
      const double = Number(number);
      const written = digits ?? (Number.isFinite(double) ? JSON.stringify(double) : undefined);
      const data = written === undefined ? "{}" : `{"v":${written}}`;
      assert.equal(
        line,
        '{"node_id":"b827eb000001","time":"1970-01-01T00:00:00+00:00",' +
          `"data":{"m":${data}},"status":{"m":[${written ?? "null"}]}}`,
        text,
      );
    }),
    { numRuns: 20_000 },
  );
});

Deno.test("the fuzz tests above fed at least 140,000 payloads", () => {
  assert.ok(fed >= 140_000, `fed ${fed}`);
});
