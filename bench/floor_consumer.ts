/**
 * The floor of the benchmark: the simplest JavaScript consumer a user
 * might write instead of the agent. MQTT.js, each message acknowledged on
 * receipt by MQTT.js itself, `TextDecoder` + `JSON.parse` (retried with
 * Python's `NaN` read as `null`, `floor_json.ts`) + `JSON.stringify` of a
 * record-shaped object, lines written to stdout in batches. No
 * validation, no metrics, no held acknowledgements: it promises nothing,
 * which is what makes it the floor. The agent never uses this file.
 *
 * Reads `MQTT_URL`, `MQTT_CLIENT_ID` and `MQTT_TOPICS` as the agent does,
 * and resumes that persistent session (MQTT 5).
 *
 * @module
 */

import { connect } from "mqtt";
import { floorParse } from "./floor_json.ts";

const url = Deno.env.get("MQTT_URL") ?? "mqtt://127.0.0.1:1883";
const clientId = Deno.env.get("MQTT_CLIENT_ID") ?? "floor-consumer";
const topics = (Deno.env.get("MQTT_TOPICS") ?? "a/+/u/data").split(",");

const decoder = new TextDecoder();
const encoder = new TextEncoder();
let lines: string[] = [];
let writing = false;

async function flush(): Promise<void> {
  writing = true;
  while (lines.length > 0) {
    const batch = lines;
    lines = [];
    batch.push("");
    const bytes = encoder.encode(batch.join("\n"));
    let offset = 0;
    while (offset < bytes.byteLength) offset += await Deno.stdout.write(bytes.subarray(offset));
  }
  writing = false;
}

// The handler is in place before the connection is: a resumed session's
// backlog arrives right behind the CONNACK.
const client = connect(url, {
  clientId,
  protocolVersion: 5,
  clean: false,
  properties: { sessionExpiryInterval: 3600, receiveMaximum: 1000 },
  reconnectPeriod: 1000,
});
client.on("message", (topic, payload) => {
  const body = floorParse(decoder.decode(payload)) as { t: number; r: { _vid: string }[] };
  const data: Record<string, Record<string, unknown>> = {};
  for (const device of body.r) {
    const { _vid, ...readings } = device;
    data[_vid] = readings;
  }
  const record = {
    node_id: topic.split("/")[1],
    time: new Date(body.t * 1000).toISOString(),
    data,
  };
  lines.push(JSON.stringify(record));
  if (!writing) flush();
});
client.on("connect", () => client.subscribe(topics, { qos: 1 }));
const stop = () => client.end(false, () => Deno.exit(0));
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
