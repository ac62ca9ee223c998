import assert from "node:assert/strict";
import fc from "fast-check";
import { formatTime } from "./record.ts";

// What formatTime() wrote with a Date per call.
function withDate(t: number): string {
  const ms = Math.round(t * 1000);
  const iso = new Date(ms).toISOString();
  return (ms % 1000 === 0 ? iso.slice(0, 19) : iso.slice(0, 23)) + "+00:00";
}

const MAX_T = 253402300799.999;

Deno.test("formatTime() writes every instant up to the year 9999 as a Date would, in any order", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.double({ min: 0, max: MAX_T, noNaN: true }),
          fc.integer({ min: 0, max: 2_932_896 }).map((day) => day * 86400 - 0.0004),
          fc.integer({ min: 0, max: 2_932_896 }).map((day) => day * 86400 + 86399.9996),
          fc.integer({ min: 0, max: 253402300799 }),
        ).filter((t) => t >= 0 && t * 1000 <= 253402300799999),
        { minLength: 1, maxLength: 20 },
      ),
      (times) => {
        for (const t of times) assert.equal(formatTime(t), withDate(t), `t = ${t}`);
      },
    ),
    { numRuns: 3000 },
  );
});
