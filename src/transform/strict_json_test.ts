import assert from "node:assert/strict";
import fc from "fast-check";
import { parseExactJson } from "./exact_integer.ts";
import { hasEscapedKey, parseStrictJson } from "./strict_json.ts";
import { parseJson, transform } from "./transform.ts";

const R = String.raw;

Deno.test("parseJson() reads escaped keys right after JSON.parse has seen a key ending in a backslash", () => {
  // These leave V8's JSON.parse with a transition for the key "a\" after "h"
  // (nodejs/node#63785); an escaped key "a\n" in the same place then came
  // back as "a\".
  JSON.parse(R`{"h":0,"a\\":1}`);
  JSON.parse(R`{"h":0,"\\":1}`);
  assert.deepEqual(Object.keys(parseJson(R`{"h":0,"a\n":1}`) as object), ["h", "a\n"]);
  assert.deepEqual(Object.keys(parseJson(R`{"h":0,"\u0042":1}`) as object), ["h", "B"]);
  assert.deepEqual(Object.keys(parseJson(R`{"h":0,"\"":1}`) as object), ["h", '"']);
});

Deno.test("transform() keeps one payload's keys from renaming the readings of the next", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  transform("a/n/u/data", bytes(R`{"t":1,"r":[{"_vid":"x","\\":1}]}`));
  const result = transform("a/n/u/data", bytes(R`{"t":1,"r":[{"_vid":"x","\n":2}]}`));
  assert.equal(result.kind, "record");
  assert.deepEqual(Object.entries(result.record.data.x), [["\n", 2]]);
});

Deno.test("hasEscapedKey() finds escapes in keys only, not in values", () => {
  assert.equal(hasEscapedKey(R`{"a\n":1}`), true);
  assert.equal(hasEscapedKey(R`{"a\"" : 1}`), true);
  assert.equal(hasEscapedKey(R`{"a":"\n"}`), false);
  assert.equal(hasEscapedKey(R`["\n",":"]`), false);
  assert.equal(hasEscapedKey(R`{"a":"x\\","b":1}`), false);
  assert.equal(hasEscapedKey(`{"plain":1}`), false);
});

Deno.test("parseStrictJson() reads what JSON.stringify writes, for 20,000 generated values", () => {
  fc.assert(
    fc.property(fc.jsonValue({ stringUnit: "binary" }), (value) => {
      const text = JSON.stringify(value);
      // The values JSON.parse reads, integers beyond 2^53 with every digit
      // (1e+21 is written 1000000000000000000000), as the reviver reads them.
      const read = JSON.stringify(parseStrictJson(text));
      assert.deepEqual(JSON.parse(read), JSON.parse(text));
      assert.equal(read, JSON.stringify(parseExactJson(text)));
      const spaced = JSON.stringify(value, null, 2);
      assert.equal(JSON.stringify(parseStrictJson(spaced)), read);
    }),
    { numRuns: 20_000 },
  );
});

Deno.test("parseStrictJson() refuses exactly what JSON.parse refuses, for 20,000 broken texts", () => {
  const broken = fc.tuple(
    fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
    fc.nat(),
    fc.oneof(
      fc.constantFrom(...'{}[],:"\\0-.eE+tfnu \n\t\u0000\u001f'),
      fc.string({ maxLength: 2 }),
    ),
    fc.boolean(),
  ).map(([text, at, piece, replace]) => {
    const i = at % (text.length + 1);
    return text.slice(0, i) + piece + text.slice(replace ? i + 1 : i);
  }).filter((text) => !/NaN|Infinity/.test(text));
  fc.assert(
    fc.property(broken, (text) => {
      let native: unknown;
      let nativeError = false;
      try {
        // JSON.parse, reading integers beyond 2^53 exactly as the strict parser does.
        native = parseExactJson(text);
      } catch {
        nativeError = true;
      }
      let strict: unknown;
      let strictError: unknown;
      try {
        strict = parseStrictJson(text);
      } catch (error) {
        strictError = error;
      }
      assert.equal(strictError !== undefined, nativeError, text);
      if (strictError !== undefined) {
        assert.ok(strictError instanceof SyntaxError);
      } else if (!hasEscapedKey(text)) {
        assert.equal(JSON.stringify(strict), JSON.stringify(native), text);
      }
    }),
    { numRuns: 20_000 },
  );
});

Deno.test("parseStrictJson() reads Python's NaN and Infinity as null, outside strings only", () => {
  assert.deepEqual(parseStrictJson(R`{"a\n":[NaN,Infinity,-Infinity,"NaN"]}`), {
    "a\n": [null, null, null, "NaN"],
  });
});

Deno.test("parseStrictJson() nests a million levels deep without overflowing the stack", () => {
  const depth = 1_000_000;
  let value = parseStrictJson("[".repeat(depth) + "]".repeat(depth));
  let levels = 0;
  while (Array.isArray(value) && value.length > 0) {
    value = value[0];
    levels++;
  }
  assert.equal(levels, depth - 1);
  assert.throws(() => parseStrictJson("[".repeat(depth)), SyntaxError);
});

Deno.test("parseStrictJson() makes __proto__ a plain own key, as JSON.parse does", () => {
  const parsed = parseStrictJson(R`{"__proto__":{"polluted":1},"\u0061":2}`) as Record<
    string,
    unknown
  >;
  assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
  assert.ok(Object.hasOwn(parsed, "__proto__"));
  assert.deepEqual(Object.keys(parsed), ["__proto__", "a"]);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  // Repeated keys: the last value wins, in the first one's place.
  assert.deepEqual(Object.entries(parseStrictJson(R`{"\u0061":1,"b":2,"a":3}`) as object), [
    ["a", 3],
    ["b", 2],
  ]);
});
