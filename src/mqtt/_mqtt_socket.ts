/**
 * The connection to the broker: TCP for `mqtt://`, TLS for `mqtts://`.
 *
 * @module
 */

import { connect as connectTcp } from "node:net";
import { connect as connectTls } from "node:tls";
import type { IClientOptions, IStream, MqttClient } from "mqtt";

/** Opens the TCP or TLS connection `options` name, for `client`. */
export function openSocket(client: MqttClient, options: IClientOptions): IStream {
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
