/**
 * Where the subscriber hooks into MQTT.js: the one module that touches its
 * internals, checked against mqtt 5.16.0, the version `deno.json` pins
 * exactly. It relies on:
 * - `MqttClient#_sendPacket(packet, cb)`, which every outgoing packet goes
 *   through: PUBACKs are swallowed there and written by the subscriber, four
 *   bytes each, once their records are written;
 * - `handleMessage(packet, callback)`, after whose callback MQTT.js sends
 *   the PUBACK and parses the next packet: the callback is held while the
 *   agent pauses reading;
 * - `onKeepaliveTimeout()`, `reschedulePing()` and `sendPing()` of the
 *   keepalive manager, so that a pause does not pass for a dead broker;
 * - `new MqttClient(streamBuilder, options)` taking a socket opened by the
 *   agent, and the `writeCache: false` option of mqtt-packet.
 * An upgrade must be checked against each of these before the pin moves.
 *
 * @module
 */

import { type IClientOptions, type IPublishPacket, type IStream, MqttClient } from "mqtt";
import { openSocket } from "./_mqtt_socket.ts";

/** Opens the connection an MQTT.js client speaks over. */
export type StreamOpener = (client: MqttClient, options: IClientOptions) => IStream;

/**
 * Client options that only this module may rely on. By default
 * mqtt-packet builds a 2-byte buffer for each of the 65,536 packet ids on
 * the first packet it writes: 8 MB of heap for the process's life, to save
 * an allocation per packet that carries an id.
 */
export const SEAM_OPTIONS = { writeCache: false } as const;

/**
 * An MQTT.js client as MQTT.js's `connect()` makes it, but speaking over
 * the stream `open` returns (default: TCP or TLS): on its first call `connect()` loads every
 * transport it knows, WebSocket included, which took 40 ms of the agent's
 * start-up.
 */
export function openClient(
  options: IClientOptions,
  open: StreamOpener = openSocket,
): MqttClient {
  return new MqttClient((client) => open(client, options), options);
}

/** What {@linkcode hookClient} calls at the points where it hooks in. */
export interface ClientHooks {
  /**
   * Called with every PUBLISH and the stream it came on. MQTT.js parses
   * nothing more until `next` is called, and sends no PUBACK of its own.
   */
  onPublish(packet: IPublishPacket, stream: IStream, next: () => void): void;
  /**
   * Whether reading is held back (or was until just now), so that a
   * PINGRESP not seen in time does not mean a dead broker.
   */
  stalled(): boolean;
}

// Private parts of MQTT.js's client that the acknowledgement path uses.
interface ClientInternals {
  _sendPacket(packet: Record<string, unknown>, cb?: () => void, ...rest: unknown[]): void;
}

/** Takes over PUBACKs, message hand-over and the keepalive timeout of `client`. */
export function hookClient(client: MqttClient, hooks: ClientHooks): void {
  const internals = client as unknown as ClientInternals;
  const sendPacket = internals._sendPacket.bind(client);
  internals._sendPacket = (packet, cb, ...rest) => {
    // PUBACKs go out from the subscriber, once the record is written.
    if (packet.cmd === "puback") return cb?.();
    sendPacket(packet, cb, ...rest);
  };
  client.handleMessage = (packet, callback) => {
    hooks.onPublish(packet, client.stream, () => callback());
  };
  const keepaliveTimeout = client.onKeepaliveTimeout.bind(client);
  client.onKeepaliveTimeout = () => {
    // Not reading, the client cannot see the PINGRESP, which waits behind
    // the messages the broker sent before it: the connection is not dead.
    // The broker still gets a PINGREQ, so that it keeps the connection,
    // and the wait starts again.
    if (hooks.stalled()) {
      client.reschedulePing(true);
      client.sendPing();
      return;
    }
    keepaliveTimeout();
  };
}
