import assert from "node:assert/strict";
import { encodePubacks } from "./_puback.ts";

Deno.test("encodePubacks() writes each id as a four-byte success PUBACK, high byte first", () => {
  // MQTT 3.1.1 section 3.4 and MQTT 5 section 3.4.2.1: type 4, remaining
  // length 2, the packet id; a success without properties ends there.
  assert.deepEqual(
    [...encodePubacks([1, 258, 65535])],
    [0x40, 2, 0, 1, 0x40, 2, 1, 2, 0x40, 2, 0xff, 0xff],
  );
  assert.equal(encodePubacks([]).length, 0);
});
