import assert from "node:assert/strict";
import { IntervalCounts } from "./interval_counts.ts";

// A whole minute of the clock.
const T0 = 1_790_000_040;

Deno.test("IntervalCounts gives whole minutes only: not the one under way, nor the one it started in", () => {
  const counts = new IntervalCounts(T0 - 25);
  counts.add(T0 - 10, "record");
  counts.add(T0 + 5, "record");
  counts.add(T0 + 59.999, "dead");
  counts.add(T0 + 60, "ignored");
  counts.add(T0 + 130, "record");
  assert.deepEqual(counts.whole(T0 + 59), []);
  assert.deepEqual(counts.whole(T0 + 150), [
    { start: T0, end: T0 + 60, counts: { record: 1, ignored: 0, dead: 1 } },
    { start: T0 + 60, end: T0 + 120, counts: { record: 0, ignored: 1, dead: 0 } },
  ]);
  assert.equal(counts.whole(T0 + 180).at(-1)!.counts.record, 1);
});

Deno.test("IntervalCounts counts minutes without a message as 0 and keeps the last hour", () => {
  const counts = new IntervalCounts(T0);
  counts.add(T0 + 1, "record");
  counts.add(T0 + 600, "record");
  const whole = counts.whole(T0 + 3 * 3600);
  assert.equal(whole.length, 60);
  assert.equal(whole[0].start, T0 + 2 * 3600);
  assert.ok(whole.every((m) => m.counts.record === 0), "the old minutes' slots are not read back");
  assert.equal(counts.whole(T0 + 660).filter((m) => m.counts.record === 1).length, 2);
});

Deno.test("IntervalCounts drops a message from before the ring after the clock stepped back", () => {
  const counts = new IntervalCounts(T0);
  counts.add(T0 + 3700, "record");
  counts.add(T0 + 40, "record");
  const counted = counts.whole(T0 + 3720).filter((m) => m.counts.record > 0);
  assert.deepEqual(counted.map((m) => [m.start - T0, m.counts.record]), [[3660, 1]]);
});

Deno.test("IntervalCounts takes other intervals than a minute", () => {
  const counts = new IntervalCounts(T0, { intervalSeconds: 10, intervals: 3 });
  for (let i = 0; i < 100; i++) counts.add(T0 + i, "record");
  assert.deepEqual(counts.whole(T0 + 100).map((m) => [m.start - T0, m.counts.record]), [
    [70, 10],
    [80, 10],
    [90, 10],
  ]);
});
