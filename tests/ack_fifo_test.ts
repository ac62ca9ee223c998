/**
 * The acknowledgement queue against a real broker: records, dead letters,
 * ignored topics and QoS 0 messages mixed, taken through many pauses of a
 * small MAX_BUFFERED_BYTES and across a lost connection. Every QoS 1
 * message gets one PUBACK with its own id, on its own connection, in order;
 * the buffered bytes come back to 0.
 */

import assert from "node:assert/strict";
import { connectAsync } from "mqtt";
import { startAgent } from "./_support/agent_process.ts";
import { hasMosquitto, mosquittoRequired, startBroker } from "./_support/broker.ts";
import { MqttRelay, PACKET, type RelayedPacket } from "./_support/mqtt_relay.ts";
import { numberedPayload, TcpRelay } from "./_support/stream.ts";

const ignore = !hasMosquitto() && !mosquittoRequired();
const needs = ignore ? " (ignored: mosquitto not installed)" : "";
const CONNECT = 1;

// Message i: a record at QoS 1, a record at QoS 0, a dead letter at QoS 1,
// or an ignored topic at QoS 1.
function messageOf(i: number): { topic: string; payload: string; qos: 0 | 1 } {
  switch (i % 4) {
    case 0:
      return { topic: "a/n1/u/data", payload: numberedPayload(i, 8000), qos: 1 };
    case 1:
      return { topic: "a/n1/u/data", payload: numberedPayload(i, 8000), qos: 0 };
    case 2:
      return { topic: "a/n1/u/data", payload: `{"t":${i},"r":[`, qos: 1 };
    default:
      return { topic: "a/n1/meta", payload: `{"i":${i}}`, qos: 1 };
  }
}

async function publish(url: string, from: number, count: number): Promise<void> {
  const client = await connectAsync(url, { clientId: `pub-${crypto.randomUUID()}` });
  try {
    for (let i = from; i < from + count; i++) {
      const { topic, payload, qos } = messageOf(i);
      await client.publishAsync(topic, payload, { qos });
    }
  } finally {
    await client.endAsync();
  }
}

// The packets of each connection the agent made, split at its CONNECTs.
function byConnection(packets: RelayedPacket[]): RelayedPacket[][] {
  const connections: RelayedPacket[][] = [];
  for (const packet of packets) {
    if (packet.type === CONNECT && packet.direction === "toBroker") connections.push([]);
    connections.at(-1)?.push(packet);
  }
  return connections;
}

// On one connection: each PUBACK names a QoS 1 PUBLISH of that connection,
// once, in the order they came.
function assertAcksInStep(connection: RelayedPacket[], label: string): void {
  const published: number[] = [];
  const acked: number[] = [];
  for (const packet of connection) {
    if (packet.type === PACKET.PUBLISH && packet.direction === "toClient" && packet.id) {
      published.push(packet.id);
    }
    if (packet.type === PACKET.PUBACK && packet.direction === "toBroker") {
      assert.ok(
        published.includes(packet.id!),
        `${label}: PUBACK ${packet.id} for no PUBLISH of this connection`,
      );
      acked.push(packet.id!);
    }
  }
  assert.deepEqual(acked, published.slice(0, acked.length), `${label}: PUBACKs in order`);
}

Deno.test({
  name:
    `every QoS 1 message of a mixed stream through many pauses gets its own PUBACK in order, and the buffered bytes return to 0${needs}`,
  ignore,
  fn: async () => {
    const COUNT = 400;
    await using broker = await startBroker();
    await using relay = new MqttRelay({ hostname: "127.0.0.1", port: broker.port });
    await using agent = await startAgent({
      MQTT_URL: `mqtt://127.0.0.1:${relay.port}`,
      MQTT_CLIENT_ID: `fifo-${crypto.randomUUID()}`,
      MAX_BUFFERED_BYTES: "65536",
      MQTT_TOPICS: "a/#",
      MQTT_KEEPALIVE_SECONDS: "5",
      LOG_FORMAT: "json",
    }, { pauseReading: true });
    await publish(broker.url, 0, COUNT);
    await agent.waitFor(
      async () => ((await agent.metric("ammp_agent_buffered_bytes")) ?? 0) >= 65536,
      "the agent to stop taking at the bound",
    );
    agent.resumeReading();
    const records = COUNT / 2;
    await agent.waitForLines(records, 30_000);
    await agent.waitFor(
      async () => (await agent.metric("ammp_agent_messages_received_total")) === COUNT,
      "every message taken",
      30_000,
    );
    const qos1 = (COUNT * 3) / 4;
    await agent.waitFor(
      () => relay.of(PACKET.PUBACK, "toBroker").length >= qos1,
      "a PUBACK for every QoS 1 message",
      30_000,
    );
    await agent.waitFor(
      async () => (await agent.metric("ammp_agent_buffered_bytes")) === 0,
      "the buffered bytes to return to 0",
    );
    const connections = byConnection(relay.packets);
    assert.equal(connections.length, 1);
    assertAcksInStep(connections[0], "connection 1");
    assert.deepEqual(
      relay.of(PACKET.PUBACK, "toBroker").map((p) => p.id),
      relay.of(PACKET.PUBLISH, "toClient").filter((p) => p.id).map((p) => p.id),
    );
    const seqs = agent.lines.map((line) => JSON.parse(line).data.seq.n as number);
    assert.deepEqual(seqs, Array.from({ length: COUNT }, (_, i) => i).filter((i) => i % 4 < 2));
  },
});

Deno.test({
  name:
    `after a lost connection the agent PUBACKs only messages of the new connection, and leaves nothing unacknowledged${needs}`,
  ignore,
  fn: async () => {
    const COUNT = 400;
    await using broker = await startBroker();
    const cut = new TcpRelay({ hostname: "127.0.0.1", port: broker.port });
    try {
      await using relay = new MqttRelay({ hostname: "127.0.0.1", port: cut.port });
      const clientId = `fifo-cut-${crypto.randomUUID()}`;
      const env = {
        MQTT_URL: `mqtt://127.0.0.1:${relay.port}`,
        MQTT_CLIENT_ID: clientId,
        MAX_BUFFERED_BYTES: "65536",
        MQTT_TOPICS: "a/#",
        MQTT_KEEPALIVE_SECONDS: "5",
        MQTT_RECONNECT_MAX_SECONDS: "1",
        LOG_FORMAT: "json",
      };
      {
        await using agent = await startAgent(env, { pauseReading: true });
        await publish(broker.url, 0, COUNT);
        await agent.waitFor(
          async () => ((await agent.metric("ammp_agent_buffered_bytes")) ?? 0) >= 65536,
          "the agent to stop taking at the bound",
        );
        // Taken and held, then the connection goes while stdout is stalled.
        cut.sever();
        await agent.waitFor(
          () => byConnection(relay.packets).length >= 2,
          "a second connection",
          20_000,
        );
        agent.resumeReading();
        // QoS 0 messages in flight when the connection went are lost; every
        // QoS 1 record comes, if need be again.
        const seqs = () =>
          new Set(agent.lines.map((line) => JSON.parse(line).data.seq.n as number));
        const missing = () =>
          Array.from({ length: COUNT }, (_, i) => i).filter((i) => i % 4 === 0 && !seqs().has(i));
        await agent.waitFor(
          async () => {
            const buffered = await agent.metric("ammp_agent_buffered_bytes");
            return missing().length === 0 && buffered === 0;
          },
          `every QoS 1 record written and the buffered bytes back to 0 (missing ${
            missing().slice(0, 20)
          }, buffered ${await agent.metric("ammp_agent_buffered_bytes")})`,
          30_000,
        );
        const connections = byConnection(relay.packets);
        connections.forEach((c, i) => assertAcksInStep(c, `connection ${i + 1}`));
        // Everything the broker sent on the last connection is acknowledged.
        const last = connections.at(-1)!;
        await agent.waitFor(() => {
          const now = byConnection(relay.packets).at(-1)!;
          const pub = now.filter((p) => p.type === PACKET.PUBLISH && p.id).length;
          const ack = now.filter((p) => p.type === PACKET.PUBACK).length;
          return pub === ack;
        }, "a PUBACK for every QoS 1 PUBLISH of the last connection");
        assert.ok(last.length > 0);
        assert.equal(await agent.stop(), 0);
      }
      // The same session again: the broker has nothing left to send.
      const before = relay.of(PACKET.PUBLISH, "toClient").length;
      await using again = await startAgent(env);
      await publish(broker.url, COUNT, 4);
      await again.waitForLines(2);
      const resent = relay.packets.slice(0).filter((p) => p.type === PACKET.PUBLISH).length;
      const seqs = again.lines.map((line) => JSON.parse(line).data.seq.n as number);
      assert.deepEqual(seqs, [COUNT, COUNT + 1], `resent after restart: ${resent - before}`);
    } finally {
      cut.close();
    }
  },
});
