/**
 * The connection to the broker: TCP for `mqtt://`, TLS for `mqtts://`.
 *
 * @module
 */

import { connect as connectTcp } from "node:net";
import { connect as connectTls } from "node:tls";
import type { IClientOptions, IStream, MqttClient } from "mqtt";

/** The code of the error a plain connection gets when the broker's port answered with TLS. */
export const TLS_ANSWER = "ERR_TLS_ANSWER";

/** Opens the TCP or TLS connection `options` name, for `client`. */
export function openSocket(client: MqttClient, options: IClientOptions): IStream {
  const { host, port } = options;
  // Nagle's algorithm would hold a batch of PUBACKs, or a small packet
  // after a large one, until the broker acknowledges what went before:
  // up to the broker's delayed ACK, which the in-flight window then waits on.
  if (options.protocol !== "mqtts") {
    const socket = connectTcp({ host, port: port!, noDelay: true });
    // A TLS port answers the plain CONNECT with a TLS record (an alert),
    // which MQTT.js reads as a malformed packet. Once the connection is
    // gone, after MQTT.js's own error and before its close, say what it was.
    let tls = false;
    socket.once("data", (chunk: Uint8Array) => tls = isTlsRecord(chunk));
    socket.once("close", () => {
      if (!tls) return;
      const error = new Error(`${host}:${port} answered with TLS`);
      client.emit("error", Object.assign(error, { code: TLS_ANSWER }));
    });
    return socket as IStream;
  }
  const socket = connectTls({
    host,
    port,
    ca: options.ca,
    cert: options.cert,
    key: options.key,
    servername: options.servername,
    rejectUnauthorized: true,
  });
  socket.setNoDelay(true);
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

// A TLS record of the handshake (22) or an alert (21), TLS 1.x (3.x): a
// broker's first packet is a CONNACK (0x20).
function isTlsRecord(chunk: Uint8Array): boolean {
  return chunk.length >= 2 && (chunk[0] === 21 || chunk[0] === 22) && chunk[1] === 3;
}
