import assert from "node:assert/strict";
import { type QuietClock, whenQuiet } from "./_quiet.ts";

// A clock that moves only when the test says so.
function manualClock(): QuietClock & { advance(ms: number): void } {
  let now = 1_000_000;
  const ticks: { ms: number; next: number; tick: () => void }[] = [];
  return {
    now: () => now,
    every(ms, tick) {
      const entry = { ms, next: now + ms, tick };
      ticks.push(entry);
      return () => ticks.splice(ticks.indexOf(entry), 1);
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = ticks.filter((entry) => entry.next <= end).sort((a, b) => a.next - b.next)[0];
        if (due === undefined) {
          break;
        }
        now = due.next;
        due.next += due.ms;
        due.tick();
      }
      now = end;
    },
  };
}

Deno.test("whenQuiet() ends the wait once nothing came and all is acknowledged for the quiet time", () => {
  const clock = manualClock();
  const agent = { ready: true, unacknowledged: 0 };
  let lastMessage = 0;
  let quiet = 0;
  const stop = whenQuiet(agent, {
    quietSeconds: 5,
    lastMessageReceived: () => lastMessage,
    onQuiet: () => quiet++,
    clock,
  });
  clock.advance(3000);
  // A message arrives: the five seconds count from it.
  lastMessage = clock.now() / 1000;
  clock.advance(4900);
  assert.equal(quiet, 0);
  clock.advance(100);
  assert.equal(quiet, 1);
  stop();
  clock.advance(10_000);
  assert.equal(quiet, 1);
});

Deno.test("whenQuiet() does not count while the agent is not ready or holds unacknowledged messages", () => {
  const clock = manualClock();
  const agent = { ready: false, unacknowledged: 0 };
  let quiet = 0;
  whenQuiet(agent, {
    quietSeconds: 1,
    lastMessageReceived: () => 0,
    onQuiet: () => quiet++,
    clock,
  });
  clock.advance(5000);
  assert.equal(quiet, 0);
  agent.ready = true;
  clock.advance(900);
  // Unacknowledged messages before the second is up start the count anew.
  agent.unacknowledged = 3;
  clock.advance(5000);
  assert.equal(quiet, 0);
  agent.unacknowledged = 0;
  clock.advance(900);
  assert.equal(quiet, 0);
  clock.advance(200);
  assert.equal(quiet, 1);
});
