import assert from "node:assert/strict";
import { transform, transformToLine } from "../src/transform/transform.ts";
import { generateMessages, readProbe, withProbe } from "./generator.ts";
import { distribution } from "./stats.ts";

Deno.test("generateMessages() gives the same payloads for the same seed and others for another", () => {
  const a = generateMessages(50, { seed: 3 });
  assert.deepEqual(generateMessages(50, { seed: 3 }), a);
  assert.notDeepEqual(generateMessages(50, { seed: 4 }), a);
});

Deno.test("generated payloads are AMMP data payloads of realistic sizes over many nodes", () => {
  const messages = generateMessages(5000, { seed: 1, nodes: 500 });
  const encoder = new TextEncoder();
  const sizes = distribution(messages.map((m) => encoder.encode(m.payload).byteLength));
  assert.ok(sizes.p50 > 1000 && sizes.p50 < 3000, `median ${sizes.p50} B`);
  assert.ok(sizes.max > 20_000 && sizes.max < 64 * 1024, `max ${sizes.max} B`);
  assert.ok(new Set(messages.map((m) => m.topic)).size > 400);
  let nulls = 0;
  let texts = 0;
  let statuses = 0;
  for (const { topic, payload } of messages) {
    assert.match(topic, /^a\/[0-9a-f]{12}\/u\/data$/);
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
});
