/**
 * What `OUTPUT_SYNC=always` costs against `never`: the drain rate of a
 * backlog into `OUTPUT_FILE` on this machine's disk, through the agent's
 * own Subscriber, transform, RecordSink and OutputFile. Rounds alternate
 * the order so that a busy neighbour hurts both alike. Run with
 * `deno task bench:sync`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { drainOnce } from "./ack_cost.ts";
import { startBroker } from "./broker.ts";
import { generateMessages } from "./generator.ts";
import { connectPublisher, prepareSession, publishBacklog } from "./publisher.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "20000" },
      rounds: { type: "string", default: "3" },
      seed: { type: "string", default: "1" },
      // /tmp may be a tmpfs, where fdatasync costs nothing.
      dir: { type: "string", default: "." },
      // The in-flight window bounds a batch, and so how many messages share one fdatasync.
      "receive-maximum": { type: "string", default: "1000" },
    },
  });
  const count = Number(values.messages);
  const rounds = Number(values.rounds);
  const dir = await Deno.makeTempDir({ dir: values.dir, prefix: ".bench-output-sync-" });
  const broker = await startBroker();
  const rates: Record<string, number[]> = { always: [], never: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      const modes = round % 2 === 0 ? ["always", "never"] : ["never", "always"];
      for (const mode of modes) {
        const clientId = `sync-${mode}-${round}`;
        await prepareSession(broker.url, clientId, "a/+/u/data");
        const publisher = await connectPublisher(broker.port, `pub-${clientId}`);
        await publishBacklog(
          publisher,
          // The payloads of the figures in docs/performance.md.
          generateMessages(count, { seed: Number(values.seed) + round, mix: "compact" }),
        );
        await publisher.close();
        const file = `${dir}/${clientId}.ndjson`;
        const drain = await drainOnce(broker.url, clientId, "after-write", count, {
          file,
          sync: mode === "always",
          receiveMaximum: Number(values["receive-maximum"]),
        });
        rates[mode].push(drain.perSecond);
        console.error(`OUTPUT_SYNC=${mode}: ${Math.round(drain.perSecond)} msg/s`);
        await Deno.remove(file);
      }
    }
    const format = (values: number[]) =>
      values.map((value) => Math.round(value).toLocaleString("en")).join(", ");
    const median = (values: number[]) => values.toSorted((a, b) => a - b)[values.length >> 1];
    console.log(
      `| OUTPUT_SYNC | msg/s (${rounds} runs of ${count.toLocaleString("en")}, ` +
        `MQTT_RECEIVE_MAXIMUM ${values["receive-maximum"]}) |`,
    );
    console.log("| --- | --- |");
    console.log(`| never | ${format(rates.never)} |`);
    console.log(`| always | ${format(rates.always)} |`);
    console.log(
      `\nalways / never (medians): ${(median(rates.always) / median(rates.never)).toFixed(2)}`,
    );
  } finally {
    await broker.stop();
    await Deno.remove(dir, { recursive: true });
  }
}
