/**
 * What acknowledging after writing costs against acknowledging on receipt.
 *
 * Both modes drain the same backlog through the agent's own Subscriber,
 * transform and RecordSink in this process, writing to /dev/null; only the
 * moment of the acknowledgement differs. Rounds alternate the order so that
 * a busy neighbour hurts both alike. Run with `deno task bench:ack`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { loadConfig } from "../src/settings/load_config.ts";
import { logger } from "../src/log.ts";
import { Acknowledgements } from "../src/output/acknowledgements.ts";
import { OutputFile } from "../src/output/output_file.ts";
import { RecordSink } from "../src/output/sink.ts";
import { Subscriber } from "../src/mqtt/subscriber.ts";
import { transformToLine } from "../src/transform/transform.ts";
import { startBroker } from "./broker.ts";
import { generateMessages } from "./generator.ts";
import { connectPublisher, prepareSession, publishBacklog } from "./publisher.ts";

/** When a message is acknowledged. */
export type AckMode = "after-write" | "on-receipt";

/** One drain of the backlog. */
export interface AckDrain {
  mode: AckMode;
  messages: number;
  seconds: number;
  perSecond: number;
}

/** Options for {@linkcode drainOnce}. */
export interface DrainOnceOptions {
  /** Receive maximum, as `MQTT_RECEIVE_MAXIMUM` (default 1000). */
  receiveMaximum?: number;
  /** Append the records to this file, as `OUTPUT_FILE` (default: write to /dev/null). */
  file?: string;
  /** fdatasync each batch before acknowledging it, as `OUTPUT_SYNC=always`. */
  sync?: boolean;
}

/** Drains `count` queued messages of `clientId`'s session in `mode`. */
export async function drainOnce(
  url: string,
  clientId: string,
  mode: AckMode,
  count: number,
  options: DrainOnceOptions = {},
): Promise<AckDrain> {
  const config = loadConfig({
    MQTT_URL: url,
    MQTT_CLIENT_ID: clientId,
    MQTT_RECEIVE_MAXIMUM: String(options.receiveMaximum ?? 1000),
  }, { hostname: () => "bench" });
  const output = new OutputFile(options.file ?? "/dev/null", { setting: "OUTPUT_FILE" });
  const sink = new RecordSink(output, {
    sync: options.sync,
    onWritten: () => acks.release(),
  });
  const acks = new Acknowledgements([sink], {
    onAcknowledged: (messages) => subscriber.acknowledge(messages),
  });
  const done = Promise.withResolvers<void>();
  let taken = 0;
  let started = 0;
  const subscriber: Subscriber = new Subscriber(config.mqtt, {
    log: logger("bench"),
    onMessage: (topic, payload) => {
      if (taken++ === 0) started = performance.now();
      if (mode === "on-receipt") subscriber.acknowledge(1);
      const result = transformToLine(topic, payload);
      if (result.kind === "record") sink.write(result.line);
      if (mode === "after-write") acks.add();
      if (taken === count) acks.flush().then(() => done.resolve());
    },
  });
  subscriber.start();
  await done.promise;
  const seconds = (performance.now() - started) / 1000;
  await subscriber.stop();
  output.close();
  return { mode, messages: count, seconds, perSecond: count / seconds };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "50000" },
      rounds: { type: "string", default: "3" },
      seed: { type: "string", default: "1" },
    },
  });
  const count = Number(values.messages);
  const rounds = Number(values.rounds);
  const broker = await startBroker();
  try {
    const drains: AckDrain[] = [];
    for (let round = 0; round < rounds; round++) {
      const modes: AckMode[] = round % 2 === 0
        ? ["after-write", "on-receipt"]
        : ["on-receipt", "after-write"];
      for (const mode of modes) {
        const clientId = `ack-${mode}-${round}`;
        await prepareSession(broker.url, clientId, "a/+/u/data");
        const publisher = await connectPublisher(broker.port, `pub-${clientId}`);
        const messages = generateMessages(count, {
          seed: Number(values.seed) + round,
          // The payloads of the figures in docs/performance.md.
          mix: "compact",
        });
        await publishBacklog(publisher, messages);
        await publisher.close();
        drains.push(await drainOnce(broker.url, clientId, mode, count));
      }
    }
    const median = (mode: AckMode) => {
      const rates = drains.filter((d) => d.mode === mode).map((d) => d.perSecond).sort((a, b) =>
        a - b
      );
      return rates[Math.floor(rates.length / 2)];
    };
    const after = median("after-write");
    const receipt = median("on-receipt");
    console.log(`| acknowledged | msg/s (median of ${rounds}) |`);
    console.log("| --- | --- |");
    console.log(`| on receipt | ${Math.round(receipt).toLocaleString("en")} |`);
    console.log(`| after writing | ${Math.round(after).toLocaleString("en")} |`);
    console.log(`\nafter writing / on receipt: ${(after / receipt).toFixed(2)}`);
  } finally {
    await broker.stop();
  }
}
