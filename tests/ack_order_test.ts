/**
 * The delivery guarantee on the wire, with whatever broker runs (mosquitto,
 * or the in-process one without it): a relay between the agent and its
 * broker decodes every packet, and holds the agent to sending no PUBACK for
 * a record that is not yet written, and to acknowledging in the order the
 * messages came.
 */

import assert from "node:assert/strict";
import { startAgent } from "./_support/agent_process.ts";
import { startBroker } from "./_support/broker.ts";
import { MqttRelay, PACKET } from "./_support/mqtt_relay.ts";
import { publishStream, tally } from "./_support/stream.ts";

const COUNT = 10;
// Each record is about this long: the stalled stdout pipe (64 KiB) holds at
// most three of them whole.
const SIZE = 20_000;
const PIPE_BYTES = 64 * 1024;

Deno.test("no PUBACK leaves the agent before its record is written, and PUBACKs keep the messages' order", async () => {
  await using broker = await startBroker();
  await using relay = new MqttRelay({ hostname: "127.0.0.1", port: broker.port }, {
    protocolVersion: broker.protocolVersion,
  });
  await using agent = await startAgent({
    MQTT_URL: `mqtt://127.0.0.1:${relay.port}`,
    MQTT_CLIENT_ID: `ack-order-${crypto.randomUUID()}`,
    MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
    MQTT_KEEPALIVE_SECONDS: "5",
  }, { pauseReading: true });
  await publishStream(broker.url, COUNT, {
    size: SIZE,
    window: COUNT,
    protocolVersion: broker.protocolVersion,
  });
  const published = () => relay.of(PACKET.PUBLISH, "toClient");
  await agent.waitFor(() => published().length >= COUNT, `${COUNT} messages to the agent`);
  // A barrier: the agent's next keepalive ping after the last message
  // reached it. Whatever it sent before (a PUBACK on receipt) passed the
  // relay before the ping did.
  const last = relay.packets.indexOf(published()[COUNT - 1]);
  await agent.waitFor(
    () =>
      relay.packets.slice(last).some((p) =>
        p.type === PACKET.PINGREQ && p.direction === "toBroker"
      ),
    "a keepalive ping after the last message",
    20_000,
  );
  const fits = Math.floor(PIPE_BYTES / SIZE);
  const early = relay.of(PACKET.PUBACK, "toBroker").length;
  assert.ok(
    early <= fits,
    `${early} PUBACKs while stdout was stalled, when at most ${fits} records fit in its pipe`,
  );

  agent.resumeReading();
  await agent.waitForLines(COUNT);
  await agent.waitFor(
    () => relay.of(PACKET.PUBACK, "toBroker").length >= COUNT,
    `${COUNT} PUBACKs`,
  );
  const seqs = Array.from({ length: COUNT }, (_, seq) => seq);
  const written = tally(agent.lines, seqs);
  assert.deepEqual(written.lost, []);
  assert.deepEqual(
    relay.of(PACKET.PUBACK, "toBroker").map((p) => p.id),
    published().map((p) => p.id),
    "PUBACKs in the order of the PUBLISHes",
  );
});
