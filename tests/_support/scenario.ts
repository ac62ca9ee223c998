/**
 * The end-to-end scenario that every way of running the agent goes through
 * (`deno run`, the bundle, the compiled binary): fixtures published to a
 * real broker, records on stdout, counters in `/metrics`, SIGTERM exit 0.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connectAsync } from "mqtt";
import type { AgentProcess } from "./agent_process.ts";
import { startBroker } from "./broker.ts";
import denoJson from "../../deno.json" with { type: "json" };

const VERSION = denoJson.version;

const fixtures = new URL("../fixtures/examples/", import.meta.url);

/**
 * The scenario's `NODE_ID`: the node id of records whose topic carries
 * none, which `site/+/data` can match; a topic's own always wins.
 */
export const SCENARIO_NODE_ID = "b827eb00beef";

/** One example payload of `tests/fixtures/examples/`. */
export interface Example {
  name: string;
  topic: string;
  payload: Uint8Array;
  expected?: string;
}

/** The example payloads with their topics and expected records, by name. */
export function loadExamples(): Example[] {
  return [...Deno.readDirSync(fixtures)]
    .map((entry) => entry.name)
    .filter((name) => name.endsWith(".payload.json"))
    .map((name) => name.slice(0, -".payload.json".length))
    .sort()
    .map((name) => {
      const expected = Deno.readTextFileSync(new URL(`${name}.expected.ndjson`, fixtures)).trim();
      return {
        name,
        topic: Deno.readTextFileSync(new URL(`${name}.topic`, fixtures)).trim(),
        payload: Deno.readFileSync(new URL(`${name}.payload.json`, fixtures)),
        expected: expected === "" ? undefined : expected,
      };
    });
}

/** Options for {@linkcode assertEndToEnd}. */
export interface AssertEndToEndOptions {
  /** The revision `ammp_agent_build_info` must name. */
  revision: string;
}

/**
 * Runs the scenario against an agent that `start` launches with the given
 * environment; throws when anything differs from the payload contract.
 */
export async function assertEndToEnd(
  start: (env: Record<string, string>) => Promise<AgentProcess>,
  options: AssertEndToEndOptions,
): Promise<void> {
  const broker = await startBroker();
  let agent: AgentProcess;
  try {
    agent = await start({
      MQTT_URL: broker.url,
      MQTT_TOPICS: "a/#,site/+/data",
      NODE_ID: SCENARIO_NODE_ID,
      MQTT_CLIENT_ID: `e2e-${crypto.randomUUID()}`,
      MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
      LOG_FORMAT: "json",
    });
  } catch (error) {
    await broker.stop();
    throw error;
  }
  const publisher = await connectAsync(broker.url, { protocolVersion: broker.protocolVersion });
  try {
    const examples = loadExamples();
    const nonData = [
      ["a/b827eb000001/u/meta/boot_time", "1709288100"],
      ["a/b827eb000001/bridge_state", "1"],
      ["a/b827eb000001/u/log/msg", "not json"],
    ];
    for (const example of examples) {
      await publisher.publishAsync(example.topic, example.payload as never, { qos: 1 });
    }
    for (const [topic, payload] of nonData) {
      await publisher.publishAsync(topic, payload, { qos: 1 });
    }

    const records = examples.filter((example) => example.expected !== undefined);
    const dead = examples.filter((example) => example.expected === undefined);
    await agent.waitForLines(records.length);
    const total = examples.length + nonData.length;
    await agent.waitFor(
      async () => (await agent.metric("ammp_agent_messages_received_total")) === total,
      `${total} messages counted`,
    );

    // One publisher at QoS 1: records come out in publish order; a topic
    // without a node id gives NODE_ID's.
    assert.deepEqual(
      agent.lines,
      records.map((example) =>
        example.topic.startsWith("a/")
          ? example.expected
          : `{"node_id":"${SCENARIO_NODE_ID}",${example.expected!.slice(1)}`
      ),
    );
    assert.equal(await agent.metric("ammp_agent_records_written_total"), records.length);
    assert.equal(await agent.metric("ammp_agent_messages_ignored_total"), nonData.length);
    const reasons = new Map<string, number>();
    for (const line of agent.stderr.split("\n").filter((l) => l.includes('"Dead letter'))) {
      const entry = JSON.parse(line);
      reasons.set(entry.reason, (reasons.get(entry.reason) ?? 0) + 1);
      assert.ok(entry.payload_base64.length > 0);
      assert.ok(entry.topic.startsWith("a/"));
      assert.equal(entry.node_id, entry.topic.split("/")[1]);
    }
    let failed = 0;
    for (
      const reason of ["not_utf8", "not_json", "not_object", "invalid_t", "invalid_r", "too_large"]
    ) {
      const count = await agent.metric(`ammp_agent_messages_failed_total{reason="${reason}"}`);
      assert.equal(count, reasons.get(reason) ?? 0, reason);
      failed += count!;
    }
    assert.equal(failed, dead.length);
    assert.equal(await agent.metric('ammp_agent_readings_skipped_total{reason="missing_vid"}'), 4);
    assert.equal(await agent.metric("ammp_agent_broker_connected"), 1);
    const newest = Math.max(...records.map((r) => Date.parse(JSON.parse(r.expected!).time) / 1000));
    assert.equal(await agent.metric("ammp_agent_last_reading_timestamp_seconds"), newest);
    const buildInfo = `ammp_agent_build_info{version="${VERSION}",revision="${options.revision}",` +
      `deno="${Deno.version.deno}"}`;
    assert.equal(await agent.metric(buildInfo), 1);

    assert.equal(await agent.stop("SIGTERM"), 0);
    assert.equal(agent.partialLine, "");
    for (const line of agent.stderr.split("\n").filter((l) => l !== "")) {
      JSON.parse(line); // every log line is JSON
    }
  } finally {
    await publisher.endAsync();
    await agent.stop("SIGKILL");
    await broker.stop();
  }
}
