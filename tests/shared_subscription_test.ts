/**
 * Several agents in one MQTT 5 shared-subscription group split one stream
 * between them, and the group loses nothing when a member dies.
 */

import assert from "node:assert/strict";
import { type AgentProcess, startAgent } from "./_support/agent_process.ts";
import {
  hasMosquitto,
  mosquittoRequired,
  startBroker,
  type TestBroker,
} from "./_support/broker.ts";
import { connect } from "mqtt";
import { publishStream, range, tally } from "./_support/stream.ts";

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

// Whether the broker still keeps a session for `clientId`.
function sessionPresent(broker: TestBroker, clientId: string): Promise<boolean> {
  const client = connect(broker.url, {
    clientId,
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 0 },
    reconnectPeriod: 0,
  });
  return new Promise((resolve, reject) => {
    client.once("connect", (connack) => {
      client.end(() => resolve(connack.sessionPresent));
    });
    client.once("error", (error) => {
      client.end();
      reject(error);
    });
  });
}

Deno.test({
  name: `three agents in a share group write every record once between them${needs}`,
  ignore,
  fn: async () => {
    await using broker = await startBroker({ require: true });
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
    }
  },
});

Deno.test({
  name: `a share group loses nothing when one agent is killed and started again${needs}`,
  ignore,
  fn: async () => {
    await using broker = await startBroker({ require: true });
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
    }
  },
});

Deno.test({
  name:
    `\`leave\` retires a member: its queued share is written, the rest goes to the group, and the broker ends its session${needs}`,
  ignore,
  fn: async () => {
    await using broker = await startBroker({ require: true });
    const { agents, envs } = await startGroup(broker, 2);
    const all = [...agents];
    try {
      // The member goes away; the broker goes on dealing it half the stream.
      assert.equal(await agents[1].stop(), 0);
      const count = 2000;
      await publishStream(broker.url, count, { nodes: NODES, window: 100 });
      await agents[0].waitForLines(count / 2 - 100);

      const leaving = await startAgent(envs[1], {
        args: ["leave", "--quiet-seconds", "1"],
        waitReady: false,
      });
      all.push(leaving);
      assert.equal(await leaving.exited(), 0, leaving.stderr);
      const queued = leaving.lines.length;
      const first = tally(all.flatMap((agent) => agent.lines), range(0, count));
      assert.deepEqual(first.lost, []);
      assert.equal(first.duplicated, 0);
      assert.ok(queued >= count / 2 - 100, `the leaving member wrote its share: ${queued}`);
      assert.match(leaving.stderr, /told the broker to end the session/);

      // Nothing more is dealt to the retired member: the group takes it all.
      await publishStream(broker.url, 1000, { nodes: NODES, window: 100, from: count });
      const second = () => tally(all.flatMap((agent) => agent.lines), range(count, 1000));
      await agents[0].waitFor(() => second().lost.length === 0, "the next 1000 records");
      assert.equal(second().duplicated, 0);
      console.log(
        `leave: ${queued} of ${count} written by the leaving member, the next 1000 by the group`,
      );

      // Its session is gone: connecting with its client id finds none.
      assert.equal(await sessionPresent(broker, envs[1].MQTT_CLIENT_ID), false);
    } finally {
      for (const agent of all) await agent.stop("SIGKILL");
    }
  },
});

Deno.test({
  name:
    `\`leave\` with a stdout reader that stalls longer than --quiet-seconds waits and loses nothing${needs}`,
  ignore,
  fn: async () => {
    await using broker = await startBroker({ require: true });
    // A small window, so that most of the backlog is still at the broker
    // when the reader stalls.
    const env = {
      MQTT_URL: broker.url,
      MQTT_CLIENT_ID: `leave-stall-${crypto.randomUUID().slice(0, 8)}`,
      MQTT_RECEIVE_MAXIMUM: "10",
    };
    const member = await startAgent(env);
    assert.equal(await member.stop(), 0);
    const count = 5000;
    await publishStream(broker.url, count, { nodes: NODES, window: 100 });
    const leaving = await startAgent(env, {
      args: ["leave", "--quiet-seconds", "1"],
      waitReady: false,
    });
    try {
      await leaving.waitForLines(10);
      leaving.pauseReading();
      // The stall outlasts --quiet-seconds: the agent, its window full of
      // messages it cannot acknowledge, takes nothing in for 2 s.
      let received: number | undefined;
      let since = Date.now();
      await leaving.waitFor(
        async () => {
          const now = await leaving.metric("ammp_agent_messages_received_total");
          if (now !== received) [received, since] = [now, Date.now()];
          return received !== undefined && Date.now() - since >= 2000;
        },
        "the stalled agent to take nothing in for 2 s",
        30_000,
      );
      leaving.resumeReading();
      assert.equal(await leaving.exited(), 0, leaving.stderr.slice(-2000));
      const result = tally(leaving.lines, range(0, count));
      console.log(
        `leave, reader stalled: published ${count}, written ${result.written}, lost ${result.lost.length}`,
      );
      assert.deepEqual(result.lost, []);
      assert.equal(result.duplicated, 0);
      assert.equal(await sessionPresent(broker, env.MQTT_CLIENT_ID), false);
    } finally {
      await leaving.stop("SIGKILL");
    }
  },
});

Deno.test({
  name: `\`leave\` stopped by a signal keeps the session for a later run and exits 1${needs}`,
  ignore,
  fn: async () => {
    await using broker = await startBroker({ require: true });
    const { agents, envs } = await startGroup(broker, 1);
    assert.equal(await agents[0].stop(), 0);
    await using leaving = await startAgent(envs[0], { args: ["leave", "--quiet-seconds", "60"] });
    assert.equal(await leaving.stop("SIGTERM"), 1);
    assert.match(leaving.stderr, /Stopped before the session of .* was ended; run leave again/);
    assert.equal(await sessionPresent(broker, envs[0].MQTT_CLIENT_ID), true);
  },
});

Deno.test("`leave` needs MQTT 5 and says so in one line naming the setting", async () => {
  const agent = await startAgent({ MQTT_PROTOCOL_VERSION: "4" }, {
    args: ["leave"],
    waitReady: false,
  });
  assert.equal(await agent.exited(), 2);
  assert.equal(
    agent.stderr.trim(),
    'Cannot leave with MQTT_PROTOCOL_VERSION "4": ending a session needs MQTT 5',
  );
});
