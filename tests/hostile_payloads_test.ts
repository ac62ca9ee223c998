import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { connectAsync } from "mqtt";
import { startAgent } from "./_support/agent_process.ts";
import { hasMosquitto, mosquittoRequired, startBroker } from "./_support/broker.ts";

const TOPIC = "a/b827eb000001/u/data";
const MiB = 1024 * 1024;
const ignore = !hasMosquitto() && !mosquittoRequired();

const bytes = (text: string) => new TextEncoder().encode(text);
const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

Deno.test({
  name:
    `hostile payloads through mosquitto end as records or dead letters and the agent carries on${
      ignore ? " (ignored: mosquitto not installed)" : ""
    }`,
  ignore,
  async fn() {
    const broker = await startBroker({ require: true });
    const dir = await Deno.makeTempDir({ prefix: "ammp-agent-hostile-" });
    const agent = await startAgent({
      MQTT_URL: broker.url,
      MQTT_CLIENT_ID: `hostile-${crypto.randomUUID()}`,
      DEAD_LETTER_FILE: `${dir}/dead.ndjson`,
    });
    const publisher = await connectAsync(broker.url, { protocolVersion: 5 });
    try {
      // Over MAX_PAYLOAD_BYTES (1 MiB), under the announced packet size.
      const large = new Uint8Array(1.5 * MiB).fill(0x20);
      large.set(bytes('{"t":1,"r":['));
      // Over the announced maximum packet size: the broker must not send it.
      const huge = new Uint8Array(5 * MiB).fill(0x20);
      const sent: [string, Uint8Array | string][] = [
        ["too large", large],
        ["beyond the packet size", huge],
        ["deep nesting", `{"t":1,"r":[{"_vid":"m","x":${nested(300_000)},"P":1}]}`],
        ["deep status", `{"t":2,"r":[{"_vid":"b","_s":[{"c":"ok","l":0},${nested(5000)}]}]}`],
        [
          "many status entries",
          `{"t":3,"r":[{"_vid":"b","_s":[${Array(200_000).fill(0)}]},{"_vid":"b","_s":[1]}]}`,
        ],
        [
          "invalid UTF-8",
          new Uint8Array([...bytes('{"t":4,"r":[{"_vid":"'), 0xc0, 0xaf, ...bytes('"}]}')]),
        ],
        [
          "control characters",
          JSON.stringify({ t: 5, r: [{ _vid: "c\u0000\u2028", "\n": "\r\n\u001b" }] }),
        ],
        [
          "prototype keys",
          '{"t":6,"__proto__":{"polluted":1},"r":[{"_vid":"__proto__","constructor":1,"prototype":2}]}',
        ],
        ["a key ending in a backslash", '{"t":7,"r":[{"_vid":"x","\\\\":1}]}'],
        ["an escaped key after it", '{"t":8,"r":[{"_vid":"x","\\n":2}]}'],
        ["Python's NaN", '{"t":9,"r":[{"_vid":"n","x":NaN,"y":1}]}'],
        ["not JSON", "{"],
        ["fine", '{"t":10,"r":[{"_vid":"ok","P":1}]}'],
      ];
      for (const [, payload] of sent) {
        await publisher.publishAsync(TOPIC, payload as string, { qos: 1 });
      }
      const expected = [
        '{"node_id":"b827eb000001","time":"1970-01-01T00:00:01+00:00","data":{"m":{"P":1}}}',
        '{"node_id":"b827eb000001","time":"1970-01-01T00:00:02+00:00","data":{"b":{}},"status":{"b":[{"c":"ok","l":0}]}}',
        null, // 200,001 status entries, checked below
        '{"node_id":"b827eb000001","time":"1970-01-01T00:00:05+00:00","data":{"c\\u0000\u2028":{"\\n":"\\r\\n\\u001b"}}}',
        '{"node_id":"b827eb000001","time":"1970-01-01T00:00:06+00:00","data":{"__proto__":{"constructor":1,"prototype":2}}}',
        '{"node_id":"b827eb000001","time":"1970-01-01T00:00:07+00:00","data":{"x":{"\\\\":1}}}',
        '{"node_id":"b827eb000001","time":"1970-01-01T00:00:08+00:00","data":{"x":{"\\n":2}}}',
        '{"node_id":"b827eb000001","time":"1970-01-01T00:00:09+00:00","data":{"n":{"y":1}}}',
        '{"node_id":"b827eb000001","time":"1970-01-01T00:00:10+00:00","data":{"ok":{"P":1}}}',
      ];
      await agent.waitForLines(expected.length, 30_000);
      await agent.waitFor(
        async () => (await agent.metric("ammp_agent_messages_received_total")) === sent.length - 1,
        "every message but the oversized packet",
      );
      // Compared as text: the lines are exactly what a consumer reads.
      expected.forEach((line, i) => {
        if (line !== null) assert.equal(agent.lines[i], line, `line ${i}`);
      });
      const statusLine = agent.lines[2];
      assert.ok(
        statusLine.startsWith('{"node_id":"b827eb000001","time":"1970-01-01T00:00:03+00:00"'),
      );
      assert.equal(statusLine.match(/,/g)!.length, 200_000 + 3);

      assert.equal((await agent.get("/readyz")).status, 200);
      assert.equal(await agent.metric('ammp_agent_messages_failed_total{reason="too_large"}'), 1);
      assert.equal(await agent.metric('ammp_agent_messages_failed_total{reason="not_utf8"}'), 1);
      assert.equal(await agent.metric('ammp_agent_messages_failed_total{reason="not_json"}'), 1);
      assert.equal(
        await agent.metric('ammp_agent_readings_skipped_total{reason="invalid_status"}'),
        1,
      );
      assert.equal(await agent.stop(), 0);
      assert.equal(agent.partialLine, "");

      const letters = (await Deno.readTextFile(`${dir}/dead.ndjson`)).trim().split("\n")
        .map((line) => JSON.parse(line));
      assert.deepEqual(letters.map((letter) => letter.reason), [
        "too_large",
        "not_utf8",
        "not_json",
      ]);
      const [tooLarge] = letters;
      assert.equal(tooLarge.size, large.byteLength);
      assert.equal(tooLarge.truncated, true);
      assert.deepEqual(
        new Uint8Array(Buffer.from(tooLarge.payload_base64, "base64")),
        large.subarray(0, 1024),
      );
      assert.match(
        tooLarge.detail,
        /^Payload of 1572864 bytes exceeds the limit of 1048576 bytes$/,
      );
    } finally {
      await publisher.endAsync();
      await agent.stop("SIGKILL");
      await broker.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
