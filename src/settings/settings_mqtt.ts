/**
 * The settings of the broker, the session, the login and TLS: the first
 * part of the table in `settings.ts`.
 *
 * @module
 */

import type { Setting } from "./setting.ts";

/** The MQTT settings, in the order `--help` and the README show them. */
export const MQTT_SETTINGS: readonly Setting[] = [
  {
    name: "MQTT_URL",
    section: "mqtt",
    default: "mqtt://localhost:1883",
    help: "mqtt://host:port or mqtts://host:port\n(default {default})",
    description:
      "the broker: `mqtt://host:port` or `mqtts://host:port` (TLS). Credentials do not belong in the URL.",
    envFile: {
      comment: "The broker.",
      example: "mqtts://mqtt.stage.ammp.io:8883",
      set: true,
    },
  },
  {
    name: "MQTT_TOPICS",
    section: "mqtt",
    default: "a/+/u/data,a/+/bridge_state",
    help: "comma-separated topic filters\n(default {default})",
    description:
      "comma-separated topic filters. Add `a/+/data` to include pre-2022 loggers. A wider filter such as `a/#` works too: topics that carry no data are counted as ignored. `a/+/bridge_state` tells the [fleet view](#sites) which gateways are offline.",
    envFile: {
      comment: "Data, and each gateway's bridge state for the fleet view (offline sites).",
      set: true,
    },
  },
  {
    name: "MQTT_SHARE_GROUP",
    section: "mqtt",
    help: "subscribe as $share/<group>/<filter>",
    description: "subscribe as `$share/<group>/<filter>`, so that several agents split one stream",
  },
  {
    name: "MQTT_CLIENT_ID",
    section: "mqtt",
    shown: "`ammp-agent-<hostname>`",
    help: "stable client id (default ammp-agent-<hostname>)",
    description:
      "the session's identity. It must stay the same across restarts, because the broker keeps the queued messages under it.",
    envFile: {
      comment:
        "The session's identity: the broker queues messages under it while the\nagent is away, so it must stay the same. Default: ammp-agent-<hostname>.",
    },
  },
  {
    name: "MQTT_USERNAME",
    section: "mqtt",
    help: "user name",
    description: "user name",
    envFile: {
      comment: "The user name; its password is a credential, see above.",
      set: true,
    },
  },
  {
    name: "MQTT_PASSWORD_FILE",
    section: "mqtt",
    credential: "mqtt-password",
    help:
      "file holding the password (or MQTT_PASSWORD, or\nmqtt-password under $CREDENTIALS_DIRECTORY)",
    description: "file that holds the password (a trailing newline is ignored)",
  },
  {
    name: "MQTT_PASSWORD",
    section: "mqtt",
    secret: true,
    description: "the password itself. Prefer the file.",
  },
  {
    name: "CREDENTIALS_DIRECTORY",
    section: "mqtt",
    shown: "set by systemd",
    description:
      "used when no password is given: `$CREDENTIALS_DIRECTORY/mqtt-password` (systemd `LoadCredential=mqtt-password:...`)",
  },
  {
    name: "MQTT_CA_FILE",
    section: "mqtt",
    shown: "Deno's root CAs",
    help: "CA certificate (PEM) for mqtts:// brokers\n(default: Deno's root certificates)",
    description:
      "CA certificate (PEM) that signs the broker's certificate, e.g. `ca-stage.crt`. Only this CA is then trusted, see [Security](#security).",
    envFile: {
      comment: "The CA certificate that signs the broker's certificate.",
      example: "/etc/ammp-agent/ca.crt",
      set: true,
    },
  },
  {
    name: "MQTT_CERT_FILE",
    section: "mqtt",
    help:
      "client certificate and key for mutual TLS (or the\nkey as mqtt-key under $CREDENTIALS_DIRECTORY)",
    description: "client certificate and key, for mutual TLS",
  },
  {
    name: "MQTT_KEY_FILE",
    section: "mqtt",
    credential: "mqtt-key",
    joined: true,
    description: "client certificate and key, for mutual TLS",
  },
  {
    name: "MQTT_TLS_SERVERNAME",
    section: "mqtt",
    shown: "host of `MQTT_URL`",
    help: "host name to verify when connecting by address",
    description:
      "the DNS name to verify in the broker's certificate, when the broker is reached by another name or by address",
  },
  {
    name: "MQTT_QOS",
    section: "mqtt",
    choices: ["1", "0"],
    default: "1",
    help: "0 or 1 (default {default})",
    description: "subscription QoS: `1` (at least once) or `0`",
  },
  {
    name: "MQTT_PROTOCOL_VERSION",
    section: "mqtt",
    choices: ["5", "4"],
    default: "5",
    help: "5 or 4 for MQTT 3.1.1 (default {default})",
    description: "`5`, or `4` for MQTT 3.1.1",
  },
  {
    name: "MQTT_SESSION_EXPIRY_SECONDS",
    section: "mqtt",
    integer: { min: 0, max: 0xffffffff },
    // One week.
    default: 604800,
    help:
      "how long the broker keeps the session while the\nagent is away (default {default}, one week)",
    description:
      "how long the broker keeps the session and queues messages while the agent is away (one week). MQTT 5 only. For 3.1.1 the broker's own setting applies (mosquitto: `persistent_client_expiration`).",
  },
  {
    name: "MQTT_RECEIVE_MAXIMUM",
    section: "mqtt",
    integer: { min: 1, max: 65535 },
    default: 1000,
    help: "messages in flight at most (default {default})",
    description: "messages in flight (delivered but not yet acknowledged) at QoS 1, at most",
  },
  {
    name: "MQTT_KEEPALIVE_SECONDS",
    section: "mqtt",
    integer: { min: 5, max: 65535 },
    default: 30,
    help: "keepalive interval (default {default})",
    description: "MQTT keepalive",
  },
  {
    name: "MQTT_RECONNECT_MAX_SECONDS",
    section: "mqtt",
    integer: { min: 1, max: 3600 },
    default: 60,
    help: "longest wait between reconnects (default {default})",
    description: "longest wait between reconnect attempts",
  },
];
