import assert from "node:assert/strict";
import { NumberQueue } from "./number_queue.ts";

Deno.test("NumberQueue gives numbers back in the order they came, across growing and wrapping", () => {
  const queue = new NumberQueue();
  const expected: number[] = [];
  let next = 0;
  // Uneven pushes and shifts wrap the ring many times and grow it twice.
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 97 + round * 3; i++) {
      queue.push(next);
      expected.push(next++);
    }
    for (let i = 0; i < 80 + round * 2; i++) assert.equal(queue.shift(), expected.shift());
    assert.equal(queue.length, expected.length);
    if (expected.length > 0) assert.equal(queue.at(expected.length - 1), expected.at(-1));
  }
  while (queue.length > 0) assert.equal(queue.shift(), expected.shift());
  assert.deepEqual(expected, []);
});

Deno.test("NumberQueue keeps message ids and byte counts exactly", () => {
  const queue = new NumberQueue();
  for (const value of [-1, 0, 65535, 2 ** 40 + 1]) queue.push(value);
  assert.deepEqual([queue.shift(), queue.shift(), queue.shift(), queue.shift()], [
    -1,
    0,
    65535,
    2 ** 40 + 1,
  ]);
});
