import assert from "node:assert/strict";
import { transform, transformToLine } from "../src/transform/transform.ts";
import { floorParse } from "./floor_json.ts";
import {
  generateMessages,
  PAYLOAD_CLASSES,
  type PayloadClass,
  readProbe,
  REALISTIC_SHARES,
  withProbe,
} from "./generator.ts";
import { distribution } from "./stats.ts";

async function sha256(messages: { topic: string; payload: string }[]): Promise<string> {
  const text = messages.map((m) => `${m.topic}\n${m.payload}\n`).join("");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

type Device = Record<string, unknown>;

const NON_ASCII = /[\u0080-\uffff]/;
const TWO_TO_53 = 2n ** 53n;

// The devices a second driver or a calculation added to a payload.
function added(device: Device): boolean {
  return device._d === "_calc" || /^(sunspec|modbus_tcp)_/.test(String(device._d));
}

function hasNonAscii(device: Device): boolean {
  return Object.entries(device).some(([key, value]) =>
    NON_ASCII.test(key) || (typeof value === "string" && NON_ASCII.test(value))
  );
}

// The classes of a payload, read from its text alone.
function classesOf(payload: string): PayloadClass[] {
  const body = floorParse(payload) as { r: Device[] };
  const found = new Set<PayloadClass>();
  const python = payload.includes('": ');
  if (python) found.add("python");
  const devices = body.r;
  if (devices.some(hasNonAscii)) found.add(python ? "non_ascii_escaped" : "non_ascii_raw");
  const integers = payload.matchAll(/: ?(\d{16,})[,}]/g);
  if ([...integers].some((match) => BigInt(match[1]) > TWO_TO_53)) found.add("counter_64bit");
  const vids = devices.map((device) => device._vid).filter((vid) => typeof vid === "string");
  if (new Set(vids).size < vids.length) found.add("repeated_vid");
  if (devices.some((device) => device._vid === undefined || device._vid === null)) {
    found.add("no_vid");
  }
  if (/: ?(NaN|-?Infinity)[,}]/.test(payload)) found.add("non_finite");
  if (devices.filter((device) => !added(device)).length >= 200) found.add("large_site");
  if (devices.some((device) => device._s !== undefined)) found.add("status");
  return found.size === 0 ? ["plain"] : PAYLOAD_CLASSES.filter((c) => found.has(c));
}

Deno.test("generateMessages() gives the same payloads for the same seed and others for another", () => {
  const a = generateMessages(50, { seed: 3 });
  assert.deepEqual(generateMessages(50, { seed: 3 }), a);
  assert.notDeepEqual(generateMessages(50, { seed: 4 }), a);
});

Deno.test("the compact mix is byte for byte the payloads of earlier runs", async () => {
  // Hashes of the generator's output before it had a realistic mix.
  assert.equal(
    await sha256(generateMessages(20_000, { seed: 1, mix: "compact" })),
    "f26b33a76d3d9166b61ab4337185d1a03e97963b6db419d89c8b86bc68dc6205",
  );
  assert.equal(
    await sha256(generateMessages(500, { seed: 7, mix: "compact" })),
    "1d2166c7fa010e11b1db1d97b7566a3d23a62eacbd1ed6af7bfcd68c46b68ebc",
  );
  assert.equal(
    await sha256(generateMessages(2000, { seed: 3, nodes: 50, mix: "compact" })),
    "50c26f26f48165a7a2a6921b76bbbe4a2f4ba85700c46f322e763e3a4a3c7f02",
  );
});

Deno.test("compact payloads are AMMP data payloads of realistic sizes over many nodes", () => {
  const messages = generateMessages(5000, { seed: 1, nodes: 500, mix: "compact" });
  const encoder = new TextEncoder();
  const sizes = distribution(messages.map((m) => encoder.encode(m.payload).byteLength));
  assert.ok(sizes.p50 > 1000 && sizes.p50 < 3000, `median ${sizes.p50} B`);
  assert.ok(sizes.max > 20_000 && sizes.max < 64 * 1024, `max ${sizes.max} B`);
  assert.ok(new Set(messages.map((m) => m.topic)).size > 400);
  let nulls = 0;
  let texts = 0;
  let statuses = 0;
  for (const { topic, payload, classes } of messages) {
    assert.match(topic, /^a\/[0-9a-f]{12}\/u\/data$/);
    assert.doesNotMatch(payload, NON_ASCII);
    assert.deepEqual(classes, classesOf(payload));
    const body = JSON.parse(payload);
    assert.equal(typeof body.t, "number");
    assert.ok(body.r.length >= 1 && body.r.length <= 60);
    for (const device of body.r) {
      const readings = Object.keys(device).filter((key) => !key.startsWith("_"));
      assert.ok(readings.length >= 5 && readings.length <= 40, `${readings.length} readings`);
      for (const key of readings) {
        if (device[key] === null) nulls++;
        if (typeof device[key] === "string") texts++;
      }
      if (device._s !== undefined) statuses++;
    }
    // The agent's line is exactly the record's JSON.
    const result = transform(topic, encoder.encode(payload));
    assert.equal(result.kind, "record");
    assert.deepEqual(transformToLine(topic, encoder.encode(payload)), {
      kind: "record",
      line: JSON.stringify(result.kind === "record" ? result.record : null),
      readingTime: result.kind === "record" ? result.readingTime : NaN,
    });
  }
  assert.ok(
    nulls > 0 && texts > 0 && statuses > 0,
    `${nulls} nulls, ${texts} texts, ${statuses} _s`,
  );
});

Deno.test("the realistic mix holds its shares on 20,000 payloads, each payload tagged with its classes", () => {
  const messages = generateMessages(20_000, { seed: 1, nodes: 500 });
  const count = new Map<PayloadClass, number>();
  let devices = 0;
  let nonAsciiDevices = 0;
  let statusDevices = 0;
  const encoder = new TextEncoder();
  for (const { payload, classes } of messages) {
    assert.deepEqual(classes, classesOf(payload), payload.slice(0, 200));
    for (const c of classes) count.set(c, (count.get(c) ?? 0) + 1);
    if (classes.includes("python")) assert.doesNotMatch(payload, NON_ASCII);
    if (classes.includes("large_site")) {
      const size = encoder.encode(payload).byteLength;
      assert.ok(size > 35_000 && size < 220_000, `large site of ${size} B`);
    }
    for (const device of (floorParse(payload) as { r: Device[] }).r) {
      if (added(device)) continue;
      devices++;
      if (hasNonAscii(device)) nonAsciiDevices++;
      if (device._s !== undefined) statusDevices++;
    }
  }
  const share = (c: PayloadClass) => (count.get(c) ?? 0) / messages.length;
  const near = (measured: number, expected: number, tolerance: number, what: string) =>
    assert.ok(
      Math.abs(measured - expected) <= tolerance,
      `${what}: ${measured.toFixed(4)}, expected ${expected} ± ${tolerance}`,
    );
  near(share("python"), REALISTIC_SHARES.python, 0.02, "python");
  near(share("counter_64bit"), REALISTIC_SHARES.counter64bit, 0.01, "counter_64bit");
  near(share("repeated_vid"), REALISTIC_SHARES.repeatedVid, 0.015, "repeated_vid");
  near(share("no_vid"), REALISTIC_SHARES.noVid, 0.01, "no_vid");
  near(share("non_finite"), REALISTIC_SHARES.nonFinite, 0.005, "non_finite");
  near(share("large_site"), REALISTIC_SHARES.largeSites, 0.005, "large_site");
  near(nonAsciiDevices / devices, REALISTIC_SHARES.nonAsciiDevices, 0.02, "non-ASCII devices");
  near(statusDevices / devices, REALISTIC_SHARES.statusDevices, 0.005, "devices with _s");
  for (const c of PAYLOAD_CLASSES) assert.ok(share(c) > 0.005, `${c}: ${share(c)}`);
});

Deno.test("the realistic mix is the compact mix with the realistic traits added", () => {
  const compact = generateMessages(3000, { seed: 5, mix: "compact" });
  const realistic = generateMessages(3000, { seed: 5, mix: "realistic" });
  let same = 0;
  for (const [i, message] of realistic.entries()) {
    assert.equal(message.topic, compact[i].topic);
    assert.equal(
      JSON.parse(compact[i].payload).t,
      (floorParse(message.payload) as { t: number }).t,
    );
    if (message.classes.every((c) => c === "plain" || c === "status")) {
      assert.equal(message.payload, compact[i].payload);
      same++;
    }
  }
  assert.ok(same > 100, `${same} payloads without traits`);
});

Deno.test("every payload of the realistic mix becomes a record, and the floor reads it", () => {
  const encoder = new TextEncoder();
  for (const { topic, payload } of generateMessages(5000, { seed: 2 })) {
    const result = transform(topic, encoder.encode(payload));
    assert.equal(result.kind, "record", payload.slice(0, 200));
    assert.doesNotThrow(() => floorParse(payload));
  }
});

Deno.test("a probe put into a payload can be read back from the payload and from its record", () => {
  const [message] = generateMessages(1, { seed: 9 });
  const payload = withProbe(message.payload, 42, 1732659000123456);
  assert.deepEqual(readProbe(payload), { seq: 42, sent: 1732659000123456 });
  const result = transform(message.topic, new TextEncoder().encode(payload));
  assert.equal(result.kind, "record");
  const line = JSON.stringify(result.kind === "record" ? result.record : null);
  assert.deepEqual(readProbe(line), { seq: 42, sent: 1732659000123456 });
  assert.equal(readProbe('{"t":1,"r":[]}'), undefined);
  assert.deepEqual(JSON.parse(withProbe('{"t":1,"r":[]}', 0, 5)).r, [
    { _d: "bench", _vid: "bench", seq: 0, sent: 5 },
  ]);
  assert.deepEqual(JSON.parse(withProbe('{"t": 1, "r": [{"_vid": "a"}]}', 0, 5)).r, [
    { _d: "bench", _vid: "bench", seq: 0, sent: 5 },
    { _vid: "a" },
  ]);
});
