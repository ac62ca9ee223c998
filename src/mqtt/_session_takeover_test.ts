import assert from "node:assert/strict";
import { RIGHT_AFTER_CONNACK_MS, TakeoverWatch } from "./_session_takeover.ts";

// A watch on a clock the test moves.
function watch(): { watch: TakeoverWatch; advance(ms: number): void } {
  let now = 0;
  return { watch: new TakeoverWatch(() => now), advance: (ms) => void (now += ms) };
}

Deno.test("TakeoverWatch reads a DISCONNECT with reason code 142 as a takeover at once, however long the connection lasted", () => {
  const { watch: takeover, advance } = watch();
  takeover.connected();
  advance(60_000);
  takeover.disconnected(142);
  assert.deepEqual(takeover.closed(undefined), { told: true, closesInARow: 0 });
  takeover.connected();
  takeover.disconnected(152); // administrative action: another cause
  assert.equal(takeover.closed(undefined), undefined);
});

Deno.test("TakeoverWatch reads quiet closes right after the CONNACK as a takeover from the second in a row", () => {
  const { watch: takeover, advance } = watch();
  const quickClose = () => {
    takeover.connected();
    advance(RIGHT_AFTER_CONNACK_MS - 1);
    return takeover.closed(undefined);
  };
  assert.equal(quickClose(), undefined);
  assert.deepEqual(quickClose(), { told: false, closesInARow: 2 });
  assert.deepEqual(quickClose(), { told: false, closesInARow: 3 });
});

Deno.test("TakeoverWatch starts counting again after a connection that lasted, an error, a failed connect or another DISCONNECT", () => {
  const { watch: takeover, advance } = watch();
  const breaks: [string, () => void][] = [
    ["a connection that lasted", () => {
      takeover.connected();
      advance(RIGHT_AFTER_CONNACK_MS);
      assert.equal(takeover.closed(undefined), undefined);
    }],
    ["an error", () => {
      takeover.connected();
      assert.equal(takeover.closed(new Error("read ECONNRESET")), undefined);
    }],
    ["a failed connect", () => assert.equal(takeover.closed(new Error("refused")), undefined)],
    ["a DISCONNECT of another reason", () => {
      takeover.connected();
      takeover.disconnected(139); // server shutting down
      assert.equal(takeover.closed(undefined), undefined);
    }],
  ];
  for (const [what, interrupt] of breaks) {
    takeover.connected();
    assert.equal(takeover.closed(undefined), undefined, what);
    interrupt();
    takeover.connected();
    assert.equal(takeover.closed(undefined), undefined, `the first quiet close after ${what}`);
    takeover.connected();
    assert.deepEqual(takeover.closed(undefined), { told: false, closesInARow: 2 }, what);
    // Leave the count at 0 for the next case.
    takeover.connected();
    assert.ok(takeover.closed(new Error("reset")) === undefined);
  }
});
