/**
 * The agent on the gateway, next to the datalogger: ammp-edge publishes to
 * the gateway's own broker on `u/data`, without the `a/<node_id>/` prefix
 * that the bridge adds on the way to the cloud.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connectAsync, type MqttClient } from "mqtt";
import { type AgentProcess, minimalEnv, ROOT, startAgent } from "./_support/agent_process.ts";
import { startBroker, type TestBroker } from "./_support/broker.ts";

const NODE = "b827eb00beef";
// A reading of now: an older one would be a backlog replayed (backfilling).
const T = Math.floor(Date.now() / 1000);
const PAYLOAD = `{"t":${T},"r":[{"_vid":"inv-1","P":3}]}`;
const TIME = new Date(T * 1000).toISOString().replace(".000Z", "+00:00");

// The agent and a datalogger's client on a fresh broker, all closed at the end.
async function onTheGateway(
  env: Record<string, string>,
  run: (agent: AgentProcess, logger: MqttClient, broker: TestBroker) => Promise<void>,
): Promise<void> {
  await using broker = await startBroker();
  await using agent = await startAgent({
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: `gateway-${crypto.randomUUID()}`,
    MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
    ...env,
  });
  const logger = await connectAsync(broker.url, { protocolVersion: broker.protocolVersion });
  try {
    await run(agent, logger, broker);
    assert.equal(await agent.stop("SIGTERM"), 0, agent.stderr);
  } finally {
    await logger.endAsync();
  }
}

async function nodes(agent: AgentProcess): Promise<{ node_id: string; state: string }[]> {
  const { status, body } = await agent.get("/nodes");
  assert.equal(status, 200, body);
  return JSON.parse(body).nodes;
}

Deno.test("on the gateway, a payload on u/data is a record of NODE_ID's node, and every view of the sites knows it", async () => {
  await onTheGateway({ MQTT_TOPICS: "u/data", NODE_ID: NODE }, async (agent, logger) => {
    await logger.publishAsync("u/data", PAYLOAD, { qos: 1 });
    await logger.publishAsync("u/data", '{"r":[]}', { qos: 1 });
    await agent.waitForLines(1);
    assert.deepEqual(agent.lines, [
      `{"node_id":"${NODE}","time":"${TIME}","data":{"inv-1":{"P":3}}}`,
    ]);
    await agent.waitFor(() => agent.stderr.includes('"Dead letter'), "a dead letter");
    const deadLetter = JSON.parse(
      agent.stderr.split("\n").find((line) => line.includes('"Dead letter'))!,
    );
    assert.equal(deadLetter.node_id, NODE);
    assert.equal(deadLetter.topic, "u/data");

    assert.deepEqual((await nodes(agent)).map((node) => [node.node_id, node.state]), [
      [NODE, "reporting"],
    ]);
    assert.equal(await agent.metric(`ammp_agent_node_silent{node_id="${NODE}"}`), 0);
    assert.equal(
      await agent.metric(`ammp_agent_node_last_reading_timestamp_seconds{node_id="${NODE}"}`),
      T,
    );
    assert.equal(await agent.metric('ammp_agent_nodes{state="reporting"}'), 1);
    const page = await agent.get("/");
    assert.match(page.body, />1<\/b> reporting/);
    assert.ok(
      agent.logMessages.includes(
        `Node id ${NODE} from NODE_ID, for records whose topic carries none`,
      ),
      agent.stderr,
    );
  });
});

Deno.test("on the gateway, the bridge's own state tells whether the link to the cloud is up", async () => {
  const env = { MQTT_TOPICS: "u/data,a/+/bridge_state", NODE_ID: NODE };
  await onTheGateway(env, async (agent, logger) => {
    // As mosquitto publishes its bridge's state locally: retained.
    await logger.publishAsync(`a/${NODE}/bridge_state`, "1", { qos: 1, retain: true });
    await agent.waitFor(async () => (await nodes(agent)).length === 1, "the node in /nodes");
    // Heard only through its bridge: not reporting before its data comes.
    assert.deepEqual((await nodes(agent)).map((node) => node.state), ["silent"]);
    await logger.publishAsync("u/data", PAYLOAD, { qos: 1 });
    await agent.waitFor(
      async () => (await nodes(agent))[0]?.state === "reporting",
      "the node reporting once its data comes",
    );
    assert.equal(await agent.metric(`ammp_agent_node_up{node_id="${NODE}"}`), 1);

    // The link to the cloud goes down; the data still comes to the local broker.
    await logger.publishAsync(`a/${NODE}/bridge_state`, "0", { qos: 1, retain: true });
    await logger.publishAsync("u/data", PAYLOAD, { qos: 1 });
    await agent.waitFor(
      async () => (await nodes(agent))[0]?.state === "offline",
      "the node offline",
    );
    assert.equal((await nodes(agent)).length, 1, "one node: the data's and the bridge's");
    assert.equal(await agent.metric(`ammp_agent_node_up{node_id="${NODE}"}`), 0);
    const page = await agent.get("/");
    assert.match(page.body, new RegExp(`<code>${NODE}</code>`));
    await agent.waitForLines(2);
    for (const line of agent.lines) assert.equal(JSON.parse(line).node_id, NODE);
  });
});

// eth0's address as ammp-edge reads it; the agent finds it among the
// interfaces that have an IP address.
const eth0 = (() => {
  try {
    const listed = Deno.networkInterfaces().some((info) => info.name === "eth0");
    return listed ? Deno.readTextFileSync("/sys/class/net/eth0/address").trim() : undefined;
  } catch {
    return undefined;
  }
})();

Deno.test({
  name:
    "on the gateway without NODE_ID, the node id is eth0's MAC address, as ammp-edge's, and the start log names it (ignored without an eth0 that has an IP address)",
  ignore: eth0 === undefined,
  async fn() {
    const derived = eth0!.replaceAll(":", "").toLowerCase();
    await onTheGateway({ MQTT_TOPICS: "u/data" }, async (agent, logger) => {
      await logger.publishAsync("u/data", PAYLOAD, { qos: 1 });
      await agent.waitForLines(1);
      assert.equal(JSON.parse(agent.lines[0]).node_id, derived);
      assert.deepEqual((await nodes(agent)).map((node) => node.node_id), [derived]);
      const started = agent.logMessages.filter((message) => message.startsWith("Node id "));
      assert.deepEqual(started, [
        `Node id ${derived} from eth0, for records whose topic carries none`,
      ]);
    });
  },
});

Deno.test("on the cloud side nothing is derived: a/+/u/data records keep the topic's node id, and no node id is logged", async () => {
  await onTheGateway({ MQTT_TOPICS: "a/+/u/data" }, async (agent, logger) => {
    await logger.publishAsync("a/b827eb000001/u/data", PAYLOAD, { qos: 1 });
    await agent.waitForLines(1);
    assert.equal(JSON.parse(agent.lines[0]).node_id, "b827eb000001");
    assert.ok(!agent.logMessages.some((message) => message.startsWith("Node id ")));
  });
});

Deno.test("an agent that may not list the network interfaces asks for NODE_ID in one line and exit code 2", async () => {
  // Neither /sys (every permission) nor the interfaces' list (sys) is allowed.
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      "--allow-read",
      "--allow-env",
      "--allow-net",
      "main.ts",
    ],
    cwd: ROOT,
    clearEnv: true,
    env: minimalEnv({ MQTT_TOPICS: "u/data", MQTT_CLIENT_ID: "gateway-unlisted" }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // An agent that takes the setting runs on: stop it after a deadline.
  const deadline = setTimeout(() => child.kill("SIGKILL"), 15_000);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(deadline);
  const errors = new TextDecoder().decode(stderr);
  assert.equal(code, 2, errors);
  assert.equal(new TextDecoder().decode(stdout), "");
  assert.equal(
    errors,
    "Cannot derive NODE_ID from the MAC addresses of eth0, en0, eth1, en1, em0, em1, wlan0, wlan1: " +
      "not allowed by the agent's permissions, expected NODE_ID set to the gateway's node id\n",
  );
});
