import assert from "node:assert/strict";
import { connectAsync } from "mqtt";
import { runTransform, startAgent } from "./_support/agent_process.ts";
import { startBroker } from "./_support/broker.ts";

const payload = JSON.stringify({
  t: 1709288100,
  r: [
    { _d: "sma_stp_1", _vid: "inv 1", P_total: 5120.5, state: "MPP" },
    { _d: "si", _vid: "bat-1", soc: 71, _s: [{ c: "Low SOC", l: 2 }] },
    { _d: "dse855", _vid: "gen-1", P: null },
  ],
});

Deno.test("OUTPUT_FORMAT=device and influx write one line per device and count one record per message", async () => {
  const broker = await startBroker();
  const publisher = await connectAsync(broker.url, { protocolVersion: broker.protocolVersion });
  const expected = {
    device: [
      '{"node_id":"b827eb000001","time":"2024-03-01T10:15:00+00:00","vid":"inv 1","readings":{"P_total":5120.5,"state":"MPP"}}',
      '{"node_id":"b827eb000001","time":"2024-03-01T10:15:00+00:00","vid":"bat-1","readings":{"soc":71},"status":[{"c":"Low SOC","l":2}]}',
      '{"node_id":"b827eb000001","time":"2024-03-01T10:15:00+00:00","vid":"gen-1","readings":{}}',
    ],
    influx: [
      'ammp,node_id=b827eb000001,vid=inv\\ 1 P_total=5120.5,state="MPP" 1709288100000000000',
      "ammp,node_id=b827eb000001,vid=bat-1 soc=71 1709288100000000000",
      'ammp_status,node_id=b827eb000001,vid=bat-1 entries="[{\\"c\\":\\"Low SOC\\",\\"l\\":2}]",level=2 1709288100000000000',
    ],
  };
  try {
    for (const format of ["device", "influx"] as const) {
      await using agent = await startAgent({
        MQTT_URL: broker.url,
        MQTT_CLIENT_ID: `format-${format}-${crypto.randomUUID()}`,
        MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
        OUTPUT_FORMAT: format,
      });
      await publisher.publishAsync("a/b827eb000001/u/data", payload, { qos: 1 });
      await publisher.publishAsync("a/b827eb000001/u/data", '{"t":1709288100,"r":[]}', {
        qos: 1,
      });
      await agent.waitFor(
        async () => (await agent.metric("ammp_agent_records_written_total")) === 2,
        "2 records counted",
      );
      assert.equal(await agent.stop("SIGTERM"), 0);
      assert.deepEqual(agent.lines, expected[format]);
      assert.equal(agent.partialLine, "");
    }
  } finally {
    await publisher.endAsync();
    await broker.stop();
  }
});

Deno.test("`transform` writes OUTPUT_FORMAT and refuses an unknown one with exit code 2", async () => {
  const run = (format: string) => runTransform(payload + "\n", { env: { OUTPUT_FORMAT: format } });
  const influx = await run("influx");
  assert.equal(influx.code, 0, influx.stderr);
  assert.equal(
    influx.stdout,
    'ammp,vid=inv\\ 1 P_total=5120.5,state="MPP" 1709288100000000000\n' +
      "ammp,vid=bat-1 soc=71 1709288100000000000\n" +
      'ammp_status,vid=bat-1 entries="[{\\"c\\":\\"Low SOC\\",\\"l\\":2}]",level=2 1709288100000000000\n',
  );
  const bad = await run("csv");
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, 'Invalid OUTPUT_FORMAT "csv": expected one of record, device, influx\n');
  assert.equal(bad.stdout, "");
});
