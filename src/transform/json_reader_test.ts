import assert from "node:assert/strict";
import { memberText } from "./json_reader.ts";

Deno.test("memberText() gives the text of a top-level member's value, the last of a repeated key", () => {
  const cases: [string, string | undefined][] = [
    ['{"t":1709288100.00049999,"r":[]}', "1709288100.00049999"],
    [' \n{ "t" :\t1.5e-3 , "r" : [ ] } ', "1.5e-3"],
    ['{"r":[],"t":-0.0}', "-0.0"],
    ['{"t":1,"r":[],"t":2.25}', "2.25"],
    // Keys of nested objects, and text in strings, are not members.
    ['{"m":{"t":9.5},"r":[{"t":8.5}],"t":7.5}', "7.5"],
    ['{"s":"\\"t\\":6.5,{","t":5.5}', "5.5"],
    ['{"a":"x\\\\","t":4.5}', "4.5"],
    ['{"m":{"t":9.5},"r":[]}', undefined],
    // A key spelled with escapes is the key it stands for.
    ['{"\\u0074":3.5,"r":[]}', "3.5"],
    ['{"t\\u0000":3.5,"r":[]}', undefined],
    // Python's bare tokens elsewhere.
    ['{"n":NaN,"i":-Infinity,"t":2.5}', "2.5"],
    ['{"t":"2.5","r":[]}', undefined],
  ];
  for (const [text, expected] of cases) assert.equal(memberText(text, "t"), expected, text);
});

Deno.test("memberText() reads past nesting 100,000 levels deep", () => {
  const deep = "[".repeat(100_000) + "]".repeat(100_000);
  assert.equal(memberText(`{"m":${deep},"t":1.25,"r":${deep}}`, "t"), "1.25");
});
