import assert from "node:assert/strict";
import { connectAsync } from "mqtt";
import { type AgentProcess, ROOT, startAgent } from "./_support/agent_process.ts";
import { startBroker } from "./_support/broker.ts";
import { testWithTool } from "./_support/prometheus.ts";

// Every metric family the agent serves, as `name type label,label`, once a
// node has sent data and its bridge state: docs/monitoring.md's metrics table, the
// alert rules and the dashboard name these.
const LIST = `${ROOT}tests/fixtures/metrics.txt`;
const NODE = "b827eb000001";

async function withScrape(fn: (text: string, agent: AgentProcess) => Promise<void>) {
  await using broker = await startBroker();
  await using agent = await startAgent({
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: `metrics-${crypto.randomUUID()}`,
    MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
  });
  const publisher = await connectAsync(broker.url, { protocolVersion: broker.protocolVersion });
  try {
    const t = Math.floor(Date.now() / 1000);
    await publisher.publishAsync(`a/${NODE}/bridge_state`, "1", { qos: 1 });
    await publisher.publishAsync(`a/${NODE}/u/data`, `{"t":${t},"r":[{"_vid":"m","P":1}]}`, {
      qos: 1,
    });
  } finally {
    await publisher.endAsync();
  }
  await agent.waitForLines(1);
  await agent.waitFor(
    async () => (await agent.metric(`ammp_agent_node_up{node_id="${NODE}"}`)) === 1,
    "the node's bridge state in /metrics",
  );
  await fn((await agent.get("/metrics")).body, agent);
}

// `name type labels` for each family of a text exposition, in its order.
function families(text: string): string[] {
  const types = new Map<string, string>();
  const labels = new Map<string, Set<string>>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type !== null) {
      types.set(type[1], type[2]);
      labels.set(type[1], new Set());
      continue;
    }
    const series = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? \S+$/.exec(line);
    if (series === null) continue;
    const family = [...types.keys()].find((name) =>
      series[1] === name || /^_(bucket|sum|count)$/.test(series[1].slice(name.length)) &&
        series[1].startsWith(name) && types.get(name) === "histogram"
    );
    assert.ok(family !== undefined, `series ${line} has no # TYPE line`);
    for (const [, name] of (series[2] ?? "").matchAll(/(\w+)="(?:[^"\\]|\\.)*"/g)) {
      labels.get(family)!.add(name);
    }
  }
  return [...types].map(([name, type]) =>
    `${name} ${type} ${[...labels.get(name)!].sort().join(",")}`.trimEnd()
  );
}

Deno.test("/metrics serves the metric names, types and label sets of the checked-in list", async () => {
  await withScrape(async (text) => {
    const expected = (await Deno.readTextFile(LIST)).trim().split("\n");
    assert.deepEqual(families(text), expected);
  });
});

testWithTool(
  "promtool",
  "promtool check metrics finds nothing to say about /metrics",
  async () => {
    await withScrape(async (text) => {
      const child = new Deno.Command("promtool", {
        args: ["check", "metrics"],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(text));
      await writer.close();
      const { code, stdout, stderr } = await child.output();
      const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
      assert.equal(output.trim(), "");
      assert.equal(code, 0);
    });
  },
);
