/**
 * The MQTT session: connect, subscribe, hand each message over, and send
 * its acknowledgement when the agent says it is written. What it needs of
 * MQTT.js's internals goes through `_mqtt_seam.ts`.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import type { IClientOptions, IPublishPacket, IStream, MqttClient } from "mqtt";
import type { Config } from "../settings/load_config.ts";
import { clientOptions } from "./_client_options.ts";
import { describeError, describeTakeover } from "./connection_failure.ts";
import { hookClient, openClient, type StreamOpener } from "./_mqtt_seam.ts";
import { TakeoverWatch } from "./_session_takeover.ts";
import { subscribeFilters } from "./_subscription.ts";
import { TakenMessages } from "./_taken_messages.ts";
import { backoffDelay } from "./backoff.ts";

export { type Backoff, backoffDelay } from "./backoff.ts";
export { type ConnectionFailure, describeError } from "./connection_failure.ts";
export { openClient, type StreamOpener } from "./_mqtt_seam.ts";

/**
 * Takes one message. {@linkcode Subscriber.acknowledge} acknowledges the
 * messages taken, oldest first, once they are written.
 */
export type MessageHandler = (topic: string, payload: Uint8Array) => void;

/** Options for {@linkcode Subscriber}. */
export interface SubscriberOptions {
  log: Logger;
  /** Called with every message, in the order the broker sent them. */
  onMessage: MessageHandler;
  /** Called when the connection comes up (`true`) or goes down (`false`). */
  onConnection?: (connected: boolean) => void;
  /** Called before every attempt to connect again. */
  onReconnect?: () => void;
  /** Called when another client with the same client id took the session. */
  onTakeover?: () => void;
  /**
   * Unsubscribe after connecting instead of subscribing: what the broker
   * kept in the session still arrives, nothing new does (`ammp-agent leave`).
   */
  leaving?: boolean;
  /**
   * Opens each connection to the broker instead of TCP or TLS to
   * `clientOptions()`'s host, e.g. an in-memory stream in tests.
   */
  openStream?: StreamOpener;
}

/** Options for {@linkcode Subscriber.stop}. */
export interface SubscriberStopOptions {
  /**
   * Also end the session on the broker (MQTT 5 session expiry 0), so that
   * it keeps nothing more for this client id.
   */
  endSession?: boolean;
}

/**
 * One persistent MQTT session (stable client id, clean start off, session
 * expiry), subscribed to the configured filters after every connect.
 *
 * MQTT.js hands messages over one at a time and sends each PUBACK when
 * `handleMessage` calls back, before it takes the next packet. So that the
 * agent can write records in batches and still acknowledge a message only
 * after its record is written, the subscriber calls back at once but holds
 * the PUBACK back: it is sent when the agent acknowledges the message.
 * The PUBACKs of the messages acknowledged together (one written batch)
 * go out in one write. The broker's in-flight window (MQTT 5 receive
 * maximum) bounds how many messages can wait for their acknowledgement.
 *
 * {@linkcode pause} bounds them whatever the QoS: MQTT.js then gets no
 * callback for the message last taken, so it parses nothing more, its
 * stream stops taking data, and the socket is no longer read: TCP holds
 * the broker back.
 */
export class Subscriber {
  #config: Config["mqtt"];
  #options: SubscriberOptions;
  #client: MqttClient | undefined;
  #taken = new TakenMessages((stream) => this.#canAcknowledgeOn(stream));
  // Messages that arrived after stopTaking(), neither taken nor acknowledged.
  #declined = 0;
  // Subscribed to every filter (when leaving: unsubscribed from every one).
  #subscribed = false;
  #taking = true;
  // While paused: what MQTT.js waits for, in arrival order. Each entry takes
  // a message and calls MQTT.js back, or only calls back; MQTT.js sends no
  // more messages on a connection until it is called back, so there is at
  // most one entry per connection.
  #paused = false;
  #held: (() => void)[] = [];
  #resumedAt = -Infinity;
  #stopped = false;
  #attempt = 0;
  #takeover = new TakeoverWatch();
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #lastError: Error | undefined;
  #connectedSince: Date | undefined;

  /** Prepares the session; {@linkcode start} connects. */
  constructor(config: Config["mqtt"], options: SubscriberOptions) {
    this.#config = config;
    this.#options = options;
  }

  /** Connected, and every subscription granted (or, when leaving, removed). */
  get ready(): boolean {
    return this.#subscribed && (this.#client?.connected ?? false);
  }

  /** When the current connection came up, if it is up. */
  get connectedSince(): Date | undefined {
    return this.#connectedSince;
  }

  /** Connects, and keeps connecting until {@linkcode stop}. */
  start(): void {
    const client = openClient(this.clientOptions(), this.#options.openStream);
    this.#client = client;
    hookClient(client, {
      onPublish: (packet, stream, next) => {
        const deliver = () => {
          this.#take(packet, stream);
          if (this.#paused) this.#held.push(next);
          else next();
        };
        if (this.#paused) this.#held.push(deliver);
        else deliver();
      },
      stalled: () => this.#stalled(client),
    });
    client.on("connect", (connack) => this.#onConnect(connack.sessionPresent));
    client.on("disconnect", (packet) => this.#takeover.disconnected(packet.reasonCode));
    client.on("error", (error) => {
      this.#lastError = error;
    });
    client.on("close", () => this.#onClose());
  }

  /**
   * Stops reading from the broker after the message being handed over, on
   * this connection and on any new one, until {@linkcode resume}. The
   * connection stays up however long the pause lasts.
   */
  pause(): void {
    this.#paused = true;
  }

  /** Takes messages again after {@linkcode pause}, first those that waited. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#resumedAt = performance.now();
    // Not from inside the caller (the sink's acknowledgements).
    queueMicrotask(() => {
      while (!this.#paused && this.#held.length > 0) this.#held.shift()!();
    });
  }

  // Paused, or so recently resumed that the PINGRESP may still be on its way
  // through what was left unread.
  #stalled(client: MqttClient): boolean {
    return this.#paused || performance.now() - this.#resumedAt < 1500 * client.keepalive;
  }

  /**
   * Stops taking messages: those that arrive from now on are neither handed
   * over nor acknowledged, so the broker keeps them for the next session.
   */
  stopTaking(): void {
    this.#taking = false;
  }

  /**
   * Stops taking messages and disconnects cleanly. Resolves to whether the
   * session was ended, which needs `endSession`, a live connection, and no
   * message turned away since {@linkcode stopTaking} (ending the session
   * would drop it).
   */
  async stop(options: SubscriberStopOptions = {}): Promise<boolean> {
    this.#taking = false;
    this.#stopped = true;
    // A message that waited through a pause is turned away like any other.
    this.#paused = false;
    for (const held of this.#held.splice(0)) held();
    clearTimeout(this.#retryTimer);
    const client = this.#client;
    if (client === undefined) return false;
    this.#taken.sendAcks();
    if (!client.connected) {
      await client.endAsync(true);
      return false;
    }
    const endSession = options.endSession === true && this.#config.protocolVersion === 5 &&
      this.#declined === 0;
    await client.endAsync(
      false,
      endSession ? { properties: { sessionExpiryInterval: 0 } } : undefined,
    );
    return endSession;
  }

  #take(packet: IPublishPacket, stream: IStream): void {
    if (!this.#taking) {
      this.#declined++;
      return;
    }
    const { messageId } = packet;
    // The broker sends an unacknowledged message again after a reconnect;
    // one that waited through the pause of a connection now gone would be
    // a duplicate. (At QoS 0 nothing comes again: it is taken.)
    if (packet.qos > 0 && stream !== this.#client!.stream) return;
    this.#taken.take(stream, packet.qos === 0 || messageId === undefined ? -1 : messageId);
    this.#options.onMessage(packet.topic, packet.payload as Uint8Array);
  }

  /**
   * Acknowledges the `count` oldest messages taken and not acknowledged
   * yet: their PUBACKs go out together at the end of this task, on the
   * connection they came on while it lasts.
   */
  acknowledge(count: number): void {
    this.#taken.acknowledge(count);
  }

  // Whether `stream` is the live connection's, and a PUBACK may still go
  // out on it: not once the DISCONNECT is on its way.
  #canAcknowledgeOn(stream: IStream): boolean {
    const client = this.#client;
    return client?.stream === stream && client.connected && !client.disconnecting &&
      stream.writable;
  }

  #onConnect(sessionPresent: boolean): void {
    this.#takeover.connected();
    this.#lastError = undefined;
    this.#connectedSince = new Date();
    this.#options.onConnection?.(true);
    const { log } = this.#options;
    log.info("Connected to {broker} as {clientId}, session present: {sessionPresent}", {
      broker: this.#config.url,
      clientId: this.#config.clientId,
      sessionPresent,
    });
    subscribeFilters(this.#client!, this.#config, {
      log,
      leaving: this.#options.leaving,
      onDone: () => this.#subscribed = true,
    });
  }

  #onClose(): void {
    const wasUp = this.#connectedSince !== undefined;
    this.#subscribed = false;
    this.#connectedSince = undefined;
    if (wasUp) this.#options.onConnection?.(false);
    if (this.#stopped) return;
    const takeover = this.#takeover.closed(this.#lastError);
    // A connection that came up starts the backoff again, unless it was
    // taken over: two clients with one id would take the session from
    // each other at the shortest wait, forever.
    if (wasUp && takeover === undefined) this.#attempt = 0;
    if (takeover !== undefined) this.#options.onTakeover?.();
    const delay = backoffDelay(this.#attempt++, {
      initialMs: 1000,
      maxMs: this.#config.reconnectMaxSeconds * 1000,
    });
    const failure = takeover === undefined
      ? describeError(this.#lastError, this.#config, { connected: wasUp })
      : describeTakeover(takeover, this.#config);
    this.#options.log.warn(
      wasUp
        ? "Lost the connection to {broker}: {reason}; connecting again in {delayMs} ms"
        : "Cannot connect to {broker}: {reason}; trying again in {delayMs} ms",
      { broker: this.#config.url, reason: failure.reason, code: failure.code, delayMs: delay },
    );
    this.#lastError = undefined;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      if (this.#stopped) return;
      this.#options.onReconnect?.();
      this.#client?.reconnect();
    }, delay);
  }

  /** The MQTT.js options of this session, TLS included; `ammp-agent check` starts from them. */
  clientOptions(): IClientOptions {
    return clientOptions(this.#config);
  }
}
