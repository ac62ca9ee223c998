import assert from "node:assert/strict";
import { BufferedBytes } from "./buffered_bytes.ts";

function counted(limit: number) {
  const events: string[] = [];
  const buffered = new BufferedBytes(limit, {
    onFull: () => events.push("full"),
    onRoom: () => events.push("room"),
  });
  return { buffered, events };
}

// Nothing is left counted, and the limit was reached and left once.
function assertEmptiedAfterFilling(buffered: BufferedBytes, events: string[]): void {
  assert.equal(buffered.bytes, 0);
  assert.deepEqual(events, ["full", "room"]);
}

Deno.test("BufferedBytes is full once the count reaches the limit, and has room below it", () => {
  const { buffered, events } = counted(100);
  buffered.take(60);
  assert.deepEqual(events, []);
  buffered.take(40);
  assert.equal(buffered.bytes, 100);
  assert.equal(buffered.full, true);
  // Taken while full (the message already handed over): counted, no new event.
  buffered.take(30);
  assert.equal(buffered.bytes, 130);
  assert.deepEqual(events, ["full"]);
  buffered.release(30);
  assert.equal(buffered.bytes, 100);
  assert.deepEqual(events, ["full"], "still full at the limit itself");
  buffered.release(60);
  assert.equal(buffered.bytes, 40);
  assert.equal(buffered.full, false);
  assert.deepEqual(events, ["full", "room"]);
  buffered.release(40);
  assertEmptiedAfterFilling(buffered, events);
});

Deno.test("BufferedBytes lets one message larger than the limit through, and then has room", () => {
  const { buffered, events } = counted(100);
  buffered.take(250);
  assert.deepEqual(events, ["full"]);
  buffered.release(250);
  assertEmptiedAfterFilling(buffered, events);
});

Deno.test("BufferedBytes has room again only once the bytes released fall below the limit", () => {
  const { buffered, events } = counted(100);
  buffered.take(100);
  buffered.take(10);
  // Released together, as one written batch is.
  buffered.release(10);
  assert.deepEqual(events, ["full"]);
  buffered.release(100);
  assertEmptiedAfterFilling(buffered, events);
});

Deno.test("BufferedBytes counts messages of no bytes without ever filling up", () => {
  const { buffered, events } = counted(100);
  for (let i = 0; i < 1000; i++) buffered.take(0);
  assert.equal(buffered.bytes, 0);
  assert.equal(buffered.full, false);
  assert.deepEqual(events, []);
});
