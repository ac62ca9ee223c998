import assert from "node:assert/strict";
import { deadLetterEntry, TRUNCATED_PAYLOAD_BYTES } from "../output/dead_letter.ts";
import { MAX_STATUS_DEPTH, type SkipReason } from "./device_walk.ts";
import { transform, type TransformResult, transformToLine } from "./transform.ts";

const encoder = new TextEncoder();
const TOPIC = "a/b827eb000001/u/data";
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();

interface Run {
  result: TransformResult;
  skipped: SkipReason[];
  /** The stdout line, for a record. */
  line?: string;
}

// Transforms and writes as the agent does; checks that nothing leaked onto
// Object.prototype and that a record's line is one line of valid JSON.
function run(payload: string | Uint8Array, maxPayloadBytes = 64 * 1024 * 1024): Run {
  const skipped: SkipReason[] = [];
  const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
  const result = transform(TOPIC, bytes, {
    maxPayloadBytes,
    onSkip: (reason) => skipped.push(reason),
  });
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTOTYPE_NAMES);
  // The agent writes records with transformToLine(): the same outcome and skips.
  const lineSkipped: SkipReason[] = [];
  const lined = transformToLine(TOPIC, bytes, {
    maxPayloadBytes,
    onSkip: (reason) => lineSkipped.push(reason),
  });
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTOTYPE_NAMES);
  assert.deepEqual(lineSkipped, skipped);
  if (result.kind !== "record") {
    assert.deepEqual(lined, result);
    return { result, skipped };
  }
  const line = JSON.stringify(result.record);
  assert.equal(lined.kind === "record" ? lined.line : undefined, line);
  assert.ok(!line.includes("\n"));
  JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(encoder.encode(line)));
  return { result, skipped, line };
}

function record(payload: string | Uint8Array) {
  const outcome = run(payload);
  assert.equal(outcome.result.kind, "record", JSON.stringify(outcome.result));
  return { ...(outcome.result as Extract<TransformResult, { kind: "record" }>), ...outcome };
}

function deadReason(payload: string | Uint8Array, maxPayloadBytes?: number): string {
  const { result } = run(payload, maxPayloadBytes);
  assert.equal(result.kind, "dead", JSON.stringify(result).slice(0, 200));
  return (result as { reason: string }).reason;
}

const nested = (open: string, close: string, depth: number, inner = "") =>
  open.repeat(depth) + inner + close.repeat(depth);

Deno.test("transform() takes deeply nested JSON anywhere without overflowing", () => {
  const depth = 200_000;
  const deepArray = nested("[", "]", depth);
  const deepObject = nested('{"a":', "}", depth, "1");
  // As a reading value: left out and counted.
  const asValue = record(`{"t":1,"r":[{"_vid":"m","x":${deepArray},"y":${deepObject},"P":1}]}`);
  assert.equal(
    asValue.line,
    '{"node_id":"b827eb000001","time":"1970-01-01T00:00:01+00:00","data":{"m":{"P":1}}}',
  );
  assert.deepEqual(asValue.skipped, ["invalid_value", "invalid_value"]);
  // As a device, as r, as t, as m, as the whole payload.
  assert.deepEqual(record(`{"t":1,"r":[${deepArray}]}`).skipped, ["invalid_device"]);
  assert.equal(deadReason(`{"t":1,"r":${deepObject}}`), "invalid_r");
  assert.equal(deadReason(`{"t":${deepArray},"r":[]}`), "invalid_t");
  assert.deepEqual(Object.keys(record(`{"t":1,"r":[],"m":${deepObject}}`).record), [
    "node_id",
    "time",
    "data",
  ]);
  assert.equal(deadReason(deepArray), "not_object");
  assert.equal(deadReason(nested("[", "", depth)), "not_json");
});

Deno.test("transform() keeps every digit of a 64-bit integer beside JSON nested 200,000 levels deep", () => {
  const E = "18446744073709551615";
  const deep = nested("[", "]", 200_000);
  for (const rest of ["", ',"nan":NaN']) {
    const { line, skipped } = record(
      `{"t":1,"r":[{"_vid":"m","E":${E},"x":${deep}${rest}}],"m":${deep}}`,
    );
    assert.equal(
      line,
      `{"node_id":"b827eb000001","time":"1970-01-01T00:00:01+00:00","data":{"m":{"E":${E}}}}`,
    );
    assert.deepEqual(skipped, ["invalid_value"]);
  }
  const status = record(`{"t":1,"r":[{"_vid":"s","_s":[{"c":"x","l":${E}},${deep}]}]}`);
  assert.equal(
    status.line,
    '{"node_id":"b827eb000001","time":"1970-01-01T00:00:01+00:00","data":{"s":{}},' +
      `"status":{"s":[{"c":"x","l":${E}}]}}`,
  );
  assert.deepEqual(status.skipped, ["invalid_status"]);
});

Deno.test("transform() keeps status entries only up to a nesting depth it can write", () => {
  const ok = nested("[", "]", MAX_STATUS_DEPTH);
  const deep = nested("[", "]", MAX_STATUS_DEPTH + 1);
  const tooDeep = nested("[", "]", 100_000);
  const { record: r, skipped, line } = record(
    `{"t":1,"r":[{"_vid":"b","_s":[{"c":"Low SOC","l":2},${ok},${deep},${tooDeep}]}]}`,
  );
  assert.deepEqual(r.status?.b.length, 2);
  assert.deepEqual(skipped, ["invalid_status", "invalid_status"]);
  assert.ok(line!.length < 200);
});

Deno.test("transform() takes huge arrays: many devices, many status entries, repeated ids", () => {
  const devices = Array.from({ length: 100_000 }, (_, i) => `{"_vid":"d${i % 1000}","v${i}":${i}}`);
  const many = record(`{"t":1,"r":[${devices.join(",")}]}`);
  assert.equal(Object.keys(many.record.data).length, 1000);
  assert.equal(Object.keys(many.record.data.d7).length, 100);

  // 600,000 status entries for one repeated vendor id: too many to spread
  // into one call's arguments.
  const entries = Array(300_000).fill("0").join(",");
  const status = record(
    `{"t":1,"r":[{"_vid":"b","_s":[${entries}]},{"_vid":"b","_s":[${entries}]}]}`,
  );
  assert.equal(status.record.status?.b.length, 600_000);

  const junk = Array(500_000).fill("null").join(",");
  assert.deepEqual(record(`{"t":1,"r":[${junk}]}`).skipped.length, 500_000);
});

Deno.test("transform() keeps very long strings as they are", () => {
  const long = "x".repeat(5 * 1024 * 1024);
  const { record: r } = record(`{"t":1,"r":[{"_vid":"${long}","${long}":"${long}"}]}`);
  assert.equal(r.data[long][long], long);
});

Deno.test("transform() keeps control characters, separators and odd Unicode intact and escaped", () => {
  const odd = "\u0000\u0001\u001f\u007f\u0085\u2028\u2029\ufeff\ud83d\udd0b";
  const payload = JSON.stringify({ t: 1, r: [{ _vid: odd, [odd]: odd, "\n": "\r\n" }] });
  const { record: r, line } = record(payload);
  assert.deepEqual(Object.keys(r.data), [odd]);
  assert.equal(r.data[odd][odd], odd);
  assert.equal(r.data[odd]["\n"], "\r\n");
  // Control characters are escaped, so the line stays one line.
  assert.ok([...line!].every((c) => c.charCodeAt(0) >= 0x20));
  // Lone surrogates arrive as escapes and leave as escapes: valid UTF-8 out.
  const lone = record('{"t":1,"r":[{"_vid":"\\ud800","x":"\\udfff"}]}');
  assert.match(lone.line!, /"\\ud800":\{"x":"\\udfff"\}/);
});

Deno.test("transform() dead-letters every kind of invalid UTF-8", () => {
  const cases = [
    [0xff],
    [0x80],
    [0xc0, 0xaf], // overlong "/"
    [0xe0, 0x80, 0xaf], // overlong
    [0xed, 0xa0, 0x80], // a surrogate
    [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
    [0xe2, 0x82], // cut short
  ];
  for (const bytes of cases) {
    const payload = new Uint8Array([
      ...encoder.encode('{"t":1,"r":[{"_vid":"m","x":"'),
      ...bytes,
      ...encoder.encode('"}]}'),
    ]);
    assert.equal(deadReason(payload), "not_utf8", bytes.join(","));
  }
  // U+FFFD written as such is valid text, kept as it is.
  const replacement = encoder.encode('{"t":1,"r":[{"_vid":"m","x":"\uFFFD"}]}');
  assert.equal(JSON.stringify(record(replacement).record.data), '{"m":{"x":"\uFFFD"}}');
  // A byte order mark is not part of the text.
  assert.equal(
    record(new Uint8Array([0xef, 0xbb, 0xbf, ...encoder.encode('{"t":1,"r":[]}')])).record.time,
    "1970-01-01T00:00:01+00:00",
  );
});

Deno.test("transform() treats __proto__, constructor and prototype as plain keys everywhere", () => {
  for (const name of ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty"]) {
    const payload = `{"t":1,"r":[` +
      `{"_vid":"${name}","${name}":1,"_s":[{"c":"x","l":1}]},` +
      `{"_vid":"${name}","${name}":2,"other":{"polluted":true}},` +
      `{"_vid":"m","${name}":{"polluted":true},"__proto__":{"_vid":"n","polluted":1}}` +
      `],"${name}":{"polluted":true},"__proto__":{"t":2,"polluted":true}}`;
    const { record: r, line, skipped } = record(payload);
    const written = JSON.parse(line!);
    assert.ok(Object.hasOwn(written.data, name), name);
    // As a field name "__proto__" starts with "_": not a reading, by the contract.
    const field = name.startsWith("_") ? [] : [[name, 2]];
    assert.deepEqual(Object.entries(written.data[name]), field);
    assert.ok(Object.hasOwn(written.status, name));
    assert.deepEqual(Object.keys(r.data), [name, "m"]);
    assert.deepEqual(Object.keys(written.data.m), [], "objects are not readings");
    assert.equal(r.time, "1970-01-01T00:00:01+00:00", "t is not read from __proto__");
    assert.deepEqual(skipped, Array(name.startsWith("_") ? 1 : 2).fill("invalid_value"));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  }
  // Nothing is inherited either: a device without its own _vid has none.
  assert.deepEqual(record('{"t":1,"r":[{"__proto__":{"_vid":"ghost"}}]}').skipped, ["missing_vid"]);
  assert.equal(deadReason('{"__proto__":{"t":1,"r":[]}}'), "invalid_t");
  assert.equal(deadReason('{"t":1,"__proto__":{"r":[]}}'), "invalid_r");
});

Deno.test("transform() dead-letters a payload over the limit with its size and first bytes only", () => {
  const payload = encoder.encode(JSON.stringify({ t: 1, r: [{ _vid: "m", x: "y".repeat(5000) }] }));
  const { result } = run(payload, 4096);
  assert.equal(result.kind, "dead");
  assert.equal((result as { reason: string }).reason, "too_large");
  const entry = deadLetterEntry({
    ...(result as Extract<TransformResult, { kind: "dead" }>),
    topic: TOPIC,
    payload,
    receivedAt: new Date(0),
  });
  assert.equal(entry.size, payload.byteLength);
  assert.equal(entry.truncated, true);
  const kept = Uint8Array.from(atob(entry.payload_base64), (c) => c.charCodeAt(0));
  assert.equal(kept.byteLength, TRUNCATED_PAYLOAD_BYTES);
  assert.deepEqual(kept, payload.subarray(0, TRUNCATED_PAYLOAD_BYTES));
  // At the limit exactly it is still read.
  assert.equal(run(payload, payload.byteLength).result.kind, "record");
});
