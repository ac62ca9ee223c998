/**
 * Configuration: environment variables in, a validated {@linkcode Config}
 * out. Every value is checked before anything connects, and a bad one
 * becomes a {@linkcode ConfigError} naming the variable.
 *
 * @module
 */

import { isIP } from "node:net";
import { OUTPUT_FORMATS, type OutputFormat } from "./format.ts";
import { DEFAULT_MAX_NODES } from "./node_table.ts";
import { DEFAULT_MAX_PAYLOAD_BYTES } from "./transform.ts";

/** A setting that cannot be used; its message names the variable. */
export class ConfigError extends Error {
  /** The environment variable at fault. */
  readonly variable: string;

  /** Creates the error for `variable`. */
  constructor(variable: string, message: string) {
    super(message);
    this.name = "ConfigError";
    this.variable = variable;
  }
}

/** Log levels accepted by `LOG_LEVEL`. */
export type LogLevel = "debug" | "info" | "warning" | "error";

/** The agent's validated configuration. */
export interface Config {
  mqtt: {
    /** The broker URL without credentials, safe to log. */
    url: string;
    protocol: "mqtt" | "mqtts";
    host: string;
    port: number;
    /** Topic filters as given in `MQTT_TOPICS`. */
    topics: string[];
    /** Filters as subscribed: with `$share/<group>/` when a group is set. */
    subscriptions: string[];
    shareGroup?: string;
    clientId: string;
    username?: string;
    /** Never logged, never in metrics. */
    password?: string;
    /** The PEM text of `MQTT_CA_FILE`. */
    ca?: string;
    caFile?: string;
    cert?: string;
    /** The path of `MQTT_CERT_FILE`, for messages. */
    certFile?: string;
    key?: string;
    servername?: string;
    qos: 0 | 1;
    protocolVersion: 4 | 5;
    sessionExpirySeconds: number;
    receiveMaximum: number;
    keepaliveSeconds: number;
    reconnectMaxSeconds: number;
    /**
     * The MQTT 5 maximum packet size announced to the broker: well above
     * `MAX_PAYLOAD_BYTES`, see {@linkcode maximumPacketSize}.
     */
    maximumPacketSize: number;
  };
  metrics: {
    hostname: string;
    port: number;
    /** The bearer token `/metrics` and `/` require, from `METRICS_TOKEN_FILE`. */
    token?: string;
  };
  log: { level: LogLevel; format: "json" | "text" };
  /** How records are written. */
  outputFormat: OutputFormat;
  /** The file records are appended to; stdout when absent. */
  outputFile?: string;
  /** fdatasync `outputFile` and `deadLetterFile` before acknowledging what they hold. */
  outputSync: boolean;
  deadLetterFile?: string;
  maxPayloadBytes: number;
  /**
   * Payload bytes taken and not yet written above which the agent stops
   * reading from the broker.
   */
  maxBufferedBytes: number;
  shutdownTimeoutSeconds: number;
  /** The fleet view: what the agent keeps of every node it hears from. */
  fleet: {
    maxNodes: number;
    /** A fixed silence; undefined to derive it from each node's interval. */
    silentAfterSeconds?: number;
    nodeMetrics: boolean;
    /** Where the node table is kept across restarts; not kept when undefined. */
    stateDirectory?: string;
  };
}

/** Every environment variable the agent reads, for `--help` and permissions. */
export const ENV_VARS = [
  "MQTT_URL",
  "MQTT_TOPICS",
  "MQTT_SHARE_GROUP",
  "MQTT_CLIENT_ID",
  "MQTT_USERNAME",
  "MQTT_PASSWORD",
  "MQTT_PASSWORD_FILE",
  "MQTT_CA_FILE",
  "MQTT_CERT_FILE",
  "MQTT_KEY_FILE",
  "MQTT_TLS_SERVERNAME",
  "MQTT_QOS",
  "MQTT_PROTOCOL_VERSION",
  "MQTT_SESSION_EXPIRY_SECONDS",
  "MQTT_RECEIVE_MAXIMUM",
  "MQTT_KEEPALIVE_SECONDS",
  "MQTT_RECONNECT_MAX_SECONDS",
  "METRICS_LISTEN",
  "METRICS_TOKEN_FILE",
  "LOG_LEVEL",
  "LOG_FORMAT",
  "OUTPUT_FORMAT",
  "OUTPUT_FILE",
  "OUTPUT_SYNC",
  "DEAD_LETTER_FILE",
  "MAX_PAYLOAD_BYTES",
  "MAX_BUFFERED_BYTES",
  "SHUTDOWN_TIMEOUT_SECONDS",
  "MAX_NODES",
  "NODE_SILENT_AFTER_SECONDS",
  "NODE_METRICS",
  "STATE_DIRECTORY",
  "CREDENTIALS_DIRECTORY",
] as const;

/** The topic filters subscribed to by default: data, and each bridge's state. */
export const DEFAULT_TOPICS = "a/+/u/data,a/+/bridge_state";

/** The default metrics port: outside Prometheus's exporter range 9100-9999. */
export const DEFAULT_METRICS_PORT = 2667;

/**
 * The systemd credentials the agent reads under `$CREDENTIALS_DIRECTORY`,
 * by the setting each stands in for: with the setting unset, a credential
 * of that name that is there and not blank is used instead. The unit loads
 * them with `LoadCredential=`, and a `SetCredential=` of a line break
 * stands for one that is not given. So the files can stay root's own.
 */
export const CREDENTIALS = {
  MQTT_PASSWORD_FILE: "mqtt-password",
  MQTT_KEY_FILE: "mqtt-key",
  METRICS_TOKEN_FILE: "metrics-token",
} as const;

/** A setting whose file may come as a systemd credential. */
export type SecretSetting = keyof typeof CREDENTIALS;

/**
 * The default of `MAX_BUFFERED_BYTES`: 4 MiB. Taking a large payload leaves
 * about four times its size in garbage until V8 next collects, so a stall
 * with 100 KB payloads peaks near 87 MB at this bound, 103 MB at 8 MiB and
 * 118 MB at 16 MiB.
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

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

/** Options for {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /** Reads a file as text; defaults to `Deno.readTextFileSync`. */
  readTextFile?: (path: string) => string;
  /** The host name the default client id derives from. */
  hostname?: () => string;
}

/**
 * Validates the environment and returns the configuration, or throws a
 * {@linkcode ConfigError} for the first bad value.
 *
 * @example
 * ```ts
 * const config = loadConfig({ MQTT_URL: "mqtt://127.0.0.1:1883" });
 * config.mqtt.topics; // ["a/+/u/data", "a/+/bridge_state"]
 * ```
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  options: LoadConfigOptions = {},
): Config {
  const readTextFile = options.readTextFile ?? ((path) => Deno.readTextFileSync(path));
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === "" ? undefined : value;
  };
  const readFile = (name: string, path: string): string => {
    try {
      return readTextFile(path);
    } catch (error) {
      throw new ConfigError(name, `Cannot read ${name} "${path}": ${fileProblem(error)}`);
    }
  };

  const url = parseBrokerUrl(get("MQTT_URL") ?? "mqtt://localhost:1883");
  const topics = parseTopics(get("MQTT_TOPICS") ?? DEFAULT_TOPICS);
  const shareGroup = get("MQTT_SHARE_GROUP");
  if (shareGroup !== undefined && /[/+#]/.test(shareGroup)) {
    throw new ConfigError(
      "MQTT_SHARE_GROUP",
      `Invalid MQTT_SHARE_GROUP "${shareGroup}": expected a name without "/", "+" or "#"`,
    );
  }

  const clientId = get("MQTT_CLIENT_ID") ??
    defaultClientId((options.hostname ?? (() => Deno.hostname()))());
  if (clientId.length > 256) {
    throw new ConfigError(
      "MQTT_CLIENT_ID",
      `Invalid MQTT_CLIENT_ID "${clientId.slice(0, 40)}...": expected at most 256 characters`,
    );
  }

  const secretFile = secretReader(get, readTextFile);

  const password = readPassword(env, get, secretFile);
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
  const ca = caFile === undefined ? undefined : readPem("MQTT_CA_FILE", caFile, readFile);
  const certFile = get("MQTT_CERT_FILE");
  const keyFile = secretFile("MQTT_KEY_FILE");
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
  const tlsOnly = ["MQTT_CA_FILE", "MQTT_CERT_FILE", "MQTT_TLS_SERVERNAME"];
  if (url.protocol === "mqtt") {
    for (const name of tlsOnly) {
      if (get(name) !== undefined) {
        throw new ConfigError(
          name,
          `Invalid ${name}: MQTT_URL "${url.url}" is not TLS, expected an mqtts:// URL with it`,
        );
      }
    }
  }

  const protocolVersion = parseChoice("MQTT_PROTOCOL_VERSION", get, ["5", "4"], "5");
  const log = parseLog(get);

  const maxPayloadBytes = parseMaxPayloadBytes(get);
  const maxBufferedBytes = parseInteger("MAX_BUFFERED_BYTES", get, {
    default: DEFAULT_MAX_BUFFERED_BYTES,
    min: 65536,
    max: 4 * 1024 * 1024 * 1024,
  });

  const deadLetterFile = get("DEAD_LETTER_FILE");
  if (deadLetterFile !== undefined) checkWritable("DEAD_LETTER_FILE", deadLetterFile);
  const outputFile = get("OUTPUT_FILE");
  if (outputFile !== undefined) checkWritable("OUTPUT_FILE", outputFile);
  if (outputFile !== undefined && outputFile === deadLetterFile) {
    throw new ConfigError(
      "OUTPUT_FILE",
      `Invalid OUTPUT_FILE "${outputFile}": it is DEAD_LETTER_FILE too, expected another file`,
    );
  }
  const outputSync = parseChoice(
    "OUTPUT_SYNC",
    get,
    ["always", "never"],
    outputFile === undefined ? "never" : "always",
  );
  if (outputSync === "always" && outputFile === undefined && deadLetterFile === undefined) {
    throw new ConfigError(
      "OUTPUT_SYNC",
      'Invalid OUTPUT_SYNC "always": it syncs OUTPUT_FILE and DEAD_LETTER_FILE, expected one of them set',
    );
  }

  return {
    mqtt: {
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
      cert: certFile === undefined ? undefined : readPem("MQTT_CERT_FILE", certFile, readFile),
      certFile,
      key: keyFile === undefined ? undefined : checkPem(keyFile),
      servername,
      qos: Number(parseChoice("MQTT_QOS", get, ["1", "0"], "1")) as 0 | 1,
      protocolVersion: Number(protocolVersion) as 4 | 5,
      sessionExpirySeconds: parseInteger("MQTT_SESSION_EXPIRY_SECONDS", get, {
        default: 7 * 24 * 3600,
        min: 0,
        max: 0xffffffff,
      }),
      receiveMaximum: parseInteger("MQTT_RECEIVE_MAXIMUM", get, {
        default: 1000,
        min: 1,
        max: 65535,
      }),
      keepaliveSeconds: parseInteger("MQTT_KEEPALIVE_SECONDS", get, {
        default: 30,
        min: 5,
        max: 65535,
      }),
      reconnectMaxSeconds: parseInteger("MQTT_RECONNECT_MAX_SECONDS", get, {
        default: 60,
        min: 1,
        max: 3600,
      }),
      maximumPacketSize: maximumPacketSize(maxPayloadBytes),
    },
    metrics: loadMetricsConfig(env, options),
    log,
    outputFormat: parseOutputFormat(env),
    outputFile,
    outputSync: outputSync === "always",
    deadLetterFile,
    maxPayloadBytes,
    maxBufferedBytes,
    shutdownTimeoutSeconds: parseInteger("SHUTDOWN_TIMEOUT_SECONDS", get, {
      default: 10,
      min: 1,
      max: 3600,
    }),
    fleet: {
      maxNodes: parseInteger("MAX_NODES", get, {
        default: DEFAULT_MAX_NODES,
        min: 0,
        max: 10_000_000,
      }),
      silentAfterSeconds: get("NODE_SILENT_AFTER_SECONDS") === undefined
        ? undefined
        : parseInteger("NODE_SILENT_AFTER_SECONDS", get, { default: 0, min: 1, max: 31_536_000 }),
      nodeMetrics: parseChoice("NODE_METRICS", get, ["on", "off"], "on") === "on",
      stateDirectory: parseStateDirectory(get("STATE_DIRECTORY")),
    },
  };
}

// systemd sets STATE_DIRECTORY to a colon-separated list when a unit names
// several; the first is the agent's.
function parseStateDirectory(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const folder = value.split(":")[0];
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(folder);
  } catch (error) {
    throw new ConfigError(
      "STATE_DIRECTORY",
      `Cannot use STATE_DIRECTORY "${folder}": ${fileProblem(error)}`,
    );
  }
  if (!info.isDirectory) {
    throw new ConfigError(
      "STATE_DIRECTORY",
      `Cannot use STATE_DIRECTORY "${folder}": not a directory`,
    );
  }
  try {
    Deno.removeSync(Deno.makeTempFileSync({ dir: folder, prefix: ".write-test-" }));
  } catch (error) {
    throw new ConfigError(
      "STATE_DIRECTORY",
      `Cannot write to STATE_DIRECTORY "${folder}": ${fileProblem(error)}`,
    );
  }
  return folder;
}

/**
 * Reads `OUTPUT_FORMAT` alone; throws a {@linkcode ConfigError} for a bad
 * value.
 */
export function parseOutputFormat(env: Record<string, string | undefined>): OutputFormat {
  const get = (name: string) => env[name]?.trim() || undefined;
  return parseChoice("OUTPUT_FORMAT", get, [...OUTPUT_FORMATS], "record") as OutputFormat;
}

/** What the offline `transform` uses of the configuration. */
export type TransformConfig = Pick<Config, "log" | "outputFormat" | "maxPayloadBytes">;

/**
 * Validates only the settings the offline `transform` uses, so that it needs
 * no broker settings; throws a {@linkcode ConfigError} for a bad value.
 */
export function loadTransformConfig(env: Record<string, string | undefined>): TransformConfig {
  const get = (name: string) => env[name]?.trim() || undefined;
  return {
    log: parseLog(get),
    outputFormat: parseOutputFormat(env),
    maxPayloadBytes: parseMaxPayloadBytes(get),
  };
}

function parseLog(get: (name: string) => string | undefined): Config["log"] {
  const level = parseChoice(
    "LOG_LEVEL",
    (name) => get(name)?.toLowerCase().replace(/^warn$/, "warning"),
    ["info", "debug", "warning", "error"],
    "info",
  );
  return {
    level: level as LogLevel,
    format: parseChoice("LOG_FORMAT", get, ["json", "text"], "json") as "json" | "text",
  };
}

function parseMaxPayloadBytes(get: (name: string) => string | undefined): number {
  return parseInteger("MAX_PAYLOAD_BYTES", get, {
    default: DEFAULT_MAX_PAYLOAD_BYTES,
    min: 64,
    max: 256 * 1024 * 1024,
  });
}

function parseBrokerUrl(value: string) {
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

function parseTopics(value: string): string[] {
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

function defaultClientId(hostname: string): string {
  const host = hostname.toLowerCase().replace(/[^a-z0-9-]+/g, "-").slice(0, 40);
  return `ammp-agent-${host || "host"}`;
}

/** A secret's file as read: the setting it stands for, its path and text. */
interface SecretFile {
  name: SecretSetting;
  path: string;
  text: string;
}

function readPassword(
  env: Record<string, string | undefined>,
  get: (name: string) => string | undefined,
  secretFile: (name: SecretSetting) => SecretFile | undefined,
): string | undefined {
  // Not trimmed: a password may legitimately start or end with spaces.
  const inline = env.MQTT_PASSWORD === "" ? undefined : env.MQTT_PASSWORD;
  if (inline !== undefined && get("MQTT_PASSWORD_FILE") !== undefined) {
    throw new ConfigError(
      "MQTT_PASSWORD_FILE",
      "Conflicting MQTT_PASSWORD_FILE and MQTT_PASSWORD: expected only one of them",
    );
  }
  if (inline !== undefined) return inline;
  const file = secretFile("MQTT_PASSWORD_FILE");
  if (file === undefined) return undefined;
  // Files written by editors and `echo` end in a newline that is not part of the secret.
  const password = file.text.replace(/\r?\n$/, "");
  if (password === "") {
    throw new ConfigError(file.name, `Invalid ${file.name} "${file.path}": the file is empty`);
  }
  return password;
}

// RFC 6750 b64token: what an Authorization: Bearer header can carry.
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const MIN_TOKEN_LENGTH = 16;

/**
 * Validates only the settings of the HTTP endpoint (`METRICS_LISTEN`, and
 * the token of `METRICS_TOKEN_FILE` or the credential `metrics-token`), for
 * the agent and for the commands that ask a running agent; throws a
 * {@linkcode ConfigError} for a bad value.
 */
export function loadMetricsConfig(
  env: Record<string, string | undefined>,
  options: Pick<LoadConfigOptions, "readTextFile"> = {},
): Config["metrics"] {
  const get = (name: string) => env[name]?.trim() || undefined;
  const readTextFile = options.readTextFile ?? ((path) => Deno.readTextFileSync(path));
  const tokenFile = secretReader(get, readTextFile)("METRICS_TOKEN_FILE");
  const token = tokenFile === undefined ? undefined : readToken(tokenFile);
  return {
    ...parseListen(get("METRICS_LISTEN") ?? `127.0.0.1:${DEFAULT_METRICS_PORT}`),
    ...(token === undefined ? {} : { token }),
  };
}

// Reads a secret's file: the setting's path, else the systemd credential.
function secretReader(
  get: (name: string) => string | undefined,
  readTextFile: (path: string) => string,
): (name: SecretSetting) => SecretFile | undefined {
  return (name) => {
    const path = get(name);
    if (path !== undefined) {
      try {
        return { name, path, text: readTextFile(path) };
      } catch (error) {
        throw new ConfigError(name, `Cannot read ${name} "${path}": ${fileProblem(error)}`);
      }
    }
    const credentials = get("CREDENTIALS_DIRECTORY");
    if (credentials === undefined) return undefined;
    const credential = `${credentials}/${CREDENTIALS[name]}`;
    let text: string;
    try {
      text = readTextFile(credential);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw new ConfigError(
        name,
        `Cannot read the credential ${CREDENTIALS[name]} "${credential}" (for ${name}): ${
          fileProblem(error)
        }`,
      );
    }
    // Blank stands for not given: the unit's SetCredential= default.
    return text.trim() === "" ? undefined : { name, path: credential, text };
  };
}

function readToken(file: SecretFile): string {
  // Prometheus trims the credentials file as well, so a trailing newline is not part of it.
  const token = file.text.trim();
  if (token.length < MIN_TOKEN_LENGTH || !TOKEN.test(token)) {
    throw new ConfigError(
      "METRICS_TOKEN_FILE",
      `Invalid METRICS_TOKEN_FILE "${file.path}": expected one token of at least ${MIN_TOKEN_LENGTH} letters, digits or -._~+/ (e.g. from openssl rand -hex 32)`,
    );
  }
  return token;
}

// A DNS name: labels of letters, digits and hyphens, dot-separated.
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

function readPem(
  name: string,
  path: string,
  readFile: (name: string, path: string) => string,
): string {
  return checkPem({ name, path, text: readFile(name, path) });
}

function checkPem(file: { name: string; path: string; text: string }): string {
  if (!file.text.includes("-----BEGIN ")) {
    throw new ConfigError(
      file.name,
      `Invalid ${file.name} "${file.path}": expected a PEM file (-----BEGIN ...)`,
    );
  }
  return file.text;
}

function checkWritable(name: string, path: string): void {
  try {
    Deno.openSync(path, { append: true, create: true }).close();
  } catch (error) {
    throw new ConfigError(name, `Cannot write ${name} "${path}": ${fileProblem(error)}`);
  }
}

function fileProblem(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "file not found";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.NotCapable) return "not allowed by the agent's permissions";
  if (error instanceof Deno.errors.IsADirectory) return "is a directory";
  return (error as Error).message;
}

function parseChoice(
  name: string,
  get: (name: string) => string | undefined,
  choices: string[],
  fallback: string,
): string {
  const value = get(name);
  if (value === undefined) return fallback;
  if (!choices.includes(value)) {
    throw new ConfigError(
      name,
      `Invalid ${name} "${value}": expected one of ${choices.join(", ")}`,
    );
  }
  return value;
}

function parseInteger(
  name: string,
  get: (name: string) => string | undefined,
  range: { default: number; min: number; max: number },
): number {
  const value = get(name);
  if (value === undefined) return range.default;
  const number = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(number) || number < range.min || number > range.max) {
    throw new ConfigError(
      name,
      `Invalid ${name} "${value}": expected a whole number from ${range.min} to ${range.max}`,
    );
  }
  return number;
}

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
