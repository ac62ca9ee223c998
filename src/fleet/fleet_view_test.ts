import assert from "node:assert/strict";
import { Registry } from "../metrics/prom_client.ts";
import {
  FleetView,
  type FleetViewOptions,
  NODE_METRICS_MAX_NODES,
  NODES_FILE,
} from "./fleet_view.ts";
import { logger } from "../log.ts";
import { StateFile } from "./state_file.ts";

const T0 = 1_790_000_000;
const bytes = (text: string) => new TextEncoder().encode(text);
const NONE = new Uint8Array();

function fleetAt(clock: { now: number }, options: Partial<FleetViewOptions> = {}) {
  const registry = new Registry();
  const fleet = new FleetView({ registry, log: logger("fleet"), now: () => clock.now, ...options });
  return { fleet, metrics: () => registry.metrics() };
}

function series(text: string, name: string): string[] {
  return text.split("\n").filter((line) =>
    line.startsWith(`${name}{`) || line.startsWith(`${name} `)
  );
}

Deno.test("FleetView serves every node state from the start at 0", async () => {
  const { metrics } = fleetAt({ now: T0 });
  assert.deepEqual(series(await metrics(), "ammp_agent_nodes"), [
    'ammp_agent_nodes{state="reporting"} 0',
    'ammp_agent_nodes{state="silent"} 0',
    'ammp_agent_nodes{state="offline"} 0',
    'ammp_agent_nodes{state="backfilling"} 0',
  ]);
});

Deno.test("FleetView counts messages whose topic carries no node id as the gateway's own node", () => {
  const clock = { now: T0 };
  const { fleet } = fleetAt(clock, { nodeId: "b827eb00beef" });
  fleet.observe("u/data", NONE, "record", T0, T0 - 1);
  fleet.observe("u/data", NONE, "dead", T0 + 1);
  // The bridge's own state topic names the node; it is the same one.
  fleet.observe("a/b827eb00beef/bridge_state", bytes("0"), "ignored", T0 + 2);
  // A topic's own node id wins.
  fleet.observe("a/aa01/u/data", NONE, "record", T0 + 2, T0 + 2);
  const nodes = fleet.table.list(T0 + 3);
  assert.deepEqual(nodes.map((node) => node.nodeId), ["b827eb00beef", "aa01"]);
  assert.equal(nodes[0].records, 1);
  assert.equal(nodes[0].deadLetters, 1);
  assert.equal(nodes[0].bridgeUp, false);
  assert.equal(nodes[0].state, "offline");
});

Deno.test("FleetView reads bridge state and data topics into node states and series", async () => {
  const clock = { now: T0 };
  const { fleet, metrics } = fleetAt(clock, { silentAfterSeconds: 2 });
  fleet.observe("a/aa01/u/data", NONE, "record", T0, T0 - 10);
  fleet.observe("a/aa02/u/data", NONE, "record", T0, T0 - 10);
  fleet.observe("a/aa02/bridge_state", bytes("0"), "ignored", T0 + 1);
  fleet.observe("a/aa03/bridge_state", bytes("1"), "ignored", T0 + 1);
  fleet.observe("a/aa03/u/data", NONE, "record", T0 + 3, T0 + 3);
  fleet.observe("a/aa03/u/meta/boot", bytes("1"), "ignored", T0 + 3);
  // Not AMMP topics: no node to speak of.
  fleet.observe("site/x/data", NONE, "record", T0 + 3, T0 + 3);
  clock.now = T0 + 3;
  const text = await metrics();
  assert.deepEqual(series(text, "ammp_agent_nodes"), [
    'ammp_agent_nodes{state="reporting"} 1',
    'ammp_agent_nodes{state="silent"} 1',
    'ammp_agent_nodes{state="offline"} 1',
    'ammp_agent_nodes{state="backfilling"} 0',
  ]);
  assert.deepEqual(series(text, "ammp_agent_node_up"), [
    'ammp_agent_node_up{node_id="aa02"} 0',
    'ammp_agent_node_up{node_id="aa03"} 1',
  ]);
  assert.deepEqual(series(text, "ammp_agent_node_last_reading_timestamp_seconds"), [
    `ammp_agent_node_last_reading_timestamp_seconds{node_id="aa01"} ${T0 - 10}`,
    `ammp_agent_node_last_reading_timestamp_seconds{node_id="aa02"} ${T0 - 10}`,
    `ammp_agent_node_last_reading_timestamp_seconds{node_id="aa03"} ${T0 + 3}`,
  ]);
  assert.deepEqual(series(text, "ammp_agent_node_silent"), [
    'ammp_agent_node_silent{node_id="aa01"} 1',
    'ammp_agent_node_silent{node_id="aa02"} 0',
    'ammp_agent_node_silent{node_id="aa03"} 0',
  ]);
  assert.match(text, /^ammp_agent_bridge_messages_total 2$/m);
  assert.equal(fleet.table.list(clock.now).find((n) => n.nodeId === "aa03")?.messages, 3);
});

Deno.test("FleetView puts two-day-old readings in the lag histogram's upper buckets", async () => {
  const { fleet, metrics } = fleetAt({ now: T0 });
  fleet.observe("a/aa01/u/data", NONE, "record", T0, T0 - 2 * 86_400 - 5);
  const text = await metrics();
  assert.match(text, /^ammp_agent_reading_lag_seconds_bucket\{le="86400"\} 0$/m);
  assert.match(text, /^ammp_agent_reading_lag_seconds_bucket\{le="604800"\} 1$/m);
  assert.match(text, /^ammp_agent_reading_lag_seconds_count 1$/m);
});

Deno.test("FleetView serves no per-node series when told not to, or past 10,000 nodes", async () => {
  const { fleet, metrics } = fleetAt({ now: T0 }, { nodeMetrics: false });
  fleet.observe("a/aa01/u/data", NONE, "record", T0, T0);
  assert.deepEqual(series(await metrics(), "ammp_agent_node_last_message_timestamp_seconds"), []);

  const many = fleetAt({ now: T0 });
  for (let i = 0; i <= NODE_METRICS_MAX_NODES; i++) {
    many.fleet.observe(`a/n${i}/u/data`, NONE, "record", T0, T0);
  }
  const text = await many.metrics();
  assert.deepEqual(series(text, "ammp_agent_node_last_message_timestamp_seconds"), []);
  assert.match(text, /^ammp_agent_nodes\{state="reporting"\} 10001$/m);
});

Deno.test("FleetView keeps its nodes across a restart through STATE_DIRECTORY", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const clock = { now: T0 };
    const first = fleetAt(clock, { stateDirectory: dir, silentAfterSeconds: 2 });
    first.fleet.load();
    first.fleet.startSaving();
    first.fleet.observe("a/aa01/u/data", NONE, "record", T0, T0);
    await first.fleet.close();

    clock.now = T0 + 10;
    const second = fleetAt(clock, { stateDirectory: dir, silentAfterSeconds: 2 });
    second.fleet.load();
    await second.fleet.close();
    assert.deepEqual(second.fleet.table.list(clock.now).map((n) => [n.nodeId, n.state]), [
      ["aa01", "silent"],
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FleetView starts empty, and replaces the file, when its state file is corrupt", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/${NODES_FILE}.1.json`, '{"seq":1,"value":{"nodes":[["x"');
    const clock = { now: T0 };
    const { fleet } = fleetAt(clock, { stateDirectory: dir });
    fleet.load();
    assert.equal(fleet.table.size, 0);
    fleet.observe("a/aa01/u/data", NONE, "record", T0, T0);
    await fleet.close();
    const file = new StateFile(dir, NODES_FILE);
    const saved = file.load() as { nodes: unknown[] };
    file.close();
    assert.equal(saved.nodes.length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// histogram_quantile() as Prometheus computes it from one scrape's buckets.
function histogramQuantile(text: string, name: string, q: number): number {
  const buckets = series(text, `${name}_bucket`).map((line) => {
    const [, le, count] = /le="([^"]+)"\} (\S+)$/.exec(line)!;
    return { le: le === "+Inf" ? Infinity : Number(le), count: Number(count) };
  });
  const rank = q * buckets[buckets.length - 1].count;
  let lower = 0;
  let below = 0;
  for (const { le, count } of buckets) {
    if (count >= rank) return lower + (le - lower) * (rank - below) / (count - below);
    lower = le;
    below = count;
  }
  return NaN;
}

Deno.test("FleetView's reading-lag buckets place the quantiles of fresh readings near their lag", async () => {
  const { fleet, metrics } = fleetAt({ now: T0 });
  // Readings 150 to 250 ms old, as a live datalogger's arrive.
  for (let i = 0; i <= 100; i++) {
    fleet.observe("a/aa01/u/data", NONE, "record", T0 + i + 0.15 + i / 1000, T0 + i);
  }
  const text = await metrics();
  for (const q of [0.5, 0.9]) {
    const estimate = histogramQuantile(text, "ammp_agent_reading_lag_seconds", q);
    assert.ok(Math.abs(estimate - 0.2) < 0.1, `p${q * 100} reads ${estimate} s for 0.15 to 0.25 s`);
  }
});
