/**
 * The record's last digits through the agent and the offline transform:
 * `t` rounded to the millisecond from the digits the payload wrote, the
 * last millisecond of the year 9999 taken, and integers of any length and
 * spelling kept with every digit.
 */

import assert from "node:assert/strict";
import { connectAsync } from "mqtt";
import { runTransform, startAgent } from "./_support/agent_process.ts";
import { startBroker } from "./_support/broker.ts";
import { transformToOutput } from "../src/transform/transform.ts";

const TOPIC = "a/b827eb000001/u/data";
const HEAD = '{"node_id":"b827eb000001","time":"';
const LONG = "1" + "0".repeat(309);

// Each payload, and the record the contract gives for it.
const CASES: [string, string][] = [
  [
    '{"t":1752036980.9654999,"r":[{"_vid":"inv-1","P":1}]}',
    `${HEAD}2025-07-09T04:56:20.965+00:00","data":{"inv-1":{"P":1}}}`,
  ],
  ['{"t":1709288100.00049999,"r":[]}', `${HEAD}2024-03-01T10:15:00+00:00","data":{}}`],
  [
    `{"t":0,"r":[{"_vid":"a","P":${LONG},"_s":[${LONG}]}]}`,
    `${HEAD}1970-01-01T00:00:00+00:00","data":{"a":{"P":${LONG}}},"status":{"a":[${LONG}]}}`,
  ],
  [
    '{"t":0,"r":[{"_vid":"m","E":18446744073709551615.0,"F":1.8446744073709551615e19,' +
    '"G":9007199254740993.0}]}',
    `${HEAD}1970-01-01T00:00:00+00:00","data":{"m":{"E":18446744073709551615,` +
    '"F":18446744073709551615,"G":9007199254740993}}}',
  ],
  ['{"t":253402300799.9994,"r":[]}', `${HEAD}9999-12-31T23:59:59.999+00:00","data":{}}`],
];
const PAYLOADS = CASES.map(([payload]) => payload);
const RECORDS = CASES.map(([, record]) => record);

Deno.test("`main.ts transform` writes what the live agent's transform writes, to the last digit", async () => {
  const { code, stdout, stderr } = await runTransform(PAYLOADS.join("\n") + "\n", { topic: TOPIC });
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const agents = PAYLOADS.map((payload) => {
    const result = transformToOutput(TOPIC, encoder.encode(payload));
    assert.equal(result.kind, "record", payload);
    const output = (result as { output: string | Uint8Array }).output;
    return typeof output === "string" ? output : decoder.decode(output);
  });
  assert.deepEqual(stdout.split("\n").slice(0, -1), agents, stderr);
  assert.equal(code, 0, stderr);
  assert.deepEqual(agents, RECORDS);
});

Deno.test("the agent writes the contract's record to the last digit for payloads from the broker", async () => {
  await using broker = await startBroker();
  const publisher = await connectAsync(broker.url, { protocolVersion: broker.protocolVersion });
  try {
    await using agent = await startAgent({
      MQTT_URL: broker.url,
      MQTT_CLIENT_ID: `last-digits-${crypto.randomUUID()}`,
      MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
    });
    for (const payload of PAYLOADS) await publisher.publishAsync(TOPIC, payload, { qos: 1 });
    // Each message is a record or a dead letter (one that is not a record).
    await agent.waitFor(
      async () =>
        (await agent.metric("ammp_agent_records_written_total"))! +
            (await agent.metric('ammp_agent_messages_failed_total{reason="invalid_t"}'))! ===
          PAYLOADS.length,
      `${PAYLOADS.length} messages written`,
    );
    assert.equal(await agent.stop("SIGTERM"), 0);
    assert.deepEqual(agent.lines, RECORDS, agent.stderr);
    assert.equal(agent.partialLine, "");
  } finally {
    await publisher.endAsync();
  }
});
