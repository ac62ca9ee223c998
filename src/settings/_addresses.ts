/**
 * Parsing of the settings that are addresses: the broker URL, the topic
 * filters and the listen address of the HTTP endpoint.
 *
 * @module
 */

import { isIP } from "node:net";
import { ConfigError } from "./config_error.ts";
import { DEFAULT_METRICS_PORT } from "./settings.ts";

/** The broker as `MQTT_URL` names it. */
export interface BrokerUrl {
  /** The URL without credentials, safe to log. */
  url: string;
  protocol: "mqtt" | "mqtts";
  host: string;
  port: number;
}

/** Parses `MQTT_URL`, or throws a {@linkcode ConfigError}. */
export function parseBrokerUrl(value: string): BrokerUrl {
  // Every message shows the URL without anything that looks like user:password@.
  const shown = redactCredentials(value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(
      "MQTT_URL",
      `Invalid MQTT_URL "${shown}": expected mqtt://host:port or mqtts://host:port`,
    );
  }
  const protocol = url.protocol.slice(0, -1);
  if (protocol !== "mqtt" && protocol !== "mqtts") {
    throw new ConfigError(
      "MQTT_URL",
      `Invalid MQTT_URL "${shown}": scheme "${protocol}" is not supported, expected mqtt:// or mqtts://`,
    );
  }
  if (url.username !== "" || url.password !== "" || shown !== value) {
    throw new ConfigError(
      "MQTT_URL",
      `Invalid MQTT_URL "${shown}": it carries credentials, expected them in MQTT_USERNAME and MQTT_PASSWORD_FILE`,
    );
  }
  if (url.hostname === "") {
    throw new ConfigError("MQTT_URL", `Invalid MQTT_URL "${shown}": expected a host name`);
  }
  if ((url.pathname !== "" && url.pathname !== "/") || url.search !== "" || url.hash !== "") {
    throw new ConfigError(
      "MQTT_URL",
      `Invalid MQTT_URL "${shown}": expected no path or query, only mqtt[s]://host:port`,
    );
  }
  const port = url.port === "" ? (protocol === "mqtts" ? 8883 : 1883) : Number(url.port);
  if (port < 1) {
    throw new ConfigError(
      "MQTT_URL",
      `Invalid MQTT_URL "${shown}": port ${port} is out of range, expected 1 to 65535`,
    );
  }
  // IPv6 literals come back bracketed from URL; sockets want them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return {
    url: `${protocol}://${url.hostname}:${port}`,
    protocol: protocol as "mqtt" | "mqtts",
    host,
    port,
  };
}

/**
 * Replaces a `user:password@` part of a URL, however malformed, with `***@`:
 * everything after the scheme up to the last `@`, since a password may hold
 * `@`, `/`, `?`, `#` or `:` itself, and no host name holds `@`.
 */
export function redactCredentials(value: string): string {
  const at = value.lastIndexOf("@");
  if (at === -1) return value;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(value)?.[0] ?? "";
  return `${scheme}***${value.slice(at)}`;
}

/** Parses `MQTT_TOPICS`: filters checked, duplicates dropped; or throws a {@linkcode ConfigError}. */
export function parseTopics(value: string): string[] {
  const topics = value.split(",").map((topic) => topic.trim());
  for (const topic of topics) {
    const problem = topicFilterProblem(topic);
    if (problem !== undefined) {
      throw new ConfigError(
        "MQTT_TOPICS",
        `Invalid MQTT_TOPICS "${value}": filter "${topic}" ${problem}, expected comma-separated MQTT topic filters such as a/+/u/data`,
      );
    }
  }
  return [...new Set(topics)];
}

function topicFilterProblem(filter: string): string | undefined {
  if (filter === "") return "is empty";
  if (filter.includes("\u0000")) return "contains a NUL character";
  if (filter.startsWith("$share/")) return "is a shared subscription (use MQTT_SHARE_GROUP)";
  const levels = filter.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1)) {
      return 'uses "#" other than as the whole last level';
    }
    if (level.includes("+") && level !== "+") return 'uses "+" other than as a whole level';
  }
  return undefined;
}

/** A DNS name: labels of letters, digits and hyphens, dot-separated. */
export const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/**
 * Parses a `METRICS_LISTEN` value, `host:port`, `[v6]:port` or `port`, or
 * throws a {@linkcode ConfigError}.
 */
export function parseListen(value: string): { hostname: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value) ??
    /^()()(\d{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    throw new ConfigError(
      "METRICS_LISTEN",
      `Invalid METRICS_LISTEN "${value}": expected host:port such as 127.0.0.1:${DEFAULT_METRICS_PORT} or 0.0.0.0:${DEFAULT_METRICS_PORT}`,
    );
  }
  const hostname = match[1] ?? (match[2] || "127.0.0.1");
  // Whether the name resolves to an address of this host is known only when
  // listening; the agent tries that before it logs anything (main.ts).
  // Local names, unlike TLS server names, may hold "_" (container services).
  const valid = match[1] !== undefined
    ? isIP(hostname) === 6
    : isIP(hostname) === 4 || HOST_NAME.test(hostname.replaceAll("_", "x"));
  if (!valid) {
    throw new ConfigError(
      "METRICS_LISTEN",
      `Invalid METRICS_LISTEN "${value}": host "${hostname}" is neither an IP address nor a host name, expected host:port such as 127.0.0.1:${DEFAULT_METRICS_PORT}`,
    );
  }
  return { hostname, port };
}
