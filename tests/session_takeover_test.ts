/**
 * Two clients with one client id take the broker's session from each
 * other: the agent says so in one line, counts it, and waits longer each
 * time instead of taking the session back at once, forever.
 */

import assert from "node:assert/strict";
import { connect, type MqttClient } from "mqtt";
import { type AgentProcess, startAgent } from "./_support/agent_process.ts";
import { hasMosquitto, mosquittoRequired, startBroker } from "./_support/broker.ts";

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function lostLines(agent: AgentProcess): string[] {
  return agent.logMessages.filter((message) => message.startsWith("Lost the connection to "));
}

// The client that shares the agent's client id: it takes the session back
// 100 ms after losing it, as an agent started beside it would.
function intruder(url: string, clientId: string, protocolVersion: 4 | 5): MqttClient {
  const client = connect(url, {
    clientId,
    protocolVersion,
    clean: false,
    reconnectPeriod: 100,
    ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 60 } } : {}),
  });
  client.on("error", () => {});
  return client;
}

// What the agent says: a broker that names the takeover (MQTT 5 reason
// code 142) is understood at once; one that only closes the connection
// (MQTT 3.1.1, and mosquitto 2.0 in MQTT 5 too) from the second close in a row.
function takeoverSentence(clientId: string): string {
  return `(another client with the same MQTT_CLIENT_ID "${escape(clientId)}" took the session ` +
    "\\(reason code 142\\), give each agent its own MQTT_CLIENT_ID|" +
    quickClosesSentence(clientId) +
    ")";
}

// What the agent can say of quick closes alone: they may have either cause.
function quickClosesSentence(clientId: string): string {
  return "the broker closed the connection right after accepting it, \\d+ times in a row: likely " +
    `another client with the same MQTT_CLIENT_ID "${escape(clientId)}" took the session, or a ` +
    "broker or proxy closes connections right after accepting them; the broker's log tells which";
}

async function takeOverTheSession(protocolVersion: 4 | 5): Promise<void> {
  await using broker = await startBroker();
  const clientId = `takeover-${crypto.randomUUID()}`;
  await using agent = await startAgent({
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: clientId,
    MQTT_PROTOCOL_VERSION: String(protocolVersion),
    MQTT_RECONNECT_MAX_SECONDS: "60",
  });
  const other = intruder(broker.url, clientId, protocolVersion);
  try {
    await agent.waitFor(() => lostLines(agent).length >= 4, "four lost connections", 30_000);
    const takeover = new RegExp(
      `^Lost the connection to ${escape(broker.url)}: ${
        takeoverSentence(clientId)
      }; connecting again in (?<wait>\\d+) ms$`,
    );
    const lines = lostLines(agent);
    // A single quiet close right after the CONNACK could be anything.
    const told = takeover.test(lines[0]) ? lines : lines.slice(1);
    if (protocolVersion === 4 || told.length < lines.length) {
      assert.match(lines[0], /: the connection closed; connecting again in \d+ ms$/);
    }
    for (const line of told) assert.match(line, takeover);
    // One line per takeover, none beside it.
    const warnings = agent.logMessages.filter((message) => /again in \d+ ms$/.test(message));
    assert.deepEqual(warnings.slice(0, lines.length), lines);

    // Each takeover waits longer than the one before, as any failure does.
    const waits = told.map((line) => Number(line.match(takeover)!.groups!.wait));
    for (let i = 1; i < waits.length; i++) {
      assert.ok(waits[i] >= waits[i - 1], `waits ${waits.join(", ")} ms grow`);
    }
    assert.ok(waits.at(-1)! >= 2 * waits[0], `waits ${waits.join(", ")} ms grow`);

    const before = lostLines(agent).filter((line) => takeover.test(line)).length;
    const counted = await agent.metric("ammp_agent_broker_session_takeovers_total");
    const after = lostLines(agent).filter((line) => takeover.test(line)).length;
    assert.ok(
      counted !== undefined && counted >= before && counted <= after,
      `ammp_agent_broker_session_takeovers_total ${counted}, takeovers logged ${before}..${after}`,
    );
  } finally {
    await other.endAsync(true);
  }
  assert.equal(await agent.stop(), 0);
}

const aedesOnly = !hasMosquitto() && !mosquittoRequired();

Deno.test({
  name:
    `MQTT 5: a session taken over by a client with the same id is one log line, counted, and waited out longer each time${
      aedesOnly ? " (ignored: the aedes fallback speaks only MQTT 3.1.1; install mosquitto)" : ""
    }`,
  ignore: aedesOnly,
  fn: () => takeOverTheSession(5),
});

Deno.test("MQTT 3.1.1: closes right after the CONNACK, again and again, read as a session taken over: one log line, counted, waited out longer each time", () =>
  takeOverTheSession(4));

// A proxy in front of the broker that cuts every connection 500 ms after
// it opened, well after the CONNACK.
function cuttingProxy(brokerPort: number): Deno.Listener & { done: Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const relay = async (client: Deno.Conn) => {
    const broker = await Deno.connect({ hostname: "127.0.0.1", port: brokerPort });
    const cut = setTimeout(() => {
      client.close();
      broker.close();
    }, 500);
    await Promise.allSettled([
      client.readable.pipeTo(broker.writable),
      broker.readable.pipeTo(client.writable),
    ]);
    clearTimeout(cut);
  };
  const done = (async () => {
    const relays: Promise<void>[] = [];
    for await (const client of listener) relays.push(relay(client).catch(() => {}));
    await Promise.allSettled(relays);
  })();
  return Object.assign(listener, { done });
}

Deno.test("a proxy that cuts every connection right after the CONNACK is told as a likely takeover or a closing proxy, never a certain takeover", async () => {
  await using broker = await startBroker();
  const proxy = cuttingProxy(broker.port);
  const clientId = `cut-${crypto.randomUUID()}`;
  const url = `mqtt://127.0.0.1:${(proxy.addr as Deno.NetAddr).port}`;
  try {
    await using agent = await startAgent({
      MQTT_URL: url,
      MQTT_CLIENT_ID: clientId,
      MQTT_PROTOCOL_VERSION: "4",
      MQTT_RECONNECT_MAX_SECONDS: "2",
    });
    await agent.waitFor(() => lostLines(agent).length >= 3, "three lost connections", 30_000);
    const [first, ...later] = lostLines(agent);
    assert.match(first, /: the connection closed; connecting again in \d+ ms$/);
    const quick = new RegExp(
      `^Lost the connection to ${escape(url)}: ${
        quickClosesSentence(clientId)
      }; connecting again in \\d+ ms$`,
    );
    for (const line of later) assert.match(line, quick);
    assert.ok((await agent.metric("ammp_agent_broker_session_takeovers_total"))! >= 1);
    assert.equal(await agent.stop(), 0);
  } finally {
    proxy.close();
    await proxy.done;
  }
});
