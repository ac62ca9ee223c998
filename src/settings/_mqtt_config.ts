/**
 * The MQTT section of the configuration: the broker, the subscriptions, the
 * session, the login and TLS, checked against each other.
 *
 * @module
 */

import { isIP } from "node:net";
import type { Config } from "./config.ts";
import { ConfigError } from "./config_error.ts";
import { HOST_NAME, parseBrokerUrl, parseTopics } from "./_addresses.ts";
import { checkPem, CREDENTIALS, readPassword, readPem } from "./_credentials.ts";
import type { SettingsReader } from "./_settings_reader.ts";

/** The largest packet size MQTT can express: 256 MiB - 1. */
export const MQTT_MAX_PACKET_SIZE = 268435455;

/**
 * The maximum packet size announced to the broker for a payload limit.
 * A broker silently discards a message larger than the announced size, so
 * announcing the payload limit itself would turn every oversized payload
 * into a loss nobody sees. Four times the limit (plus room for the topic
 * and properties) still bounds memory, while the payloads between the
 * limit and that size arrive and become visible `too_large` dead letters.
 */
export function maximumPacketSize(maxPayloadBytes: number): number {
  return Math.min(MQTT_MAX_PACKET_SIZE, 4 * maxPayloadBytes + 65536);
}

/** Validates the MQTT section: the broker, the session, the login and TLS. */
export function loadMqtt(reader: SettingsReader): Config["mqtt"] {
  const { get } = reader;
  const url = parseBrokerUrl(reader.text("MQTT_URL"));
  const topics = parseTopics(reader.text("MQTT_TOPICS"));
  const shareGroup = get("MQTT_SHARE_GROUP");
  if (shareGroup !== undefined && /[/+#]/.test(shareGroup)) {
    throw new ConfigError(
      "MQTT_SHARE_GROUP",
      `Invalid MQTT_SHARE_GROUP "${shareGroup}": expected a name without "/", "+" or "#"`,
    );
  }

  const clientId = get("MQTT_CLIENT_ID") ??
    defaultClientId((reader.options.hostname ?? (() => Deno.hostname()))());
  if (clientId.length > 256) {
    throw new ConfigError(
      "MQTT_CLIENT_ID",
      `Invalid MQTT_CLIENT_ID "${clientId.slice(0, 40)}...": expected at most 256 characters`,
    );
  }

  const password = readPassword(reader.env, get, reader.secretFile);
  const username = get("MQTT_USERNAME");
  if (password !== undefined && username === undefined) {
    throw new ConfigError(
      "MQTT_USERNAME",
      "Missing MQTT_USERNAME: a password is set, expected the user name it belongs to",
    );
  }
  if (username !== undefined && password === undefined) {
    const credentials = get("CREDENTIALS_DIRECTORY");
    throw new ConfigError(
      "MQTT_PASSWORD_FILE",
      `Missing the password of MQTT_USERNAME "${username}": ` +
        (credentials === undefined
          ? "expected MQTT_PASSWORD_FILE or MQTT_PASSWORD"
          : `the credential ${CREDENTIALS.MQTT_PASSWORD_FILE} in CREDENTIALS_DIRECTORY "${credentials}" is missing or empty, expected it or MQTT_PASSWORD_FILE`),
    );
  }

  const caFile = get("MQTT_CA_FILE");
  const ca = caFile === undefined ? undefined : readPem("MQTT_CA_FILE", caFile, reader.readFile);
  const certFile = get("MQTT_CERT_FILE");
  const keyFile = reader.secretFile("MQTT_KEY_FILE");
  if ((certFile === undefined) !== (keyFile === undefined)) {
    const missing = certFile === undefined ? "MQTT_CERT_FILE" : "MQTT_KEY_FILE";
    throw new ConfigError(
      missing,
      `Missing ${missing}: mutual TLS needs both MQTT_CERT_FILE and MQTT_KEY_FILE (or the credential ${CREDENTIALS.MQTT_KEY_FILE})`,
    );
  }
  const servername = get("MQTT_TLS_SERVERNAME");
  if (servername !== undefined && (isIP(servername) !== 0 || !HOST_NAME.test(servername))) {
    throw new ConfigError(
      "MQTT_TLS_SERVERNAME",
      `Invalid MQTT_TLS_SERVERNAME "${servername}": expected a DNS name such as mqtt.ammp.io (an IP address is checked when it is the host of MQTT_URL)`,
    );
  }
  if (url.protocol === "mqtt") {
    for (const name of ["MQTT_CA_FILE", "MQTT_CERT_FILE", "MQTT_TLS_SERVERNAME"]) {
      if (get(name) !== undefined) {
        throw new ConfigError(
          name,
          `Invalid ${name}: MQTT_URL "${url.url}" is not TLS, expected an mqtts:// URL with it`,
        );
      }
    }
  }

  const protocolVersion = reader.choice("MQTT_PROTOCOL_VERSION");
  const maxPayloadBytes = reader.integer("MAX_PAYLOAD_BYTES");
  return {
    ...url,
    topics,
    subscriptions: shareGroup === undefined
      ? topics
      : topics.map((topic) => `$share/${shareGroup}/${topic}`),
    shareGroup,
    clientId,
    username,
    password,
    ca,
    caFile,
    cert: certFile === undefined ? undefined : readPem("MQTT_CERT_FILE", certFile, reader.readFile),
    certFile,
    key: keyFile === undefined ? undefined : checkPem(keyFile),
    servername,
    qos: Number(reader.choice("MQTT_QOS")) as 0 | 1,
    protocolVersion: Number(protocolVersion) as 4 | 5,
    sessionExpirySeconds: reader.integer("MQTT_SESSION_EXPIRY_SECONDS"),
    receiveMaximum: reader.integer("MQTT_RECEIVE_MAXIMUM"),
    keepaliveSeconds: reader.integer("MQTT_KEEPALIVE_SECONDS"),
    reconnectMaxSeconds: reader.integer("MQTT_RECONNECT_MAX_SECONDS"),
    maximumPacketSize: maximumPacketSize(maxPayloadBytes),
  };
}

function defaultClientId(hostname: string): string {
  const host = hostname.toLowerCase().replace(/[^a-z0-9-]+/g, "-").slice(0, 40);
  return `ammp-agent-${host || "host"}`;
}
