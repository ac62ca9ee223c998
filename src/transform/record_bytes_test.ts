import assert from "node:assert/strict";
import fc from "fast-check";
import { recordBytes } from "./record_bytes.ts";
import { nodeIdOf, transformToOutput, transformToText } from "./transform.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const TOPIC = "a/b827eb000001/u/data";

// The line of the parse path, which recordBytes() must write byte for byte.
function parsedLine(topic: string, text: string): { line: string; t: number } {
  const result = transformToText(topic, encoder.encode(text));
  assert.equal(result.kind, "record", text);
  return { line: result.text, t: result.readingTime };
}

function written(text: string, topic = TOPIC): { line: string; t: number } | undefined {
  const result = recordBytes(encoder.encode(text), nodeIdOf(topic));
  return result === undefined ? undefined : { line: decoder.decode(result.bytes), t: result.t };
}

// ---------------------------------------------------------------------------
// Payloads of the kind dataloggers send, which the fast path must take.

/** A JSON value as text, and what it stands for. */
type Json = { text: string; value: unknown };

const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_. -]{0,11}$/);
const vid = fc.stringMatching(/^[A-Za-z_-][A-Za-z0-9_-]{0,9}$/);
const space = fc.constantFrom("", "", "", " ", "\n  ", "\t", "\r\n");

// Numbers also in the forms other writers use: Python's 230.0, fixed
// decimals with trailing zeros, exponents, -0, tiny fractions.
const numberText = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 }).map(String),
  fc.integer().map(String),
  fc.tuple(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), fc.integer({ min: 0, max: 6 }))
    .map(([x, digits]) => x.toFixed(digits)),
  fc.integer({ min: -100000, max: 100000 }).map((n) => `${n}.0`),
  fc.double({ noNaN: true, min: -1e15, max: 1e15 }).map((x) => x.toExponential()),
  fc.constantFrom("-0", "-0.0", "0.000001", "0.0000001", "1E2", "1e+2", "12.5e-1", "100e-2"),
  fc.bigInt({ min: -(2n ** 53n) + 1n, max: 2n ** 53n - 1n }).map(String),
);
const plainString = fc.stringMatching(/^[ -~]{0,16}$/).map((s) => JSON.stringify(s));
const textWithEscapes = fc.array(
  fc.constantFrom("a", "z", '"', "\\", "\n", "\r", "\t", "\b", "\f"),
  {
    maxLength: 8,
  },
).map((chars) => JSON.stringify(chars.join("")));
// Text as Python's json.dumps writes it (every character beyond ASCII as
// \uXXXX) and as PHP's json_encode does (every slash as \/).
const pythonString = fc.string({ unit: "binary", maxLength: 8 }).map((text) =>
  JSON.stringify(text).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  )
);
const phpString = fc.stringMatching(/^[a-z/:.]{0,12}$/).map((text) =>
  JSON.stringify(text).replaceAll("/", "\\/")
);
const reading = fc.oneof(
  { weight: 6, arbitrary: numberText },
  { weight: 2, arbitrary: plainString },
  { weight: 1, arbitrary: textWithEscapes },
  { weight: 1, arbitrary: pythonString },
  { weight: 1, arbitrary: phpString },
  { weight: 1, arbitrary: fc.constantFrom("true", "false", "null") },
);
const skipped = fc.oneof(
  reading,
  fc.constantFrom('{"a":[1,{"b":null}],"c":"d"}', "[]", "{}", '["x",2.50,-1e3]'),
);
const entry = fc.oneof(
  fc.tuple(plainString, fc.integer({ min: 0, max: 4 }), numberText).map(([c, l, v]) =>
    `{"c":${c},"l":${l},"v":[${v}]}`
  ),
  fc.constantFrom('"text"', "null", "[]", "{}", '[[1,2],{"x":{"y":true}}]', "3.10"),
);

interface Device {
  vid: string;
  readings: [string, string][];
  vidAt: number;
  status: string[] | undefined;
  extra: [string, string] | undefined;
}

const device: fc.Arbitrary<Device> = fc.record({
  vid,
  readings: fc.uniqueArray(fc.tuple(name, reading), {
    selector: ([key]) => key,
    maxLength: 12,
  }),
  vidAt: fc.nat(),
  status: fc.option(fc.array(entry, { maxLength: 3 }), { nil: undefined }),
  extra: fc.option(fc.tuple(fc.constantFrom("_d", "_type", "_"), skipped), { nil: undefined }),
});

const payload = fc.record({
  t: fc.oneof(
    fc.integer({ min: 0, max: 4_000_000_000 }).map(String),
    fc.double({ noNaN: true, min: 0, max: 253402300799 }).map(String),
    fc.constantFrom("1709288100.250", "1.7e9"),
  ),
  devices: fc.uniqueArray(device, { selector: (d) => d.vid, maxLength: 6 }),
  meta: fc.option(skipped, { nil: undefined }),
  rFirst: fc.boolean(),
  spaces: fc.array(space, { minLength: 64, maxLength: 64 }),
});

function payloadText(p: typeof payload extends fc.Arbitrary<infer T> ? T : never): string {
  let s = 0;
  const ws = () => p.spaces[s++ % p.spaces.length];
  const object = (pairs: [string, string][]) =>
    `{${ws()}${
      pairs.map(([k, v]) => `${JSON.stringify(k)}${ws()}:${ws()}${v}`).join(`,${ws()}`)
    }${ws()}}`;
  const devices = p.devices.map((d) => {
    const pairs: [string, string][] = [...d.readings];
    pairs.splice(d.vidAt % (pairs.length + 1), 0, ["_vid", JSON.stringify(d.vid)]);
    if (d.status !== undefined) pairs.push(["_s", `[${d.status.join(`,${ws()}`)}]`]);
    if (d.extra !== undefined) pairs.unshift(d.extra);
    return object(pairs);
  });
  const r: [string, string] = ["r", `[${ws()}${devices.join(`,${ws()}`)}${ws()}]`];
  const pairs: [string, string][] = p.rFirst ? [r, ["t", p.t]] : [["t", p.t], r];
  if (p.meta !== undefined) pairs.push(["m", p.meta]);
  return ws() + object(pairs) + ws();
}

Deno.test("recordBytes() writes the parse path's line byte for byte for 20,000 datalogger payloads, declining none", () => {
  let taken = 0;
  fc.assert(
    fc.property(payload, (p) => {
      const text = payloadText(p);
      const fast = written(text);
      assert.ok(fast !== undefined, `declined: ${text}`);
      assert.deepEqual(fast, parsedLine(TOPIC, text));
      taken++;
    }),
    { numRuns: 20_000, seed: 16 },
  );
  assert.equal(taken, 20_000);
});

// Bytes changed in such payloads: wherever the fast path still writes a
// line, the parse path must make a record with that very line.
const EDIT_BYTES = '{}[]:,"\\-+.eE0123456789 tfnulrs_v\u0001\u00e9';
const edit = fc.tuple(fc.nat(), fc.nat(), fc.constantFrom("replace", "insert", "delete"));

Deno.test("recordBytes() writes only what the parse path writes for 20,000 edited payloads", () => {
  let taken = 0;
  let changed = 0;
  fc.assert(
    fc.property(payload, fc.array(edit, { minLength: 1, maxLength: 3 }), (p, edits) => {
      let text = payloadText(p);
      for (const [at, pick, how] of edits) {
        const i = at % (text.length + 1);
        const char = EDIT_BYTES[pick % EDIT_BYTES.length];
        text = how === "insert"
          ? text.slice(0, i) + char + text.slice(i)
          : text.slice(0, i) + (how === "replace" ? char : "") + text.slice(i + 1);
      }
      const fast = written(text);
      if (fast === undefined) return;
      taken++;
      const parsed = transformToText(TOPIC, encoder.encode(text));
      assert.equal(parsed.kind, "record", text);
      assert.deepEqual(fast, { line: parsed.text, t: parsed.readingTime }, text);
      if (fast.line !== parsedLine(TOPIC, payloadText(p)).line) changed++;
    }),
    { numRuns: 20_000, seed: 17 },
  );
  // Both kinds happened: edits the fast path took, and ones that changed the record.
  assert.ok(taken > 1_000 && changed > 500, `${taken} taken, ${changed} changed`);
});

Deno.test("recordBytes() writes the record's node id and times as the parse path does", () => {
  for (const topic of ["a/b827eb000001/u/data", "a/b827eb000001/data", "site/7/readings"]) {
    for (const t of ["0", "1709288100", "1709288460.25", "1709288460.0004", "253402300799.999"]) {
      const text = `{"t":${t},"r":[{"_vid":"m","P":1}]}`;
      assert.deepEqual(written(text, topic), parsedLine(topic, text), `${topic} ${t}`);
    }
  }
  const quoted = 'a/node"with\\quotes/u/data';
  assert.deepEqual(written('{"t":1,"r":[]}', quoted), parsedLine(quoted, '{"t":1,"r":[]}'));
});

Deno.test("recordBytes() writes every escape as JSON.stringify writes its character", () => {
  const escapes = [
    "\\/", // PHP's slashes
    "\\u00b0C", // Python's ensure_ascii
    "\\u00B0",
    "\\u0041",
    "\\u20ac",
    "\\u2028",
    "\\ud83d\\ude00", // a pair: one character of four bytes
    "\\ud800", // lone surrogates stay escaped
    "\\udc00x",
    "\\ud800\\u0041",
    "\\u001f",
    "\\u0008\\u0009\\u000a\\u000c\\u000d",
    "\\u0022\\u005c",
    '\\"\\\\\\b\\f\\n\\r\\t',
  ];
  for (const escape of escapes) {
    const text = `{"t":0,"r":[{"_vid":"m","s":"a${escape}b","_s":[{"m":"${escape}"}]}]}`;
    const fast = written(text);
    assert.ok(fast !== undefined, escape);
    assert.deepEqual(fast, parsedLine(TOPIC, text), escape);
  }
});

Deno.test("recordBytes() writes the shortest form of every number, as JSON.stringify does", () => {
  const cases = [
    ["230.0", "230"],
    ["230.50", "230.5"],
    ["-0", "0"],
    ["-0.000", "0"],
    ["0.000001", "0.000001"],
    ["0.0000001", "1e-7"],
    ["12.5e-1", "1.25"],
    ["1.5E3", "1500"],
    ["1E2", "100"],
    ["0.30000000000000001", "0.3"],
    ["1234567890123456", "1234567890123456"],
    ["9007199254740991", "9007199254740991"],
  ];
  for (const [text, shortest] of cases) {
    assert.equal(
      written(`{"t":0,"r":[{"_vid":"m","v":${text}}]}`)?.line,
      `{"node_id":"b827eb000001","time":"1970-01-01T00:00:00+00:00","data":{"m":{"v":${shortest}}}}`,
      text,
    );
  }
});

// Each payload needs more than copying, or is no record at all: the fast
// path must leave it to the parse path, whatever that makes of it.
const DECLINED: [string, string][] = [
  ["a repeated payload key", '{"t":0,"t":1,"r":[]}'],
  ["an escape that is not JSON", '{"t":0,"r":[{"_vid":"m","s":"a\\xb"}]}'],
  ["a \\u escape of three digits", '{"t":0,"r":[{"_vid":"m","s":"\\u004"}]}'],
  ["a t beyond 2^53", '{"t":9007199254740993,"r":[]}'],
  ["no t", '{"r":[]}'],
  ["a negative t", '{"t":-1,"r":[]}'],
  ["a t after the year 9999", '{"t":253402300800,"r":[]}'],
  ["a t that is text", '{"t":"0","r":[]}'],
  ["no r", '{"t":0}'],
  ["an r that is not a list", '{"t":0,"r":{}}'],
  ["not an object", "[1]"],
  ["a trailing comma", '{"t":0,"r":[{"_vid":"m","P":1,}]}'],
  ["a leading zero", '{"t":0,"r":[{"_vid":"m","P":012}]}'],
  ["a sign before a literal in a skipped value", '{"t":0,"r":[],"m":-true}'],
  ["an unclosed string", '{"t":0,"r":[{"_vid":"m","s":"abc}]}'],
  ["a control character in a string", '{"t":0,"r":[{"_vid":"m","s":"a\u0001b"}]}'],
  ["a control character in a skipped \\u escape", '{"t":0,"r":[],"m":"\\u00\u00100"}'],
  ["text after the object", '{"t":0,"r":[]} x'],
  ["two objects", '{"t":0,"r":[]}{"t":0,"r":[]}'],
  ["a byte order mark", '\ufeff{"t":0,"r":[]}'],
  ["nothing", ""],
];

for (const [what, text] of DECLINED) {
  Deno.test(`recordBytes() leaves a payload with ${what} to the parse path`, () => {
    assert.equal(written(text), undefined);
    const bytes = encoder.encode(text);
    const output = transformToOutput(TOPIC, bytes);
    const parsed = transformToText(TOPIC, bytes);
    assert.deepEqual(
      output.kind === "record" ? { ...output, output: undefined, text: output.output } : output,
      parsed.kind === "record" ? { ...parsed, output: undefined } : parsed,
    );
  });
}

// A size that sets the buffers past those kept between payloads.
const LARGE_PAYLOAD = 128 * 1024;

Deno.test("recordBytes() takes payloads over 128 KiB, then a small one", () => {
  const readings = Array.from({ length: 12_000 }, (_, i) => `"k${i}":${i}.5`).join(",");
  const text = `{"t":0,"r":[{"_vid":"m",${readings}}]}`;
  assert.ok(encoder.encode(text).byteLength > LARGE_PAYLOAD);
  assert.deepEqual(written(text), parsedLine(TOPIC, text));
  const small = '{"t":0,"r":[{"_vid":"m","P":1}]}';
  assert.deepEqual(written(small), parsedLine(TOPIC, small));
});

Deno.test("recordBytes() takes 2,000 keys in a device, 2,000 devices and status objects of 500 keys", () => {
  const cells = Array.from({ length: 2_000 }, (_, i) => `"cell_V_${i}":3.31${i % 10}`);
  const alarms = Array.from({ length: 500 }, (_, i) => `"alarm_${i}":0`).join(",");
  const devices = Array.from({ length: 2_000 }, (_, i) => `{"_vid":"inv${i}","P":${i}}`);
  for (
    const text of [
      `{"t":0,"r":[{"_vid":"bms",${cells.join(",")}}]}`,
      `{"t":0,"r":[${devices.join(",")}]}`,
      `{"t":0,"r":[${
        Array.from({ length: 10 }, (_, d) => `{"_vid":"d${d}","_s":[{${alarms}}]}`).join(",")
      }]}`,
    ]
  ) {
    assert.deepEqual(written(text), parsedLine(TOPIC, text));
  }
});

Deno.test("recordBytes() tells 500 keys of one device apart, and a repeat among them", () => {
  const keys = Array.from({ length: 500 }, (_, i) => `"cell_V_${i}":${i}`);
  const text = `{"t":0,"r":[{"_vid":"bms",${keys.join(",")}}]}`;
  assert.deepEqual(written(text), parsedLine(TOPIC, text));
  const repeated = `{"t":0,"r":[{"_vid":"bms",${keys.join(",")},"cell_V_250":1}]}`;
  assert.deepEqual(written(repeated), parsedLine(TOPIC, repeated));
});

// A payload of the largest size taken: the buffers then have the size
// they keep, whatever ran before.
function pinBuffers(): void {
  const text = largest('{"t":0,"r":[{"_vid":"a","_s":["', '"]}]}');
  assert.equal(encoder.encode(text).byteLength, LARGE_PAYLOAD);
  assert.deepEqual(written(text), parsedLine(TOPIC, text));
}

// Pads `prefix` and `suffix` with x to the largest payload taken.
function largest(prefix: string, suffix: string): string {
  return prefix + "x".repeat(LARGE_PAYLOAD - prefix.length - suffix.length) + suffix;
}

Deno.test("recordBytes() writes every byte of readings that grow when written out (1e15)", () => {
  pinBuffers();
  const keys = [
    ..."!#$%&'()*+,-./:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^`abcdefghijklmnopqrstuvwxyz{|}~",
  ];
  const devices = Array.from(
    { length: 140 },
    (_, d) => `{"_vid":"v${d}",${keys.map((k) => `"${k}":1e15`).join(",")}}`,
  );
  const text = largest(`{"t":0,"r":[${devices.join(",")},{"_vid":"w","s":"`, '"}]}');
  assert.deepEqual(written(text), parsedLine(TOPIC, text));
});

Deno.test("recordBytes() writes every byte of status entries that grow when written out (1e15)", () => {
  pinBuffers();
  const text = largest(
    `{"t":0,"r":[{"_vid":"a","_s":[${Array(15000).fill("1e15").join(",")},"`,
    '"]}]}',
  );
  assert.deepEqual(written(text), parsedLine(TOPIC, text));
});

Deno.test("recordBytes() takes status objects after any number of payloads declined inside one", () => {
  const good = '{"t":0,"r":[{"_vid":"v","_s":[{"c":"x","l":0}]}]}';
  const keys = Array.from({ length: 10 }, (_, i) => `"k${i}":0`).join(",");
  const bad = `{"t":0,"r":[{"_vid":"v","_s":[{${keys},"k0":1}]}]}`;
  for (let i = 0; i < 30; i++) assert.equal(written(bad), undefined);
  assert.deepEqual(written(good), parsedLine(TOPIC, good));
});

// Keys of one length that differ only in two bytes near their end.
function alikeKeys(length: number, count: number): string[] {
  const printable = [
    ..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-./:;<=>?@[]^{|}~",
  ];
  const keys: string[] = [];
  for (const a of printable) {
    for (const b of printable) keys.push("a".repeat(length - 4) + a + b + "az");
  }
  return keys.slice(0, count);
}

Deno.test("recordBytes() tells apart keys, vendor ids and status keys that differ in two bytes", () => {
  const cases = [
    `{"t":0,"r":[{"_vid":"v",${alikeKeys(240, 500).map((k) => `"${k}":0`).join(",")}}]}`,
    `{"t":0,"r":[${alikeKeys(230, 500).map((k) => `{"_vid":"${k}"}`).join(",")}]}`,
    `{"t":0,"r":[{"_vid":"v","_s":[{${alikeKeys(204, 250).map((k) => `"${k}":0`).join(",")}}]}]}`,
  ];
  for (const text of cases) assert.deepEqual(written(text), parsedLine(TOPIC, text));
});

// Keys of the same hash: "Aa" and "BB" hash alike, so do strings made of
// them, after the same prefix.
function collidingKeys(count: number, prefix: string): string[] {
  return Array.from({ length: count }, (_, i) => {
    let key = prefix;
    for (let bit = 0; bit < 9; bit++) key += (i >> bit) & 1 ? "BB" : "Aa";
    return key;
  });
}

// Each would cost the pass more than work in proportion to its size: the
// first two go to the parse path, the others are merged.
const COSTLY: [string, string][] = [
  [
    "13,000 payload keys",
    `{${
      Array.from({ length: 13_000 }, (_, i) => `"k${i.toString(36)}":0`).join(",")
    },"t":0,"r":[]}`,
  ],
  [
    "a status object of 250 keys of one hash",
    `{"t":0,"r":[{"_vid":"v","_s":[{${
      collidingKeys(250, "s".repeat(200)).map((k) => `"${k}":0`).join(",")
    }}]}]}`,
  ],
];

const COSTLY_MERGED: [string, string][] = [
  [
    "500 device keys of one hash",
    `{"t":0,"r":[{"_vid":"v",${
      collidingKeys(500, "k".repeat(200)).map((k) => `"${k}":0`).join(",")
    }}]}`,
  ],
  [
    "500 vendor ids of one hash",
    `{"t":0,"r":[${collidingKeys(500, "v".repeat(200)).map((k) => `{"_vid":"${k}"}`).join(",")}]}`,
  ],
];

for (const [what, text] of COSTLY_MERGED) {
  Deno.test(`recordBytes() merges a payload of ${what} as the parse path does`, () => {
    assert.deepEqual(written(text), parsedLine(TOPIC, text));
  });
}

for (const [what, text] of COSTLY) {
  Deno.test(`recordBytes() leaves a payload of ${what} to the parse path`, () => {
    assert.ok(encoder.encode(text).byteLength <= LARGE_PAYLOAD);
    assert.equal(written(text), undefined);
    const output = transformToOutput(TOPIC, encoder.encode(text));
    assert.equal(output.kind === "record" && output.output, parsedLine(TOPIC, text).line);
  });
}
