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
  const first = buffered.take(60);
  assert.deepEqual(events, []);
  const second = buffered.take(40);
  assert.equal(buffered.bytes, 100);
  assert.equal(buffered.full, true);
  // Taken while full (the message already handed over): counted, no new event.
  const third = buffered.take(30);
  assert.equal(buffered.bytes, 130);
  assert.deepEqual(events, ["full"]);
  third();
  assert.equal(buffered.bytes, 100);
  assert.deepEqual(events, ["full"], "still full at the limit itself");
  first();
  assert.equal(buffered.bytes, 40);
  assert.equal(buffered.full, false);
  assert.deepEqual(events, ["full", "room"]);
  second();
  assertEmptiedAfterFilling(buffered, events);
});

Deno.test("BufferedBytes lets one message larger than the limit through, and then has room", () => {
  const { buffered, events } = counted(100);
  const written = buffered.take(250);
  assert.deepEqual(events, ["full"]);
  written();
  assertEmptiedAfterFilling(buffered, events);
});

Deno.test("BufferedBytes counts a message written twice only once", () => {
  const { buffered, events } = counted(100);
  const big = buffered.take(100);
  const small = buffered.take(10);
  big();
  big();
  assert.equal(buffered.bytes, 10);
  small();
  assertEmptiedAfterFilling(buffered, events);
});

Deno.test("BufferedBytes counts messages of no bytes without ever filling up", () => {
  const { buffered, events } = counted(100);
  for (let i = 0; i < 1000; i++) buffered.take(0);
  assert.equal(buffered.bytes, 0);
  assert.equal(buffered.full, false);
  assert.deepEqual(events, []);
});
