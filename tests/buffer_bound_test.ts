/**
 * The memory bound against a real broker: with stdout stalled, the agent
 * takes at most `MAX_BUFFERED_BYTES` (plus one message) of payloads, at
 * QoS 0 as at QoS 1, holds its connection however long the stall lasts,
 * and writes what it took once the reader resumes.
 */

import assert from "node:assert/strict";
import { DEFAULT_MAX_BUFFERED_BYTES } from "../src/settings/load_config.ts";
import { type AgentProcess, startAgent } from "./_support/agent_process.ts";
import {
  hasMosquitto,
  mosquittoRequired,
  startBroker,
  type TestBroker,
} from "./_support/broker.ts";
import { numberedPayload, peakRss, publishStream, range, tally } from "./_support/stream.ts";

const ignore = !hasMosquitto() && !mosquittoRequired();
const needs = ignore ? " (ignored: mosquitto not installed)" : "";

// Taking large payloads leaves garbage that V8 collects only now and then,
// so the peak is well above the idle RSS plus what waits (figures in
// docs/performance.md).
const KEEPALIVE_SECONDS = 5;

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

interface StallResult {
  agent: AgentProcess;
  /** The largest `ammp_agent_buffered_bytes` seen while stalled. */
  peakBuffered: number;
  /** VmHWM at the end of the stall. */
  rssStalled: number;
  /** The size of the largest payload published. */
  payloadBytes: number;
  /** The agent's MAX_BUFFERED_BYTES. */
  bound: number;
}

/**
 * Starts an agent whose stdout reader is stalled, publishes `count`
 * payloads of `size` bytes, waits until the agent stops taking them, and
 * keeps the reader stalled for longer than the keepalive timeout.
 */
async function stalledAgent(
  broker: TestBroker,
  agents: AgentProcess[],
  options: { qos: 0 | 1; count: number; size: number; bound?: number },
): Promise<StallResult> {
  const agent = await startAgent({
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: `bound-${crypto.randomUUID()}`,
    MQTT_QOS: String(options.qos),
    MQTT_KEEPALIVE_SECONDS: String(KEEPALIVE_SECONDS),
    MQTT_RECONNECT_MAX_SECONDS: "2",
    ...(options.bound === undefined ? {} : { MAX_BUFFERED_BYTES: String(options.bound) }),
    LOG_FORMAT: "json",
  });
  agents.push(agent);
  const bound = options.bound ?? DEFAULT_MAX_BUFFERED_BYTES;
  agent.pauseReading();
  const stalledAt = Date.now();
  await publishStream(broker.url, options.count, { size: options.size, window: 10 });
  let peakBuffered = 0;
  const buffered = async () => {
    const bytes = (await agent.metric("ammp_agent_buffered_bytes")) ?? 0;
    peakBuffered = Math.max(peakBuffered, bytes);
    return bytes;
  };
  // The agent stops taking at the bound; without one it takes everything.
  await agent.waitFor(
    async () =>
      (await buffered()) >= bound ||
      (await agent.metric("ammp_agent_messages_received_total")) === options.count,
    "the agent to stop taking messages",
    60_000,
  );
  // MQTT.js gives up on a connection 1.5 keepalives after its PINGREQ found
  // no answer; stay stalled for two keepalives past the point where the
  // agent stopped reading, sampling the gauge meanwhile.
  const holdUntil = Date.now() + 2 * KEEPALIVE_SECONDS * 1000;
  await agent.waitFor(
    async () => (await buffered(), Date.now() >= holdUntil),
    "the end of the stall",
    60_000,
  );
  const rssStalled = peakRss(agent.child.pid);
  console.log(
    `QoS ${options.qos}, ${options.count} payloads of ${mb(options.size)} MB, stalled ${
      ((Date.now() - stalledAt) / 1000).toFixed(0)
    } s: ${(await agent.metric("ammp_agent_messages_received_total")) ?? 0} taken, peak buffered ${
      mb(peakBuffered)
    } MB, peak RSS ${mb(rssStalled)} MB`,
  );
  return {
    agent,
    peakBuffered,
    rssStalled,
    payloadBytes: numberedPayload(options.count - 1, options.size).length,
    bound,
  };
}

function assertBounded(result: StallResult): void {
  assert.ok(result.rssStalled < 100e6, `peak RSS while stalled: ${mb(result.rssStalled)} MB`);
  assert.ok(
    result.peakBuffered >= result.bound &&
      result.peakBuffered <= result.bound + result.payloadBytes,
    `buffered ${result.peakBuffered} bytes, expected from ${result.bound} to ${
      result.bound + result.payloadBytes
    } (the bound plus one payload)`,
  );
}

async function assertConnectionHeld(agent: AgentProcess): Promise<void> {
  assert.equal(await agent.metric("ammp_agent_broker_reconnects_total"), 0, agent.stderr);
  assert.equal(await agent.metric("ammp_agent_broker_connected"), 1);
}

async function withBroker(
  body: (broker: TestBroker, agents: AgentProcess[]) => Promise<void>,
): Promise<void> {
  const broker = await startBroker({ require: true, persistence: true });
  const agents: AgentProcess[] = [];
  try {
    await body(broker, agents);
  } finally {
    for (const agent of agents) await agent.stop("SIGKILL");
    await broker.stop();
  }
}

// Lets the stalled reader go on and waits until records 0 to count - 1
// are all written; gives their tally.
async function resumeUntilWritten(agent: AgentProcess, count: number) {
  agent.resumeReading();
  await agent.waitFor(
    () => tally(agent.lines, range(0, count)).lost.length === 0,
    "every record",
    60_000,
  );
  return tally(agent.lines, range(0, count));
}

Deno.test({
  name:
    `at QoS 0 a stalled stdout reader holds the agent to MAX_BUFFERED_BYTES and its connection${needs}`,
  ignore,
  fn: () =>
    withBroker(async (broker, agents) => {
      const count = 400;
      const result = await stalledAgent(broker, agents, { qos: 0, count, size: 100_000 });
      const { agent } = result;
      assertBounded(result);
      await assertConnectionHeld(agent);
      // This broker queues without limit (max_queued_messages 0), so
      // everything it took from the publisher reaches the agent.
      const written = await resumeUntilWritten(agent, count);
      await agent.waitFor(
        async () => (await agent.metric("ammp_agent_buffered_bytes")) === 0,
        "an empty buffer",
      );
      console.log(
        `QoS 0 after the stall: written ${written.written}, lost ${written.lost.length}, peak RSS ${
          mb(peakRss(agent.child.pid))
        } MB`,
      );
      assert.equal(agent.partialLine, "", "every line complete");
      assert.equal(await agent.metric("ammp_agent_messages_received_total"), written.written);
      await assertConnectionHeld(agent);
    }),
});

Deno.test({
  name:
    `at QoS 1 a stalled stdout reader holds the agent to MAX_BUFFERED_BYTES and loses nothing${needs}`,
  ignore,
  fn: () =>
    withBroker(async (broker, agents) => {
      const count = 200;
      // Half the default: a 250 KB payload leaves more garbage than the
      // 100 KB ones, and this case is about losing nothing.
      const result = await stalledAgent(broker, agents, {
        qos: 1,
        count,
        size: 250_000,
        bound: 2 * 1024 * 1024,
      });
      const { agent } = result;
      assertBounded(result);
      await assertConnectionHeld(agent);
      const written = await resumeUntilWritten(agent, count);
      console.log(
        `QoS 1 after the stall: written ${written.written}, lost ${written.lost.length}, duplicated ${written.duplicated}, peak RSS ${
          mb(peakRss(agent.child.pid))
        } MB`,
      );
      assert.deepEqual(written.lost, []);
      assert.equal(agent.partialLine, "", "every line complete");
      await assertConnectionHeld(agent);
    }),
});
