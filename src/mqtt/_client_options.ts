/**
 * The MQTT.js options of the agent's session.
 *
 * @module
 */

import { isIP } from "node:net";
import type { IClientOptions } from "mqtt";
import type { Config } from "../settings/load_config.ts";
import { SEAM_OPTIONS } from "./_mqtt_seam.ts";

/**
 * The MQTT.js options of one persistent session (stable client id, clean
 * start off, session expiry), TLS included.
 */
export function clientOptions(config: Config["mqtt"]): IClientOptions {
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
    ...SEAM_OPTIONS,
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

function noop(): void {}
