import assert from "node:assert/strict";
import fc from "fast-check";
import { parsePayload } from "./payload.ts";

const strict = new TextDecoder("utf-8", { fatal: true });
const enc = new TextEncoder();

// Valid JSON around arbitrary bytes inside a string: only the UTF-8 check
// can turn it away.
function wrapped(inner: Uint8Array): Uint8Array {
  return new Uint8Array([...enc.encode('{"t":1,"r":[],"s":"'), ...inner, ...enc.encode('"}')]);
}

function isStrictUtf8(bytes: Uint8Array): boolean {
  try {
    strict.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

Deno.test("parsePayload() turns away exactly the payloads that are not valid UTF-8", () => {
  const cases: number[][] = [
    [0xef, 0xbf, 0xbd], // U+FFFD itself: valid
    [0xef, 0xbf, 0xbd, 0xff], // U+FFFD, then a byte that is never UTF-8
    [0xc0, 0xaf], // overlong "/"
    [0xed, 0xa0, 0x80], // a surrogate
    [0xf4, 0x90, 0x80, 0x80], // beyond U+10FFFF
    [0xe2, 0x82], // cut short
    [0xf0, 0x9f, 0x98, 0x80], // U+1F600: valid
  ];
  for (const bytes of cases) {
    const inner = new Uint8Array(bytes);
    const result = parsePayload("site/x", wrapped(inner));
    const dead = result.kind === "dead" && result.reason === "not_utf8";
    assert.equal(dead, !isStrictUtf8(inner), `bytes ${bytes.map((b) => b.toString(16))}`);
  }
  // Bytes cut short at the very end of the payload.
  const cut = parsePayload("site/x", new Uint8Array([...enc.encode('{"t":1,"r":[]}'), 0xe2]));
  assert.equal(cut.kind === "dead" && cut.reason, "not_utf8");
});

Deno.test("parsePayload() agrees with the strict decoder on arbitrary bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 24 }), (inner) => {
      const result = parsePayload("site/x", wrapped(inner));
      const notUtf8 = result.kind === "dead" && result.reason === "not_utf8";
      assert.equal(notUtf8, !isStrictUtf8(wrapped(inner)));
      if (result.kind === "payload") assert.equal(result.text, strict.decode(wrapped(inner)));
    }),
    { numRuns: 5000 },
  );
});

Deno.test("parsePayload() reads a payload that starts with a byte-order mark as the strict decoder does", () => {
  const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode('{"t":1,"r":[]}')]);
  const result = parsePayload("site/x", bytes);
  assert.equal(result.kind, "payload");
  if (result.kind === "payload") assert.equal(result.text, strict.decode(bytes));
});
