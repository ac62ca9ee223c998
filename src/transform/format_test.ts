import assert from "node:assert/strict";
import { formatRecord, OUTPUT_FORMATS } from "./format.ts";
import { deviceLines } from "./format_device.ts";
import { escapeKey, influxLines } from "./format_influx.ts";
import type { SkipReason } from "./device_walk.ts";
import { type AmmpRecord, transform, transformToText } from "./transform.ts";

const encoder = new TextEncoder();

function recordOf(payload: unknown, topic = "a/b827eb000001/u/data"): AmmpRecord {
  const result = transform(topic, encoder.encode(JSON.stringify(payload)));
  assert.equal(result.kind, "record");
  return (result as { record: AmmpRecord }).record;
}

const site = recordOf({
  t: 1709288100,
  r: [
    { _d: "sma_stp_1", _vid: "inv-1", P_total: 5120.5, E_total: 88211900, state: "MPP" },
    { _d: "si", _vid: "bat-1", soc: 71, charging: true, _s: [{ c: "Low SOC", l: 2 }] },
    { _d: "dse855", _vid: "gen-1", P: null },
  ],
});

Deno.test("formatRecord() writes the record format as the contract's JSON line", () => {
  assert.equal(
    formatRecord(site, "record"),
    '{"node_id":"b827eb000001","time":"2024-03-01T10:15:00+00:00","data":{' +
      '"inv-1":{"P_total":5120.5,"E_total":88211900,"state":"MPP"},' +
      '"bat-1":{"soc":71,"charging":true},"gen-1":{}},' +
      '"status":{"bat-1":[{"c":"Low SOC","l":2}]}}',
  );
});

Deno.test("formatRecord() writes one device line per device, with status only where present", () => {
  const lines = formatRecord(site, "device").split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(lines, [
    {
      node_id: "b827eb000001",
      time: "2024-03-01T10:15:00+00:00",
      vid: "inv-1",
      readings: { P_total: 5120.5, E_total: 88211900, state: "MPP" },
    },
    {
      node_id: "b827eb000001",
      time: "2024-03-01T10:15:00+00:00",
      vid: "bat-1",
      readings: { soc: 71, charging: true },
      status: [{ c: "Low SOC", l: 2 }],
    },
    { node_id: "b827eb000001", time: "2024-03-01T10:15:00+00:00", vid: "gen-1", readings: {} },
  ]);
  // Key order: node_id, time, vid, readings, status.
  assert.match(formatRecord(site, "device"), /^\{"node_id":"[^"]+","time":"[^"]+","vid":"inv-1",/);
});

Deno.test("device lines keep readings named time or vid inside readings", () => {
  const record = recordOf({ t: 0, r: [{ _vid: "m", time: "noon", vid: "other", node_id: 3 }] });
  assert.deepEqual(JSON.parse(formatRecord(record, "device")), {
    node_id: "b827eb000001",
    time: "1970-01-01T00:00:00+00:00",
    vid: "m",
    readings: { time: "noon", vid: "other", node_id: 3 },
  });
});

Deno.test("device lines leave node_id out when the topic has none, and a record without devices writes nothing", () => {
  const record = recordOf({ t: 60, r: [{ _vid: "m", P: 1 }] }, "site/7/data");
  assert.deepEqual(JSON.parse(JSON.stringify(deviceLines(record))), [
    { time: "1970-01-01T00:01:00+00:00", vid: "m", readings: { P: 1 } },
  ]);
  assert.equal(formatRecord(recordOf({ t: 60, r: [] }), "device"), "");
});

Deno.test("influx lines type every field: numbers as floats, strings quoted, booleans bare", () => {
  assert.deepEqual(influxLines(site), [
    'ammp,node_id=b827eb000001,vid=inv-1 P_total=5120.5,E_total=88211900,state="MPP" 1709288100000000000',
    "ammp,node_id=b827eb000001,vid=bat-1 soc=71,charging=true 1709288100000000000",
    'ammp_status,node_id=b827eb000001,vid=bat-1 entries="[{\\"c\\":\\"Low SOC\\",\\"l\\":2}]",level=2 1709288100000000000',
  ]);
  // No integer suffix: 5 and 5.1 are both floats, so the field's type never changes.
  const numbers = recordOf({ t: 0, r: [{ _vid: "m", a: 5, b: 5.1, c: -0.25, d: 1e21, e: 1e-7 }] });
  assert.equal(
    influxLines(numbers)[0],
    "ammp,node_id=b827eb000001,vid=m a=5,b=5.1,c=-0.25,d=1000000000000000000000,e=1e-7 0",
  );
});

Deno.test("influx timestamps are nanoseconds, exact to the millisecond", () => {
  const at = (t: number) => influxLines(recordOf({ t, r: [{ _vid: "m", P: 1 }] }))[0].split(" ")[2];
  assert.equal(at(0), "0");
  assert.equal(at(1709288100), "1709288100000000000");
  assert.equal(at(1709288460.25), "1709288460250000000");
  assert.equal(at(253402300799), "253402300799000000000");
});

Deno.test("influx lines escape tag values, field keys and string values per the line protocol", () => {
  const record = recordOf({
    t: 0,
    r: [{
      _vid: "inv 1,a=b",
      "P total": 1,
      "k,=": 2,
      quote: 'say "hi"',
      path: "C:\\dir\\",
      lines: "one\ntwo\r",
    }],
  });
  assert.deepEqual(influxLines(record), [
    "ammp,node_id=b827eb000001,vid=inv\\ 1\\,a\\=b " +
    'P\\ total=1,k\\,\\==2,quote="say \\"hi\\"",path="C:\\\\dir\\\\",lines="one\\ntwo\\r" 0',
  ]);
});

Deno.test("escapeKey() doubles a backslash only where a reader would take it as an escape", () => {
  assert.equal(escapeKey("plain"), "plain");
  assert.equal(escapeKey("a\\b"), "a\\b");
  assert.equal(escapeKey("a\\\\b"), "a\\\\\\b");
  assert.equal(escapeKey("ends\\"), "ends\\\\");
  assert.equal(escapeKey("a\\ b"), "a\\\\\\ b");
  assert.equal(escapeKey("a\\,b"), "a\\\\\\,b");
  assert.equal(escapeKey("x\ny"), "x\\ny");
});

Deno.test("influx lines leave out devices without readings and readings without a name", () => {
  const record = recordOf({
    t: 0,
    r: [{ _vid: "empty", P: null }, { _vid: "m", "": 4, P: 1 }],
  });
  assert.deepEqual(influxLines(record), ["ammp,node_id=b827eb000001,vid=m P=1 0"]);
  assert.equal(formatRecord(recordOf({ t: 0, r: [{ _vid: "empty" }] }), "influx"), "");
  assert.equal(formatRecord(recordOf({ t: 0, r: [] }), "influx"), "");
});

Deno.test("influx lines carry only the vid tag when the topic has no node id", () => {
  const record = recordOf({ t: 0, r: [{ _vid: "m", P: 1 }] }, "site/7/data");
  assert.deepEqual(influxLines(record), ["ammp,vid=m P=1 0"]);
});

Deno.test("influx status points keep entries without a numeric level", () => {
  const record = recordOf({ t: 0, r: [{ _vid: "m", _s: [{ c: "Door open" }, "raw"] }] });
  assert.deepEqual(influxLines(record), [
    'ammp_status,node_id=b827eb000001,vid=m entries="[{\\"c\\":\\"Door open\\"},\\"raw\\"]" 0',
  ]);
});

// A reader of the line protocol as its reference specifies it, to check
// that what influxLines() writes reads back as the same names and values.
function parseLine(
  line: string,
): { tags: Record<string, string>; fields: Record<string, unknown> } {
  let i = 0;
  const unescaped = (stops: string): string => {
    let out = "";
    while (i < line.length && !stops.includes(line[i])) {
      if (line[i] === "\\" && i + 1 < line.length && ",= \\".includes(line[i + 1])) {
        out += line[i + 1];
        i += 2;
      } else {
        out += line[i++];
      }
    }
    return out;
  };
  const measurement = unescaped(", ");
  assert.ok(measurement.startsWith("ammp"));
  const tags: Record<string, string> = {};
  while (line[i] === ",") {
    i++;
    const key = unescaped("=");
    i++;
    tags[key] = unescaped(", ");
  }
  assert.equal(line[i++], " ");
  const fields: Record<string, unknown> = {};
  do {
    if (line[i] === ",") i++;
    const key = unescaped("=");
    i++;
    if (line[i] === '"') {
      i++;
      let value = "";
      while (line[i] !== '"') {
        if (line[i] === "\\" && (line[i + 1] === '"' || line[i + 1] === "\\")) i++;
        value += line[i++];
      }
      i++;
      fields[key] = value;
    } else {
      const raw = unescaped(", ");
      fields[key] = raw === "true" ? true : raw === "false" ? false : Number(raw);
    }
  } while (line[i] === ",");
  assert.equal(line[i++], " ");
  assert.match(line.slice(i), /^\d+$/);
  return { tags, fields };
}

Deno.test("influx lines read back as the same vid, names and values for awkward text", () => {
  // Deterministic pseudo-random text from the characters the protocol treats specially.
  const alphabet = ["a", "Z", "0", " ", ",", "=", '"', "\\", "é", "_", "-"];
  let state = 7;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const text = () =>
    Array.from(
      { length: 1 + Math.floor(next() * 8) },
      () => alphabet[Math.floor(next() * alphabet.length)],
    ).join("");
  for (let n = 0; n < 300; n++) {
    const vid = text();
    const key = "k" + text();
    const value = text();
    const record = recordOf({ t: 0, r: [{ _vid: vid, [key]: value, n: n }] });
    const lines = influxLines(record);
    assert.equal(lines.length, 1);
    const parsed = parseLine(lines[0]);
    assert.deepEqual(parsed.tags, { node_id: "b827eb000001", vid }, lines[0]);
    assert.deepEqual(parsed.fields, { [key]: value, n }, lines[0]);
  }
});

// A payload as text: JSON.stringify cannot write integers beyond 2^53.
function recordOfText(payload: string): AmmpRecord {
  const result = transform("a/b827eb000001/u/data", encoder.encode(payload));
  assert.equal(result.kind, "record");
  return (result as { record: AmmpRecord }).record;
}

const bigPayload = '{"t":1709288100,"r":[{"_vid":"m","E":18446744073709551615,' +
  '"n":9007199254740993,"min":-9223372036854775808,"max":9223372036854775807,' +
  '"over":9223372036854775808,"safe":9007199254740991,"f":0.5,' +
  '"_s":[{"c":"overflow","l":2,"raw":18446744073709551615}]}]}';

Deno.test("device lines keep every digit of integers beyond 2^53", () => {
  assert.equal(
    formatRecord(recordOfText(bigPayload), "device"),
    '{"node_id":"b827eb000001","time":"2024-03-01T10:15:00+00:00","vid":"m","readings":' +
      '{"E":18446744073709551615,"n":9007199254740993,"min":-9223372036854775808,' +
      '"max":9223372036854775807,"over":9223372036854775808,"safe":9007199254740991,"f":0.5},' +
      '"status":[{"c":"overflow","l":2,"raw":18446744073709551615}]}',
  );
});

Deno.test("influx lines write integers beyond 2^53 with every digit, as float fields like every number", () => {
  assert.deepEqual(influxLines(recordOfText(bigPayload)), [
    "ammp,node_id=b827eb000001,vid=m E=18446744073709551615,n=9007199254740993," +
    "min=-9223372036854775808,max=9223372036854775807,over=9223372036854775808," +
    "safe=9007199254740991,f=0.5 1709288100000000000",
    'ammp_status,node_id=b827eb000001,vid=m entries="[{\\"c\\":\\"overflow\\",\\"l\\":2,' +
    '\\"raw\\":18446744073709551615}]",level=2 1709288100000000000',
  ]);
  // A level beyond 2^53 is written with every digit too, and as a float, like every level.
  const level = recordOfText('{"t":0,"r":[{"_vid":"m","_s":[{"c":"x","l":9007199254740993}]}]}');
  assert.equal(
    influxLines(level)[0],
    'ammp_status,node_id=b827eb000001,vid=m entries="[{\\"c\\":\\"x\\",\\"l\\":9007199254740993}]",' +
      "level=9007199254740993 0",
  );
});

Deno.test("transformToText() writes formatRecord() of the record, with the same skips, in every format", () => {
  const fixtures = new URL("../../tests/fixtures/examples/", import.meta.url);
  const payloads = [...Deno.readDirSync(fixtures)]
    .filter((entry) => entry.name.endsWith(".payload.json"))
    .map((entry) => Deno.readFileSync(new URL(entry.name, fixtures)));
  // Repeated vendor ids, dropped values, a status entry and an integer beyond 2^53.
  payloads.push(encoder.encode(
    '{"t":1,"r":[{"_vid":"a","x":1,"_s":[{"l":2}]},{"_vid":"a","y":{}},{"_vid":"b","E":18446744073709551615}]}',
  ));
  for (const format of OUTPUT_FORMATS) {
    for (const payload of payloads) {
      const skipped: SkipReason[] = [];
      const expected = transform("a/b827eb000001/u/data", payload, {
        onSkip: (reason) => skipped.push(reason),
      });
      const textSkipped: SkipReason[] = [];
      const result = transformToText("a/b827eb000001/u/data", payload, {
        format,
        onSkip: (reason) => textSkipped.push(reason),
      });
      const context = `${format}: ${new TextDecoder().decode(payload)}`;
      if (expected.kind === "record") {
        assert.deepEqual(result, {
          kind: "record",
          text: formatRecord(expected.record, format),
          readingTime: expected.readingTime,
        }, context);
      } else {
        assert.deepEqual(result, expected, context);
      }
      assert.deepEqual(textSkipped, skipped, context);
    }
  }
});
