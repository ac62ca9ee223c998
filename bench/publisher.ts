/**
 * Publishers of the benchmark: as fast as the broker takes messages (to
 * fill a backlog), or at a fixed rate with a probe in every payload (to
 * measure latency).
 *
 * @module
 */

import { connectAsync } from "mqtt";
import { type GeneratedMessage, withProbe } from "./generator.ts";
import { WirePublisher } from "./mqtt_wire.ts";

const encoder = new TextEncoder();

/** Connects a publisher (MQTT 5, clean session) to the broker at `port` on loopback. */
export async function connectPublisher(port: number, clientId: string): Promise<WirePublisher> {
  return await WirePublisher.connect("127.0.0.1", port, clientId, { window: 1000 });
}

/**
 * Creates a persistent session subscribed to `filter` at QoS 1 and leaves
 * it: from now on the broker queues every matching message for it.
 */
export async function prepareSession(url: string, clientId: string, filter: string): Promise<void> {
  const client = await connectAsync(url, {
    clientId,
    protocolVersion: 5,
    clean: false,
    reconnectPeriod: 0,
    properties: { sessionExpiryInterval: 3600 },
  });
  await client.subscribeAsync(filter, { qos: 1 });
  await client.endAsync();
}

/** What a publisher sent. */
export interface Published {
  messages: number;
  bytes: number;
  seconds: number;
}

/** Options for {@linkcode publishBacklog}. */
export interface PublishBacklogOptions {
  /** Called with the size in bytes of every payload sent. */
  onSize?: (bytes: number) => void;
}

/**
 * Publishes every message at QoS 1 as fast as the broker acknowledges
 * them, and resolves once the broker has acknowledged all: then they are
 * queued for every session subscribed.
 */
export async function publishBacklog(
  publisher: WirePublisher,
  messages: Iterable<GeneratedMessage>,
  options: PublishBacklogOptions = {},
): Promise<Published> {
  const started = performance.now();
  let count = 0;
  let bytes = 0;
  for (const message of messages) {
    if (!publisher.canSend) {
      await publisher.flush();
      await publisher.room();
    }
    const payload = encoder.encode(message.payload);
    publisher.publish(message.topic, payload);
    count++;
    bytes += payload.byteLength;
    options.onSize?.(payload.byteLength);
    if (count % 64 === 0) await publisher.flush();
  }
  await publisher.settled();
  return { messages: count, bytes, seconds: (performance.now() - started) / 1000 };
}

/** Options for {@linkcode publishSteady}. */
export interface PublishSteadyOptions {
  /** Messages per second. */
  rate: number;
  /** How long to publish, in seconds. */
  seconds: number;
  /** Warm-up: every probe gets sequence number -1, which readers do not count. */
  warmup?: boolean;
}

/** What a steady publisher sent, and how closely it kept its rate. */
export interface SteadyPublished extends Published {
  /** Messages per second actually sent. */
  rate: number;
  /** Messages that waited for the broker's window (none if the broker kept up). */
  held: number;
}

/** The time now in microseconds since the Unix epoch. */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/**
 * Publishes `rate × seconds` messages at QoS 1, evenly spread, each with a
 * probe: its sequence number (0, 1, …) and the microsecond it was sent.
 * Every millisecond it sends what is due, in one write.
 */
export async function publishSteady(
  publisher: WirePublisher,
  next: () => GeneratedMessage,
  options: PublishSteadyOptions,
): Promise<SteadyPublished> {
  const total = Math.round(options.rate * options.seconds);
  const started = performance.now();
  let sent = 0;
  let bytes = 0;
  let held = 0;
  while (sent < total) {
    const due = Math.min(
      total,
      Math.floor((performance.now() - started) * options.rate / 1000) + 1,
    );
    while (sent < due) {
      if (!publisher.canSend) {
        held++;
        await publisher.flush();
        await publisher.room();
      }
      const message = next();
      const seq = options.warmup ? -1 : sent;
      const payload = encoder.encode(withProbe(message.payload, seq, nowMicros()));
      publisher.publish(message.topic, payload);
      bytes += payload.byteLength;
      sent++;
    }
    await publisher.flush();
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const seconds = (performance.now() - started) / 1000;
  await publisher.settled();
  return { messages: sent, bytes, seconds, rate: sent / seconds, held };
}
