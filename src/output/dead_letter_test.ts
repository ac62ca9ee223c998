import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { deadLetterLine } from "./dead_letter.ts";
import { setupLogging } from "../log.ts";

const payload = new TextEncoder().encode("not json PAYLOAD-MARKER");
const letter = {
  reason: "not_json" as const,
  detail: "Payload is not JSON",
  topic: "a/n/u/data",
  receivedAt: new Date("2026-12-01T10:00:00Z"),
  payload,
};

Deno.test("a dead letter on stderr keeps its payload, time and size in text logs as in JSON ones", () => {
  const base64 = Buffer.from(payload).toString("base64");
  for (const format of ["json", "text"] as const) {
    setupLogging({ level: "info", format, write: () => {} });
    const line = deadLetterLine(letter, { log: true });
    assert.ok(line.includes(base64), `${format}: ${line}`);
    assert.ok(line.includes("2026-12-01T10:00:00.000Z"), `${format}: ${line}`);
    assert.ok(line.includes(String(payload.byteLength)), `${format}: ${line}`);
    assert.ok(!line.includes("\n"), `${format}: one line`);
  }
  setupLogging({ level: "info", format: "json", write: () => {} });
});

Deno.test("a dead letter names the node its record would have had, and no node when there is none", () => {
  const entry = (node?: string) => JSON.parse(deadLetterLine({ ...letter, topic: "u/data", node }));
  assert.deepEqual(Object.keys(entry("b827eb00beef")).slice(0, 5), [
    "reason",
    "detail",
    "topic",
    "node_id",
    "received_at",
  ]);
  assert.equal(entry("b827eb00beef").node_id, "b827eb00beef");
  assert.ok(!("node_id" in entry()));
});
