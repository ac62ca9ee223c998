/**
 * The MQTT session: connect, subscribe, hand each message over, and send
 * its acknowledgement when the agent says it is written.
 *
 * This is the one module that touches MQTT.js's internals, checked against
 * mqtt 5.16.0, the version `deno.json` pins exactly. It relies on:
 * - `MqttClient#_sendPacket(packet, cb)`, which every outgoing packet goes
 *   through: PUBACKs are swallowed there and written by the subscriber, four
 *   bytes each, once their records are written;
 * - `handleMessage(packet, callback)`, after whose callback MQTT.js sends
 *   the PUBACK and parses the next packet: the callback is held while the
 *   agent pauses reading;
 * - `onKeepaliveTimeout()`, `reschedulePing()` and `sendPing()` of the
 *   keepalive manager, so that a pause does not pass for a dead broker;
 * - `new MqttClient(streamBuilder, options)` taking a socket opened here,
 *   and the `writeCache: false` option of mqtt-packet.
 * An upgrade must be checked against each of these before the pin moves.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import { Buffer } from "node:buffer";
import { connect as connectTcp, isIP } from "node:net";
import { connect as connectTls } from "node:tls";
import { type IClientOptions, type IPublishPacket, type IStream, MqttClient } from "mqtt";
import type { Config } from "./config.ts";

/** Takes one message; `ack` must be called once it is written. */
export type MessageHandler = (topic: string, payload: Uint8Array, ack: () => void) => void;

/** Options for {@linkcode Subscriber}. */
export interface SubscriberOptions {
  log: Logger;
  /** Called with every message, in the order the broker sent them. */
  onMessage: MessageHandler;
  /** Called when the connection comes up (`true`) or goes down (`false`). */
  onConnection?: (connected: boolean) => void;
  /** Called before every attempt to connect again. */
  onReconnect?: () => void;
  /**
   * Unsubscribe after connecting instead of subscribing: what the broker
   * kept in the session still arrives, nothing new does (`ammp-agent leave`).
   */
  leaving?: boolean;
}

/** Options for {@linkcode Subscriber.stop}. */
export interface SubscriberStopOptions {
  /**
   * Also end the session on the broker (MQTT 5 session expiry 0), so that
   * it keeps nothing more for this client id.
   */
  endSession?: boolean;
}

/** The first and the largest delay between attempts to connect. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
}

/**
 * The delay before attempt `attempt` (0 for the first retry): exponential,
 * capped, with "equal jitter" so that many agents cut off at once do not
 * come back in step, yet none retries much sooner than planned.
 */
export function backoffDelay(attempt: number, backoff: Backoff, random = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * ceiling / 2);
}

// Private parts of MQTT.js's client that the acknowledgement path uses.
interface ClientInternals {
  _sendPacket(packet: Record<string, unknown>, cb?: () => void, ...rest: unknown[]): void;
}

/**
 * One persistent MQTT session (stable client id, clean start off, session
 * expiry), subscribed to the configured filters after every connect.
 *
 * MQTT.js hands messages over one at a time and sends each PUBACK when
 * `handleMessage` calls back, before it takes the next packet. So that the
 * agent can write records in batches and still acknowledge a message only
 * after its record is written, the subscriber calls back at once but holds
 * the PUBACK back: it is sent when the agent calls the message's `ack`.
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
  // Message ids whose PUBACKs go out together at the end of this task, and
  // the connection's stream they came on.
  #acks: number[] = [];
  #acksStream: IStream | undefined;
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
    const client = openClient(this.clientOptions());
    this.#client = client;
    const internals = client as unknown as ClientInternals;
    const sendPacket = internals._sendPacket.bind(client);
    internals._sendPacket = (packet, cb, ...rest) => {
      // PUBACKs go out from #acknowledge, once the record is written.
      if (packet.cmd === "puback") return cb?.();
      sendPacket(packet, cb, ...rest);
    };
    client.handleMessage = (packet, callback) => {
      const stream = client.stream;
      const deliver = () => {
        this.#take(packet, stream);
        if (this.#paused) this.#held.push(callback);
        else callback();
      };
      if (this.#paused) this.#held.push(deliver);
      else deliver();
    };
    const keepaliveTimeout = client.onKeepaliveTimeout.bind(client);
    client.onKeepaliveTimeout = () => {
      // Not reading, the client cannot see the PINGRESP, which waits behind
      // the messages the broker sent before it: the connection is not dead.
      // The broker still gets a PINGREQ, so that it keeps the connection,
      // and the wait starts again.
      if (this.#stalled(client)) {
        client.reschedulePing(true);
        client.sendPing();
        return;
      }
      keepaliveTimeout();
    };
    client.on("connect", (connack) => this.#onConnect(connack.sessionPresent));
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
    this.#sendAcks();
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
    // An acknowledgement only goes out on the stream its message came on.
    const ack = packet.qos === 0 || messageId === undefined
      ? noop
      : () => this.#acknowledge(messageId, stream);
    this.#options.onMessage(packet.topic, packet.payload as Uint8Array, ack);
  }

  #acknowledge(messageId: number, stream: IStream): void {
    // Whether the stream can still take them is checked once per batch.
    if (stream !== this.#acksStream) {
      this.#sendAcks();
      this.#acksStream = stream;
    }
    if (this.#acks.push(messageId) === 1) queueMicrotask(() => this.#sendAcks());
  }

  #sendAcks(): void {
    const ids = this.#acks;
    if (ids.length === 0) return;
    this.#acks = [];
    const stream = this.#acksStream!;
    if (this.#canAcknowledgeOn(stream)) stream.write(encodePubacks(ids));
  }

  // Whether `stream` is the live connection's, and a PUBACK may still go
  // out on it: not once the DISCONNECT is on its way.
  #canAcknowledgeOn(stream: IStream): boolean {
    const client = this.#client;
    return client?.stream === stream && client.connected && !client.disconnecting &&
      stream.writable;
  }

  #onConnect(sessionPresent: boolean): void {
    this.#attempt = 0;
    this.#lastError = undefined;
    this.#connectedSince = new Date();
    this.#options.onConnection?.(true);
    const { log } = this.#options;
    log.info("Connected to {broker} as {clientId}, session present: {sessionPresent}", {
      broker: this.#config.url,
      clientId: this.#config.clientId,
      sessionPresent,
    });
    if (this.#options.leaving) return this.#unsubscribe();
    // Subscribing again is harmless when the broker kept the session, and
    // needed when it lost it (expiry, broker without persistence).
    const filters = this.#config.subscriptions;
    const options = this.#config.protocolVersion === 5
      ? { qos: this.#config.qos, rh: 1 as const }
      : { qos: this.#config.qos };
    const client = this.#client!;
    // An answer that comes after the connection was replaced is stale.
    const stream = client.stream;
    client.subscribe(filters, options, (error, granted) => {
      if (client.stream !== stream) return;
      if (error) {
        log.error("Cannot subscribe to {topics}: {error}", {
          topics: filters,
          error: error.message,
        });
        return;
      }
      const refused = (granted ?? []).filter((grant) => grant.qos > 2);
      if (refused.length > 0) {
        log.error("The broker refused the subscription to {topics} (reason code {code})", {
          topics: refused.map((grant) => grant.topic),
          code: refused[0].qos,
        });
        return;
      }
      this.#subscribed = true;
      log.info("Subscribed to {topics} at QoS {qos}", {
        topics: filters,
        qos: this.#config.qos,
      });
    });
  }

  #unsubscribe(): void {
    const filters = this.#config.subscriptions;
    const client = this.#client!;
    const stream = client.stream;
    const { log } = this.#options;
    client.unsubscribe(filters, (error) => {
      if (client.stream !== stream) return;
      if (error) {
        log.error("Cannot unsubscribe from {topics}: {error}", {
          topics: filters,
          error: error.message,
        });
        return;
      }
      this.#subscribed = true;
      log.info("Unsubscribed from {topics}; writing what the broker kept for {clientId}", {
        topics: filters,
        clientId: this.#config.clientId,
      });
    });
  }

  #onClose(): void {
    const wasUp = this.#connectedSince !== undefined;
    this.#subscribed = false;
    this.#connectedSince = undefined;
    if (wasUp) this.#options.onConnection?.(false);
    if (this.#stopped) return;
    const delay = backoffDelay(this.#attempt++, {
      initialMs: 1000,
      maxMs: this.#config.reconnectMaxSeconds * 1000,
    });
    const failure = describeError(this.#lastError, this.#config);
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
    const config = this.#config;
    const options: IClientOptions = {
      protocol: config.protocol,
      host: config.host,
      port: config.port,
      clientId: config.clientId,
      username: config.username,
      password: config.password,
      protocolVersion: config.protocolVersion,
      clean: false,
      keepalive: config.keepaliveSeconds,
      // Reconnects follow backoffDelay(), not MQTT.js's fixed period.
      reconnectPeriod: 0,
      connectTimeout: 15_000,
      resubscribe: false,
      rejectUnauthorized: true,
      // MQTT.js traces every packet through `debug` unless given a logger;
      // the agent logs what matters itself.
      log: noop,
      // By default mqtt-packet builds a 2-byte buffer for each of the 65,536
      // packet ids on the first packet it writes: 8 MB of heap for the
      // process's life, to save an allocation per packet that carries an id.
      writeCache: false,
    };
    if (config.protocolVersion === 5) {
      options.properties = {
        sessionExpiryInterval: config.sessionExpirySeconds,
        receiveMaximum: config.receiveMaximum,
        // Bounds the memory one message can take; see maximumPacketSize().
        maximumPacketSize: config.maximumPacketSize,
      };
    }
    if (config.protocol === "mqtts") {
      if (config.ca !== undefined) options.ca = config.ca;
      if (config.cert !== undefined) options.cert = config.cert;
      if (config.key !== undefined) options.key = config.key;
      // TLS forbids an address as server name (SNI); the certificate is then
      // checked against the address itself.
      if (config.servername !== undefined || isIP(config.host) === 0) {
        options.servername = config.servername ?? config.host;
      }
    }
    return options;
  }
}

function noop(): void {}

/**
 * An MQTT.js client for `mqtt://` or `mqtts://`, as MQTT.js's `connect()`
 * makes it, but with the connection opened here: on its first call
 * `connect()` loads every transport it knows, WebSocket included, which
 * took 40 ms of the agent's start-up.
 */
export function openClient(options: IClientOptions): MqttClient {
  return new MqttClient((client) => openStream(client, options), options);
}

function openStream(client: MqttClient, options: IClientOptions): IStream {
  const { host, port } = options;
  if (options.protocol !== "mqtts") return connectTcp({ host, port: port! }) as IStream;
  const socket = connectTls({
    host,
    port,
    ca: options.ca,
    cert: options.cert,
    key: options.key,
    servername: options.servername,
    rejectUnauthorized: true,
  });
  // As in MQTT.js: until the handshake has succeeded, a failure is the
  // client's error (a certificate not trusted, a wrong host name).
  const failed = (error: Error) => {
    client.emit("error", error);
    socket.end();
  };
  socket.on("error", failed);
  socket.on("secureConnect", () => {
    if (socket.authorized) socket.removeListener("error", failed);
    else socket.emit("error", new Error("TLS not authorized"));
  });
  return socket as unknown as IStream;
}

/**
 * PUBACK packets for `ids`, one after another: success, no properties,
 * which is four bytes each in MQTT 3.1.1 and 5 alike. Writing them
 * directly costs a few bytes per message, where MQTT.js builds each one
 * from packet objects and small buffers.
 */
export function encodePubacks(ids: readonly number[]): Uint8Array {
  const bytes = Buffer.allocUnsafe(ids.length * 4);
  for (let i = 0; i < ids.length; i++) {
    const at = i * 4;
    bytes[at] = 0x40;
    bytes[at + 1] = 2;
    bytes[at + 2] = ids[i] >> 8;
    bytes[at + 3] = ids[i] & 0xff;
  }
  return bytes;
}

const CONNACK_REASONS: Record<number, string> = {
  4: "bad user name or password",
  5: "not authorized",
  134: "bad user name or password",
  135: "not authorized",
};

// Node's codes for a broker certificate that no trusted CA signed.
const UNTRUSTED = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
  "INVALID_CA",
]);

/** Why a connection failed: a plain sentence part, and the code behind it. */
export interface ConnectionFailure {
  /** What failed and what to check, e.g. for the log. */
  reason: string;
  /** The error code (`SELF_SIGNED_CERT_IN_CHAIN`, `ECONNREFUSED`, `134`), if any. */
  code?: string;
}

/**
 * Describes a failed connection in words a field engineer can act on: which
 * check failed, against which host, and the setting to look at. Never
 * includes the password.
 */
export function describeError(
  error: Error | undefined,
  config: Config["mqtt"],
): ConnectionFailure {
  if (error === undefined) return { reason: "the connection closed" };
  const raw = (error as { code?: unknown }).code;
  const code = raw === undefined ? undefined : String(raw);
  if (typeof raw === "number" && CONNACK_REASONS[raw]) {
    return {
      reason: `the broker refused the login of user "${config.username ?? ""}": ${
        CONNACK_REASONS[raw]
      }, check MQTT_USERNAME and the password`,
      code,
    };
  }
  const host = config.host;
  const name = config.servername ?? host;
  const message = error.message;
  if (code !== undefined && UNTRUSTED.has(code)) {
    return {
      reason: config.caFile === undefined
        ? `the TLS certificate of ${host} is not signed by any CA this machine trusts, set MQTT_CA_FILE to the broker's CA certificate`
        : `the TLS certificate of ${host} is not signed by the CA in MQTT_CA_FILE "${config.caFile}", check that this file is the broker's CA certificate`,
      code,
    };
  }
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") {
    return {
      reason: `the TLS certificate of ${host} ${
        code === "CERT_HAS_EXPIRED" ? "has expired" : "is not valid yet"
      }, check the broker's certificate and this machine's clock`,
      code,
    };
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    // Node's TLS error carries the certificate it refused.
    const listed = (error as { cert?: { subjectaltname?: unknown } }).cert?.subjectaltname;
    return {
      reason: `the TLS certificate of ${host} is not valid for the name "${name}"${
        typeof listed === "string" && listed !== "" ? ` (it lists ${listed})` : ""
      }, connect by a name it lists or set MQTT_TLS_SERVERNAME to one`,
      code,
    };
  }
  if (/CertificateRequired|CERTIFICATE_REQUIRED/i.test(`${code} ${message}`)) {
    return {
      reason: config.cert === undefined
        ? `the broker ${host} requires a client certificate, set MQTT_CERT_FILE and MQTT_KEY_FILE`
        : `the broker ${host} did not accept the client certificate in MQTT_CERT_FILE "${config.certFile}"`,
      code,
    };
  }
  if (
    config.cert !== undefined &&
    /ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|ACCESS_DENIED)/.test(code ?? "")
  ) {
    return {
      reason:
        `the broker ${host} did not accept the client certificate in MQTT_CERT_FILE "${config.certFile}" (${message})`,
      code,
    };
  }
  if (code === "ECONNREFUSED") {
    return { reason: `nothing accepts connections at ${host}:${config.port} (${code})`, code };
  }
  return { reason: message, code };
}
