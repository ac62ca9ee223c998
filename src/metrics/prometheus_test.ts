import assert from "node:assert/strict";
import { Counter, Gauge, Histogram, Registry } from "./prometheus.ts";
import { testWithTool } from "../../tests/_support/prometheus.ts";

Deno.test("Registry writes each metric's help, type and series, blocks apart, in registration order", () => {
  const registry = new Registry();
  const registers = [registry];
  const received = new Counter({ name: "a_total", help: "Taken.", registers });
  const state = new Gauge<"state">({
    name: "b",
    help: "By state.",
    labelNames: ["state"],
    registers,
  });
  received.inc();
  received.inc(2);
  state.set({ state: "up" }, 3);
  state.set({ state: "down" }, 0);
  state.inc({ state: "up" }, 0.5);
  assert.equal(
    registry.metrics(),
    "# HELP a_total Taken.\n# TYPE a_total counter\na_total 3\n\n" +
      '# HELP b By state.\n# TYPE b gauge\nb{state="up"} 3.5\nb{state="down"} 0\n',
  );
});

Deno.test("Registry escapes label values and help as the text format requires", () => {
  const registry = new Registry();
  const info = new Gauge<"revision">({
    name: "build_info",
    help: "Back\\slash and\nnewline.",
    labelNames: ["revision"],
    registers: [registry],
  });
  info.set({ revision: 'a"b\\c\nd' }, 1);
  assert.equal(
    registry.metrics(),
    "# HELP build_info Back\\\\slash and\\nnewline.\n# TYPE build_info gauge\n" +
      'build_info{revision="a\\"b\\\\c\\nd"} 1\n',
  );
});

Deno.test("Histogram counts each observation in the first bucket it fits, cumulatively, with +Inf, sum and count", () => {
  const registry = new Registry();
  const histogram = new Histogram({
    name: "h_seconds",
    help: "Times.",
    buckets: [0.00005, 0.1, 1],
    registers: [registry],
  });
  for (const value of [0.00005, 0.00003, 0.1, 0.5, 2]) histogram.observe(value);
  assert.equal(
    registry.metrics(),
    "# HELP h_seconds Times.\n# TYPE h_seconds histogram\n" +
      'h_seconds_bucket{le="0.00005"} 2\nh_seconds_bucket{le="0.1"} 3\n' +
      'h_seconds_bucket{le="1"} 4\nh_seconds_bucket{le="+Inf"} 5\n' +
      "h_seconds_sum 2.60008\nh_seconds_count 5\n",
  );
});

Deno.test("collect() brings a metric up to date before each exposition, and reset() empties its series", () => {
  const registry = new Registry();
  let nodes = ["n1", "n2"];
  new Gauge<"node_id">({
    name: "node_up",
    help: "Up.",
    labelNames: ["node_id"],
    registers: [registry],
    collect() {
      this.reset();
      for (const node of nodes) this.set({ node_id: node }, 1);
    },
  });
  assert.match(registry.metrics(), /node_up\{node_id="n1"\} 1\nnode_up\{node_id="n2"\} 1\n$/);
  nodes = ["n3"];
  assert.match(registry.metrics(), /# TYPE node_up gauge\nnode_up\{node_id="n3"\} 1\n$/);
  nodes = [];
  assert.equal(registry.metrics(), "# HELP node_up Up.\n# TYPE node_up gauge\n");
});

Deno.test("Counter.labels() makes its series at 0 at once, and values() reads every series", () => {
  const failed = new Counter<"reason">({ name: "f_total", help: "F.", labelNames: ["reason"] });
  const notJson = failed.labels({ reason: "not_json" });
  failed.labels({ reason: "too_large" });
  notJson.inc();
  notJson.inc(2);
  assert.deepEqual(failed.values(), [
    { labels: { reason: "not_json" }, value: 3 },
    { labels: { reason: "too_large" }, value: 0 },
  ]);
  const plain = new Counter({ name: "p_total", help: "P." });
  assert.deepEqual(plain.values(), [{ labels: {}, value: 0 }]);
});

Deno.test("A label the metric was not given is refused, naming both", () => {
  const gauge = new Gauge<"state">({ name: "g", help: "G.", labelNames: ["state"] });
  assert.throws(
    () => gauge.set({ node: "x" } as never, 1),
    { name: "TypeError", message: 'Metric g has no label "node"' },
  );
});

testWithTool(
  "promtool",
  "promtool check metrics accepts the exposition of every kind of metric",
  async () => {
    const registry = new Registry();
    const registers = [registry];
    new Counter({ name: "x_messages_total", help: "Messages.", registers }).inc(4);
    const info = new Gauge<"version" | "revision">({
      name: "x_build_info",
      help: 'Always 1; "quoted" and back\\slashed.',
      labelNames: ["version", "revision"],
      registers,
    });
    info.set({ version: "1.0", revision: 'a"b\\c\nd' }, 1);
    const histogram = new Histogram({
      name: "x_lag_seconds",
      help: "Lag.",
      buckets: [1, 5],
      registers,
    });
    histogram.observe(3);
    const child = new Deno.Command("promtool", {
      args: ["check", "metrics"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(registry.metrics()));
    await writer.close();
    const { code, stdout, stderr } = await child.output();
    const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    assert.equal(code, 0, output);
    assert.equal(output.trim(), "");
  },
);
