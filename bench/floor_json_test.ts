import assert from "node:assert/strict";
import { floorParse } from "./floor_json.ts";
import { replaceNonFiniteTokens as replaceNonFinite } from "../src/transform/json_reader.ts";

Deno.test("floorParse() reads Python's bare NaN and infinities as null, and leaves strings be", () => {
  assert.deepEqual(floorParse('{"a": NaN, "b": [Infinity, -Infinity], "c": "NaN \\" Infinity"}'), {
    a: null,
    b: [null, null],
    c: 'NaN " Infinity',
  });
  assert.equal(replaceNonFinite('{"a":1}'), '{"a":1}');
});

Deno.test("floorParse() throws the parse error of text that is not JSON even so", () => {
  assert.throws(() => floorParse('{"a": nan}'), SyntaxError);
  assert.throws(() => floorParse('{"a": NaN,}'), SyntaxError);
});
