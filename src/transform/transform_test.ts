import assert from "node:assert/strict";
import type { SkipReason } from "./device_walk.ts";
import { parseJson } from "./json_reader.ts";
import { isDataTopic, nodeIdOf } from "./payload.ts";
import { formatTime } from "./record.ts";
import {
  transform,
  type TransformResult,
  transformToLine,
  transformToOutput,
  transformToText,
} from "./transform.ts";

const encoder = new TextEncoder();
const fixtures = new URL("../../tests/fixtures/examples/", import.meta.url);

function run(topic: string, payload: string | Uint8Array, maxPayloadBytes?: number) {
  const skipped: SkipReason[] = [];
  const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
  const result = transform(topic, bytes, {
    maxPayloadBytes,
    onSkip: (reason) => skipped.push(reason),
  });
  return { result, skipped };
}

function line(result: TransformResult): string {
  assert.equal(result.kind, "record", JSON.stringify(result));
  return JSON.stringify((result as { record: unknown }).record);
}

const DATA = "a/b827eb000001/u/data";
// How a record of the node on DATA at t = 1 starts.
const AT_ONE = '{"node_id":"b827eb000001","time":"1970-01-01T00:00:01+00:00",';

const names = [...Deno.readDirSync(fixtures)]
  .map((entry) => entry.name)
  .filter((name) => name.endsWith(".payload.json"))
  .map((name) => name.slice(0, -".payload.json".length))
  .sort();

Deno.test("the contract's examples are all present", () => {
  assert.ok(names.length >= 16, `found ${names.length} examples`);
});

for (const name of names) {
  Deno.test(`transform() writes what the contract's example "${name}" expects`, () => {
    const payload = Deno.readFileSync(new URL(`${name}.payload.json`, fixtures));
    const topic = Deno.readTextFileSync(new URL(`${name}.topic`, fixtures)).trim();
    const expected = Deno.readTextFileSync(new URL(`${name}.expected.ndjson`, fixtures))
      .split("\n").filter((l) => l.trim() !== "");
    const { result } = run(topic, payload);
    if (expected.length === 0) {
      assert.equal(result.kind, "dead", `expected a dead letter, got ${JSON.stringify(result)}`);
    } else {
      assert.equal(expected.length, 1);
      // Byte for byte: key order is part of the contract.
      assert.equal(line(result), expected[0]);
    }
  });
}

Deno.test("transform() formats t as RFC 3339 UTC with an explicit offset", () => {
  assert.equal(formatTime(0), "1970-01-01T00:00:00+00:00");
  assert.equal(formatTime(1709288100), "2024-03-01T10:15:00+00:00");
  assert.equal(formatTime(1709288460.25), "2024-03-01T10:21:00.250+00:00");
  assert.equal(formatTime(1709288460.0004), "2024-03-01T10:21:00+00:00");
  assert.equal(formatTime(1709288460.9996), "2024-03-01T10:21:01+00:00");
  assert.equal(formatTime(1709288460.0015), "2024-03-01T10:21:00.002+00:00");
});

Deno.test("transform() drops null readings field by field", () => {
  const { result } = run(DATA, '{"t":1,"r":[{"_vid":"a","x":null,"y":2,"z":null}]}');
  assert.equal(line(result), AT_ONE + '"data":{"a":{"y":2}}}');
});

Deno.test("transform() drops non-finite numbers written as bare tokens or overflowing literals", () => {
  const { result } = run(
    DATA,
    '{"t":1,"r":[{"_vid":"a","n":NaN,"p":Infinity,"m":-Infinity,"big":1e999,"s":"NaN Infinity","ok":1}]}',
  );
  assert.equal(line(result), AT_ONE + '"data":{"a":{"s":"NaN Infinity","ok":1}}}');
});

Deno.test("transform() keeps strings and booleans without coercing them", () => {
  const { result } = run(DATA, '{"t":1,"r":[{"_vid":"a","s":"42","b":false,"z":0}]}');
  assert.equal(line(result), AT_ONE + '"data":{"a":{"s":"42","b":false,"z":0}}}');
});

Deno.test("transform() never puts keys starting with _ into data", () => {
  const { result } = run(DATA, '{"t":1,"r":[{"_vid":"a","_d":"x","_calc":1,"_s":[],"v":1}]}');
  assert.deepEqual(JSON.parse(line(result)).data, { a: { v: 1 } });
});

Deno.test("transform() merges readings of a repeated vendor id, the later device winning", () => {
  const { result } = run(
    DATA,
    '{"t":1,"r":[{"_vid":"a","x":1,"y":1},{"_vid":"b","x":5},{"_vid":"a","y":2,"z":3,"x":null}]}',
  );
  assert.deepEqual(JSON.parse(line(result)).data, { a: { x: 1, y: 2, z: 3 }, b: { x: 5 } });
});

Deno.test("transform() skips and counts devices without a usable vendor id", () => {
  const { result, skipped } = run(
    DATA,
    '{"t":1,"r":[{"x":1},{"_vid":null,"x":1},{"_vid":"","x":1},{"_vid":7,"x":1},{"_vid":["a"]},{"_vid":"ok","x":2}]}',
  );
  assert.deepEqual(JSON.parse(line(result)).data, { ok: { x: 2 } });
  assert.deepEqual(skipped, Array(5).fill("missing_vid"));
});

Deno.test("transform() keeps a polled device with no readings as an empty object", () => {
  const { result } = run(DATA, '{"t":1,"r":[{"_vid":"a","_d":"x"},{"_vid":"b","x":null}]}');
  assert.deepEqual(JSON.parse(line(result)).data, { a: {}, b: {} });
});

Deno.test("transform() drops and counts object and array reading values", () => {
  const { result, skipped } = run(DATA, '{"t":1,"r":[{"_vid":"a","o":{"k":1},"l":[1],"v":3}]}');
  assert.deepEqual(JSON.parse(line(result)).data, { a: { v: 3 } });
  assert.deepEqual(skipped, ["invalid_value", "invalid_value"]);
});

Deno.test("transform() skips and counts device readings that are not objects", () => {
  const { result, skipped } = run(DATA, '{"t":1,"r":[1,"x",null,[],{"_vid":"a"}]}');
  assert.deepEqual(JSON.parse(line(result)).data, { a: {} });
  assert.deepEqual(skipped, Array(4).fill("invalid_device"));
});

Deno.test("transform() gathers status entries by vendor id and omits status when there are none", () => {
  const withStatus = run(
    DATA,
    '{"t":1,"r":[{"_vid":"a","_s":[{"c":"x","l":1}]},{"_vid":"b","_s":[]},{"_vid":"a","_s":[{"c":"y","l":4}]}]}',
  );
  assert.deepEqual(JSON.parse(line(withStatus.result)).status, {
    a: [{ c: "x", l: 1 }, { c: "y", l: 4 }],
  });
  const without = run(DATA, '{"t":1,"r":[{"_vid":"a","_s":[]},{"_vid":"b","_s":null}]}');
  assert.equal(JSON.parse(line(without.result)).status, undefined);
  const bad = run(DATA, '{"t":1,"r":[{"_vid":"a","_s":"broken"}]}');
  assert.deepEqual(bad.skipped, ["invalid_status"]);
});

Deno.test("transform() leaves the metadata m out of the record", () => {
  const { result } = run(DATA, '{"t":1,"r":[],"m":{"snap_rev":1}}');
  assert.equal(line(result), AT_ONE + '"data":{}}');
});

Deno.test("transform() reports the payload's t as the reading time", () => {
  const { result } = run(DATA, '{"t":1709288100.5,"r":[]}');
  assert.equal(result.kind === "record" && result.readingTime, 1709288100.5);
});

Deno.test("transform() turns each kind of broken message into a dead letter with its reason", () => {
  const cases: [string | Uint8Array, string][] = [
    [new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), "not_utf8"],
    ["", "not_json"],
    ['{"t":1,"r":[', "not_json"],
    ["null", "not_object"],
    ["[1]", "not_object"],
    ['"text"', "not_object"],
    ["42", "not_object"],
    ['{"r":[]}', "invalid_t"],
    ['{"t":"1","r":[]}', "invalid_t"],
    ['{"t":-1,"r":[]}', "invalid_t"],
    ['{"t":null,"r":[]}', "invalid_t"],
    ['{"t":NaN,"r":[]}', "invalid_t"],
    ['{"t":1e300,"r":[]}', "invalid_t"],
    ['{"t":1}', "invalid_r"],
    ['{"t":1,"r":{}}', "invalid_r"],
    ['{"t":1,"r":null}', "invalid_r"],
  ];
  for (const [payload, reason] of cases) {
    const { result } = run(DATA, payload);
    assert.equal(result.kind, "dead", `${payload}`);
    assert.equal(result.kind === "dead" && result.reason, reason, `${payload}`);
    assert.ok(result.kind === "dead" && result.detail.length > 0);
  }
});

Deno.test("transform() dead-letters a payload over the size limit before reading it", () => {
  const payload = '{"t":1,"r":[]}';
  assert.equal(run(DATA, payload, payload.length).result.kind, "record");
  const { result } = run(DATA, payload, payload.length - 1);
  assert.equal(result.kind === "dead" && result.reason, "too_large");
  assert.match(result.kind === "dead" ? result.detail : "", /14 bytes/);
});

Deno.test("transform() ignores AMMP topics that carry no data", () => {
  for (
    const topic of [
      "a/b827eb000001/u/meta/boot_time",
      "a/b827eb000001/u/log/msg",
      "a/b827eb000001/u/command_response",
      "a/b827eb000001/bridge_state",
      "a/b827eb000001/d/config",
      "a/b827eb000001/d/command",
      "a/b827eb000001",
    ]
  ) {
    assert.deepEqual(run(topic, "not json at all").result, { kind: "ignored" }, topic);
  }
  assert.ok(isDataTopic("a/ff0011/u/data"));
  assert.ok(isDataTopic("a/ff0011/data"));
  assert.ok(isDataTopic("site/plant-3/data"));
});

Deno.test("nodeIdOf() takes the node id from AMMP topics only", () => {
  assert.equal(nodeIdOf("a/b827eb2bb2a9/u/data"), "b827eb2bb2a9");
  assert.equal(nodeIdOf("a/b827eb2bb2a9/data"), "b827eb2bb2a9");
  assert.equal(nodeIdOf("site/plant-3/data"), undefined);
  assert.equal(nodeIdOf("a//u/data"), undefined);
});

Deno.test("a topic without a node id takes the nodeId option on every path; a topic's own wins", () => {
  const payload = encoder.encode('{"t":1,"r":[{"_vid":"m","P":1}]}');
  const nodeId = "b827eb00beef";
  const expected =
    '{"node_id":"b827eb00beef","time":"1970-01-01T00:00:01+00:00","data":{"m":{"P":1}}}';
  assert.equal(line(transform("u/data", payload, { nodeId })), expected);
  const text = transformToText("u/data", payload, { nodeId });
  assert.equal(text.kind === "record" && text.text, expected);
  const asLine = transformToLine("u/data", payload, { nodeId });
  assert.equal(asLine.kind === "record" && asLine.line, expected);
  // The byte path writes it as the parse path does.
  const output = transformToOutput("u/data", payload, { nodeId });
  assert.ok(output.kind === "record" && output.output instanceof Uint8Array);
  assert.equal(new TextDecoder().decode(output.output as Uint8Array), expected);
  const influx = transformToText("u/data", payload, { nodeId, format: "influx" });
  assert.equal(
    influx.kind === "record" && influx.text,
    "ammp,node_id=b827eb00beef,vid=m P=1 1000000000",
  );

  // The topic's own node id wins over the option.
  assert.equal(line(transform(DATA, payload, { nodeId })), AT_ONE + '"data":{"m":{"P":1}}}');
  const fromTopic = transformToOutput(DATA, payload, { nodeId });
  assert.ok(fromTopic.kind === "record");
  assert.equal(
    new TextDecoder().decode(fromTopic.output as Uint8Array),
    AT_ONE + '"data":{"m":{"P":1}}}',
  );
  // Without the option a topic without a node id gives none.
  assert.equal(
    line(transform("u/data", payload)),
    '{"time":"1970-01-01T00:00:01+00:00","data":{"m":{"P":1}}}',
  );
});

Deno.test("a dead letter carries the node id its record would have had, and none without one", () => {
  const broken = encoder.encode('{"r":[]}');
  const nodeId = "b827eb00beef";
  const node = (topic: string, options?: { nodeId?: string }) => {
    const result = transformToOutput(topic, broken, options);
    assert.equal(result.kind, "dead");
    return result.kind === "dead" ? result.node : "not dead";
  };
  assert.equal(node("u/data", { nodeId }), nodeId);
  assert.equal(node(DATA, { nodeId }), "b827eb000001");
  assert.equal(node(DATA), "b827eb000001");
  assert.equal(node("u/data"), undefined);
  const tooLarge = transform("u/data", encoder.encode("x".repeat(100)), {
    nodeId,
    maxPayloadBytes: 64,
  });
  assert.equal(tooLarge.kind === "dead" && tooLarge.node, nodeId);
  // Absent, not undefined, where there is none: dead results compare as before.
  assert.ok(!("node" in transform("u/data", broken)));
});

Deno.test("transform() treats __proto__, constructor and prototype as plain keys", () => {
  const { result } = run(
    DATA,
    '{"t":1,"r":[{"_vid":"__proto__","polluted":1},{"_vid":"constructor","prototype":2,"__proto__":3}]}',
  );
  const parsed = JSON.parse(line(result));
  assert.deepEqual(Object.keys(parsed.data), ["__proto__", "constructor"]);
  assert.equal(parsed.data.constructor.prototype, 2);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf({}), Object.prototype);
});

Deno.test("parseJson() reads Python's non-finite tokens as null outside strings only", () => {
  assert.deepEqual(parseJson('{"a":NaN,"b":"NaN","c":[Infinity,-Infinity]}'), {
    a: null,
    b: "NaN",
    c: [null, null],
  });
  assert.deepEqual(parseJson('{"k\\"NaN":1}'), { 'k"NaN': 1 });
  assert.throws(() => parseJson("{NaN}"), SyntaxError);
});

// transformToLine() must write what JSON.stringify writes for transform()'s
// record, and report the same skips, whatever the payload.
function assertSameLine(topic: string, payload: string | Uint8Array): void {
  const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
  const { result, skipped } = run(topic, bytes);
  const lineSkipped: SkipReason[] = [];
  const lineResult = transformToLine(topic, bytes, {
    onSkip: (reason) => lineSkipped.push(reason),
  });
  if (result.kind === "record") {
    assert.deepEqual(lineResult, {
      kind: "record",
      line: JSON.stringify(result.record),
      readingTime: result.readingTime,
    }, new TextDecoder().decode(bytes));
  } else {
    assert.deepEqual(lineResult, result);
  }
  assert.deepEqual(lineSkipped, skipped, new TextDecoder().decode(bytes));
}

Deno.test("transformToLine() writes JSON.stringify of the record for every contract example", () => {
  for (const name of names) {
    assertSameLine(
      Deno.readTextFileSync(new URL(`${name}.topic`, fixtures)).trim(),
      Deno.readFileSync(new URL(`${name}.payload.json`, fixtures)),
    );
  }
});

Deno.test("transformToLine() matches the record where object key order and merging matter", () => {
  const payloads = [
    // repeated vendor ids are merged, the later field wins in place
    '{"t":1,"r":[{"_vid":"a","x":1,"y":2},{"_vid":"b","q":1},{"_vid":"a","x":3,"z":4}]}',
    '{"t":1,"r":[{"_vid":"a","_s":[{"c":"A","l":1}]},{"_vid":"a","_s":[{"c":"B","l":2}],"v":1}]}',
    // objects list array-index keys first, in numeric order
    '{"t":1,"r":[{"_vid":"b","x":1},{"_vid":"2","y":1},{"_vid":"10","z":1},{"_vid":"1","w":1}]}',
    '{"t":1,"r":[{"_vid":"a","b":1,"2":2,"1":3,"01":4,"4294967295":5}]}',
    '{"t":1,"r":[{"_vid":"7up","x":1},{"_vid":"a","_s":[{"c":"x","l":0}]}]}',
    // keys that objects treat specially
    '{"t":1,"r":[{"_vid":"__proto__","polluted":1},{"_vid":"constructor","prototype":2,"__proto__":3}]}',
    '{"t":1,"r":[{"_vid":"toString","valueOf":1,"hasOwnProperty":"x"}]}',
    // escapes, non-ASCII and lone surrogates in ids, keys and values
    String
      .raw`{"t":1,"r":[{"_vid":"q\"v\\","k\u00e9y":"a\nb\u0001","\ud800":"\udfff","é":"日本","emoji":"😀"}]}`,
    String.raw`{"t":1,"r":[{"_vid":"inv/1","a b":"\/","tab\t":true}]}`,
    // numbers in every form, and values that are not readings
    '{"t":1,"r":[{"_vid":"n","a":-0,"b":1.50,"c":1e3,"d":1E-7,"e":123456789012345678901,"f":1e999,"g":-1e999,"h":0.1,"i":5e-324,"j":null,"k":false,"l":[1],"m":{"x":1}}]}',
    '{"t":1,"r":[{"_vid":"n","a":NaN,"b":Infinity,"c":-Infinity,"d":"NaN"}]}',
    // devices and statuses that are skipped
    '{"t":1,"r":[1,null,"x",[{"_vid":"y"}],{"_d":"calc","v":1},{"_vid":null},{"_vid":""},{"_vid":5,"v":1},{"_vid":"ok"}]}',
    String
      .raw`{"t":1,"r":[{"_vid":"s","_s":"bad"},{"_vid":"e","_s":[]},{"_vid":"z","_s":null},{"_vid":"w","_s":[{"c":"é\"","l":4},null,1]}]}`,
    // whitespace, fractional t, empty r, and the meta object
    '{ "t" : 1709288460.25 , "r" : [ { "_vid" : "m" , "f" : 50.01 } ] , "m" : { "snap_rev" : 1 } }',
    '{"t":0,"r":[]}',
    '{"r":[{"_vid":"late","x":1}],"t":1709288100.0004}',
  ];
  for (const payload of payloads) {
    assertSameLine(DATA, payload);
    assertSameLine("site/plant-3/data", payload);
  }
  // dead letters and ignored topics come out unchanged
  assertSameLine(DATA, '{"t":"1","r":[]}');
  assertSameLine(DATA, "not json");
  assertSameLine("a/b827eb000001/u/meta/boot_time", "1709288100");
  assertSameLine(DATA, new Uint8Array([0x7b, 0xff, 0x7d]));
});

Deno.test("transformToLine() matches the record for thousands of fields and hundreds of devices", () => {
  const fields = Array.from({ length: 5000 }, (_, i) => `"f${i}\\"x":${i}`).join(",");
  const vids = Array.from({ length: 300 }, (_, i) => `{"_vid":"v${i}","k${i % 7}":${i}}`);
  assertSameLine(DATA, `{"t":1,"r":[{"_vid":"big",${fields}},${vids.join(",")}]}`);
  assertSameLine(DATA, `{"t":1,"r":[{"_vid":"again",${fields}}]}`);
});

// Integers beyond 2^53, which a double cannot hold: a 64-bit counter, the
// "not implemented" sentinels of unsigned and signed 64-bit registers.
const BIG = {
  E: "18446744073709551615",
  n: "9007199254740993",
  m: "-9223372036854775808",
  two53: "9007199254740992",
  long: "123456789012345678901234567890",
};
const bigFields = Object.entries(BIG).map(([k, v]) => `"${k}":${v}`).join(",");
// Numbers a double holds as written, or that are not integers: kept as
// JSON.parse reads them; integers spelled with an exponent, with every
// digit; one beyond a double, and beyond its spelling, dropped.
const ORDINARY =
  '"safe":9007199254740991,"neg":-9007199254740991,"f":5120.5,"noise":0.30000000000000004,' +
  '"exp":1.5e300,"e21":1e21,"frac":12345678901234567.5,"zero":-0,"big":1e999';
const ORDINARY_WRITTEN =
  '"safe":9007199254740991,"neg":-9007199254740991,"f":5120.5,"noise":0.30000000000000004,' +
  `"exp":15${"0".repeat(299)},"e21":1${"0".repeat(21)},"frac":12345678901234568,"zero":0`;

Deno.test("transform() and transformToLine() keep every digit of integers beyond 2^53", () => {
  const status = `[{"c":"overflow","l":4,"raw":${BIG.E},"at":[{"n":${BIG.n}}]}]`;
  const escapedKey = String.raw`"a\nb":1,`;
  for (const extra of ["", escapedKey]) {
    const payload = `{"t":1709288100,"r":[{"_vid":"m",${extra}${bigFields},${ORDINARY},` +
      `"_s":${status}}]}`;
    const expected = '{"node_id":"b827eb000001","time":"2024-03-01T10:15:00+00:00","data":' +
      `{"m":{${extra}${bigFields},${ORDINARY_WRITTEN}}},"status":{"m":${status}}}`;
    assert.equal(line(run(DATA, payload).result), expected, payload);
    const lined = transformToLine(DATA, encoder.encode(payload));
    assert.equal(lined.kind === "record" && lined.line, expected, payload);
    assertSameLine(DATA, payload);
  }
});

Deno.test("transform() keeps every digit of integers beyond 2^53 next to Python's NaN", () => {
  const payload = `{"t":1,"r":[{"_vid":"m","a":NaN,${bigFields}},{"_vid":"k","b":${BIG.E}}]}`;
  const expected = '{"node_id":"b827eb000001","time":"1970-01-01T00:00:01+00:00","data":' +
    `{"m":{${bigFields}},"k":{"b":${BIG.E}}}}`;
  assert.equal(line(run(DATA, payload).result), expected);
  assertSameLine(DATA, payload);
  // Repeated vendor ids go through the record's objects in both transforms.
  const merged = `{"t":1,"r":[{"_vid":"m","a":1},{"_vid":"m",${bigFields}}]}`;
  assert.equal(
    line(run(DATA, merged).result),
    '{"node_id":"b827eb000001","time":"1970-01-01T00:00:01+00:00","data":' +
      `{"m":{"a":1,${bigFields}}}}`,
  );
  assertSameLine(DATA, merged);
});

Deno.test("transform() takes an integer beyond 2^53 where no reading can be as the number it is", () => {
  const cases: [string, string][] = [
    [BIG.E, "not_object"],
    [`{"t":${BIG.E},"r":[]}`, "invalid_t"],
    [`{"t":1,"r":${BIG.E}}`, "invalid_r"],
  ];
  for (const [payload, reason] of cases) {
    const { result } = run(DATA, payload);
    assert.equal(result.kind === "dead" && result.reason, reason, payload);
    // The detail quotes the number as the payload wrote it.
    assert.ok(result.kind === "dead" && result.detail.includes(BIG.E), JSON.stringify(result));
    assertSameLine(DATA, payload);
  }
  const devices = `{"t":1,"r":[${BIG.E},{"_vid":"m","v":1},{"_vid":${BIG.E},"v":1}]}`;
  const { result, skipped } = run(DATA, devices);
  assert.equal(
    line(result),
    '{"node_id":"b827eb000001","time":"1970-01-01T00:00:01+00:00",' +
      '"data":{"m":{"v":1}}}',
  );
  assert.deepEqual(skipped, ["invalid_device", "missing_vid"]);
  assertSameLine(DATA, devices);
  // Too long for even a double: kept with every digit all the same, unless
  // only an exponent makes it so long.
  const overflowing = `{"t":1,"r":[{"_vid":"m","x":${"9".repeat(400)},"y":1e400,"v":${BIG.n}}]}`;
  assert.equal(
    line(run(DATA, overflowing).result),
    '{"node_id":"b827eb000001","time":"1970-01-01T00:00:01+00:00","data":' +
      `{"m":{"x":${"9".repeat(400)},"v":${BIG.n}}}}`,
  );
  assertSameLine(DATA, overflowing);
});

Deno.test("parseJson() reads integers beyond 2^53 with every digit, inside strings untouched", () => {
  for (
    const text of [`[${BIG.E},"${BIG.E}",{"${BIG.n}":${BIG.m}}]`, String.raw`{"k\n":[${BIG.n}]}`]
  ) {
    assert.equal(JSON.stringify(parseJson(text)), text);
  }
  const parsed = parseJson(`[${BIG.E}]`) as unknown[];
  assert.notEqual(typeof parsed[0], "number");
  assert.equal(
    JSON.stringify(parseJson(`[1.5e300,${BIG.E}.5,1${"0".repeat(21)}e0]`)),
    `[15${"0".repeat(299)},18446744073709552000,1${"0".repeat(21)}]`,
  );
});

Deno.test("transform() and transformToLine() keep every digit of an integer beyond 2^53 found only in a status entry", () => {
  const status = `[{"c":"overflow","l":0,"at":{"n":[${BIG.E}]}}]`;
  for (const vids of [["m"], ["m", "m"]]) {
    const devices = vids.map((vid) => `{"_vid":"${vid}","v":1,"_s":${status}}`).join(",");
    const payload = `{"t":1,"r":[${devices}]}`;
    const entries = vids.map(() => status.slice(1, -1)).join(",");
    const expected = '{"node_id":"b827eb000001","time":"1970-01-01T00:00:01+00:00",' +
      `"data":{"m":{"v":1}},"status":{"m":[${entries}]}}`;
    assert.equal(line(run(DATA, payload).result), expected);
    const lined = transformToLine(DATA, encoder.encode(payload));
    assert.equal(lined.kind === "record" && lined.line, expected);
    assertSameLine(DATA, payload);
  }
});
