import assert from "node:assert/strict";
import { Registry } from "./prom_client.ts";
import { EventLoopLag, LAG_SAMPLE_MS, registerProcessMetrics } from "./process_metrics.ts";

// A monitor on a clock the test moves: each tick comes `late` ms after due.
function driven(lates: number[]): { lag: EventLoopLag; clock: { now: number } } {
  const clock = { now: 1000 };
  const lag = new EventLoopLag({ now: () => clock.now });
  for (const late of lates) {
    clock.now += LAG_SAMPLE_MS + late;
    lag.tick();
  }
  return { lag, clock };
}

Deno.test("EventLoopLag reports how late its timer fired, as percentiles of the window", () => {
  // 98 ticks on time, one 40 ms late, one 250 ms late.
  const { lag } = driven([...Array(98).fill(0), 40, 250]);
  const window = lag.window();
  assert.equal(window.latest, 0.25);
  assert.equal(window.min, 0);
  assert.equal(window.max, 0.25);
  assert.equal(window.p50, 0);
  assert.equal(window.p99, 0.04);
  assert.ok(Math.abs(window.mean - 0.0029) < 1e-9, `mean ${window.mean}`);
});

Deno.test("EventLoopLag starts a new window at each scrape", () => {
  const { lag, clock } = driven([300]);
  assert.equal(lag.window().max, 0.3);
  clock.now += LAG_SAMPLE_MS + 5;
  lag.tick();
  const next = lag.window();
  assert.equal(next.max, 0.005, "the 300 ms of the last window are not counted again");
});

Deno.test("EventLoopLag counts a loop busy since its last tick as late, at the scrape", () => {
  const { lag, clock } = driven([0]);
  // The timer has not fired for 2 s: the loop was busy.
  clock.now += 2000;
  const window = lag.window();
  assert.equal(window.max, (2000 - LAG_SAMPLE_MS) / 1000);
  assert.equal(window.latest, window.max);
});

Deno.test("registerProcessMetrics() serves the event-loop lag under prom-client's names", async () => {
  const registry = new Registry();
  const clock = { now: 0 };
  const lag = registerProcessMetrics(registry, { now: () => clock.now });
  try {
    lag.stop();
    clock.now = LAG_SAMPLE_MS + 120;
    lag.tick();
    const text = await registry.metrics();
    assert.match(text, /^nodejs_eventloop_lag_seconds 0\.12$/m);
    assert.match(text, /^nodejs_eventloop_lag_p99_seconds 0\.12$/m);
    assert.match(text, /^nodejs_eventloop_lag_max_seconds 0\.12$/m);
    assert.match(text, /^process_cpu_seconds_total \d/m);
  } finally {
    lag.stop();
  }
});
