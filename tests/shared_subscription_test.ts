/**
 * Several agents in one MQTT 5 shared-subscription group split one stream
 * between them, and the group loses nothing when a member dies.
 */

import assert from "node:assert/strict";
import { type AgentProcess, startAgent } from "./agent_process.ts";
import { hasMosquitto, mosquittoRequired, startBroker, type TestBroker } from "./broker.ts";
import { publishStream, range, tally } from "./stream.ts";

// aedes, the fallback broker, speaks MQTT 3.1.1 only.
const ignore = !hasMosquitto() && !mosquittoRequired();
const needs = ignore ? " (ignored: mosquitto not installed)" : "";

const NODES = 50;

async function startGroup(broker: TestBroker, size: number): Promise<{
  agents: AgentProcess[];
  envs: Record<string, string>[];
}> {
  const group = `agents-${crypto.randomUUID().slice(0, 8)}`;
  const envs = Array.from({ length: size }, (_, i) => ({
    MQTT_URL: broker.url,
    MQTT_SHARE_GROUP: group,
    MQTT_CLIENT_ID: `${group}-${i}`,
    MQTT_RECONNECT_MAX_SECONDS: "2",
  }));
  const agents = await Promise.all(envs.map((env) => startAgent(env)));
  return { agents, envs };
}

Deno.test({
  name: `three agents in a share group write every record once between them${needs}`,
  ignore,
  fn: async () => {
    const broker = await startBroker({ require: true });
    const { agents } = await startGroup(broker, 3);
    try {
      const count = 30_000;
      await publishStream(broker.url, count, { nodes: NODES, window: 100 });
      const all = () => agents.flatMap((agent) => agent.lines);
      await agents[0].waitFor(
        () => tally(all(), range(0, count)).lost.length === 0,
        "every record",
        60_000,
      );
      const result = tally(all(), range(0, count));
      const shares = agents.map((agent) => agent.lines.length);
      console.log(
        `share group: published ${count}, written ${result.written}, duplicated ${result.duplicated}, per agent ${
          shares.join(" / ")
        }`,
      );
      assert.deepEqual(result.lost, []);
      assert.equal(result.duplicated, 0, "no record twice in steady state");
      for (const share of shares) {
        assert.ok(share >= count * 0.15, `each agent takes a fair share: ${shares}`);
      }
    } finally {
      for (const agent of agents) await agent.stop("SIGKILL");
      await broker.stop();
    }
  },
});

Deno.test({
  name: `a share group loses nothing when one agent is killed and started again${needs}`,
  ignore,
  fn: async () => {
    const broker = await startBroker({ require: true });
    const { agents, envs } = await startGroup(broker, 3);
    try {
      const count = 30_000;
      let killed: Promise<number> | undefined;
      await publishStream(broker.url, count, {
        nodes: NODES,
        window: 100,
        onPublished: (seq) => {
          if (seq === 10_000) killed = agents[1].stop("SIGKILL");
        },
      });
      await killed;
      agents.push(await startAgent(envs[1]));
      const all = () => agents.flatMap((agent) => agent.lines);
      await agents[0].waitFor(
        () => tally(all(), range(0, count)).lost.length === 0,
        "every record",
        60_000,
      );
      const result = tally(all(), range(0, count));
      console.log(
        `share group, one agent killed: published ${count}, written ${result.written}, lost ${result.lost.length}, duplicated ${result.duplicated}`,
      );
      assert.deepEqual(result.lost, []);
      // Only what the killed agent had taken but not acknowledged comes twice.
      assert.ok(result.duplicated <= 1000, `${result.duplicated} duplicates`);
    } finally {
      for (const agent of agents) await agent.stop("SIGKILL");
      await broker.stop();
    }
  },
});
