/**
 * Integers beyond 2^53 (64-bit counters, the "not implemented" sentinels of
 * 64-bit registers) keep every digit through the agent and the offline
 * transform, in every output format.
 */

import assert from "node:assert/strict";
import { connectAsync } from "mqtt";
import { runTransform, startAgent } from "./_support/agent_process.ts";
import { startBroker } from "./_support/broker.ts";

const PAYLOAD = '{"t":1709288100,"r":[{"_vid":"m","E":18446744073709551615,' +
  '"n":9007199254740993,"min":-9223372036854775808,"P":5120.5,' +
  '"_s":[{"c":"overflow","l":4,"raw":18446744073709551615}]}]}';

const WRITTEN = {
  record: '{"node_id":"b827eb000001","time":"2024-03-01T10:15:00+00:00","data":{"m":' +
    '{"E":18446744073709551615,"n":9007199254740993,"min":-9223372036854775808,"P":5120.5}},' +
    '"status":{"m":[{"c":"overflow","l":4,"raw":18446744073709551615}]}}',
  device: '{"node_id":"b827eb000001","time":"2024-03-01T10:15:00+00:00","vid":"m","readings":' +
    '{"E":18446744073709551615,"n":9007199254740993,"min":-9223372036854775808,"P":5120.5},' +
    '"status":[{"c":"overflow","l":4,"raw":18446744073709551615}]}',
  influx: "ammp,node_id=b827eb000001,vid=m E=18446744073709551615,n=9007199254740993," +
    "min=-9223372036854775808,P=5120.5 1709288100000000000\n" +
    'ammp_status,node_id=b827eb000001,vid=m entries="[{\\"c\\":\\"overflow\\",\\"l\\":4,' +
    '\\"raw\\":18446744073709551615}]",level=4 1709288100000000000',
} as const;

const FORMATS = ["record", "device", "influx"] as const;

Deno.test("`main.ts transform` keeps every digit of integers beyond 2^53 in every format", async () => {
  for (const format of FORMATS) {
    const { code, stdout, stderr } = await runTransform(PAYLOAD + "\n", {
      env: { OUTPUT_FORMAT: format },
      topic: "a/b827eb000001/u/data",
    });
    assert.equal(code, 0, stderr);
    assert.equal(stdout, WRITTEN[format] + "\n", format);
  }
});

Deno.test("the agent writes every digit of integers beyond 2^53 it receives from the broker", async () => {
  const broker = await startBroker();
  const publisher = await connectAsync(broker.url, { protocolVersion: broker.protocolVersion });
  try {
    // record: the fast line writer; influx: the record object.
    for (const format of ["record", "influx"] as const) {
      await using agent = await startAgent({
        MQTT_URL: broker.url,
        MQTT_CLIENT_ID: `exact-${format}-${crypto.randomUUID()}`,
        MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
        OUTPUT_FORMAT: format,
      });
      await publisher.publishAsync("a/b827eb000001/u/data", PAYLOAD, { qos: 1 });
      await agent.waitFor(
        async () => (await agent.metric("ammp_agent_records_written_total")) === 1,
        "1 record counted",
      );
      assert.equal(await agent.stop("SIGTERM"), 0);
      assert.deepEqual(agent.lines, WRITTEN[format].split("\n"));
      assert.equal(agent.partialLine, "");
    }
  } finally {
    await publisher.endAsync();
    await broker.stop();
  }
});
