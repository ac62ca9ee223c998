/**
 * Configuration: environment variables in, a validated {@linkcode Config}
 * out. Names, defaults and ranges come from the table in `settings.ts`;
 * what is more than reading one value (files, credentials, settings that
 * depend on each other) is checked here. Every value is checked before
 * anything connects, and a bad one becomes a {@linkcode ConfigError}
 * naming the variable. A command loads only the sections it uses, with the
 * same checks as the agent.
 *
 * @module
 */

import type { OutputFormat } from "../transform/format.ts";
import type { Config, LoadConfigOptions, LogLevel, SectionName, Sections } from "./config.ts";
import { parseListen } from "./_addresses.ts";
import { checkWritable, fileProblem, readToken } from "./_credentials.ts";
import { ConfigError } from "./config_error.ts";
import { loadMqtt } from "./_mqtt_config.ts";
import { SettingsReader } from "./_settings_reader.ts";
import { deriveNodeId, isNodeId, NODE_ID_INTERFACES } from "./gateway_node_id.ts";
import { matchesTopicsWithoutNodeId } from "../transform/transform.ts";

export type { Config, LoadConfigOptions, LogLevel, SectionName, Sections } from "./config.ts";
export { ConfigError } from "./config_error.ts";
export { parseListen, redactCredentials } from "./_addresses.ts";
export { maximumPacketSize, MQTT_MAX_PACKET_SIZE } from "./_mqtt_config.ts";
export { DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_METRICS_PORT, ENV_VARS } from "./settings.ts";

/**
 * Validates the environment and returns the configuration, or throws a
 * {@linkcode ConfigError} for the first bad value. Where `NODE_ID` is unset
 * and a filter of `MQTT_TOPICS` can match a topic without a node id, the
 * node id is derived from the gateway's hardware address, and a gateway
 * whose node id cannot be derived is a `NODE_ID` error.
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
  const { mqtt, metrics, log, transform, output, fleet } = loadSections(
    env,
    ["mqtt", "metrics", "log", "transform", "output", "fleet"],
    options,
  );
  return {
    mqtt,
    metrics,
    log,
    ...transform,
    ..._gatewayNode(transform.nodeId, mqtt.topics, options),
    ...output,
    fleet,
  };
}

// The node id of records whose topic carries none, and where it came from.
function _gatewayNode(
  nodeId: string | undefined,
  topics: readonly string[],
  options: LoadConfigOptions,
): Pick<Config, "nodeId" | "nodeIdFrom"> {
  if (nodeId !== undefined) return { nodeId, nodeIdFrom: "NODE_ID" };
  const filter = topics.find(matchesTopicsWithoutNodeId);
  if (filter === undefined) return {};
  let derived;
  try {
    derived = deriveNodeId({ sysfsRoot: options.sysfsRoot });
  } catch (error) {
    // Under the systemd unit, RestrictAddressFamilies= keeps out the
    // netlink socket that listing the interfaces takes.
    const reason = error instanceof Deno.errors.NotCapable
      ? fileProblem(error)
      : `cannot list the network interfaces (${
        (error as Error).message.replace(/ \(os error \d+\)$/, "")
      })`;
    throw new ConfigError(
      "NODE_ID",
      `Cannot derive NODE_ID from the MAC addresses of ${NODE_ID_INTERFACES.join(", ")}: ` +
        `${reason}, expected NODE_ID set to the gateway's node id`,
    );
  }
  if (derived.kind === "found") return { nodeId: derived.nodeId, nodeIdFrom: derived.interface };
  const why = derived.kind === "shared"
    ? `the address of ${derived.interface} is the one every Moxa shares`
    : derived.kind === "uncertain"
    ? `eth0, which ammp-edge takes before ${derived.interface}, has no IP address to read its MAC address by`
    : `none of ${NODE_ID_INTERFACES.join(", ")} has an address`;
  throw new ConfigError(
    "NODE_ID",
    `Missing NODE_ID: MQTT_TOPICS "${filter}" can match topics without a node id and ${why}, ` +
      `expected NODE_ID set to the gateway's node id (ammp-edge logs it as "Node ID: <id>")`,
  );
}

/**
 * Validates only the named sections, in their order, so that a command
 * needs no settings it does not use; throws a {@linkcode ConfigError} for
 * the first bad value.
 */
export function loadSections<S extends SectionName>(
  env: Record<string, string | undefined>,
  names: readonly S[],
  options: LoadConfigOptions = {},
): { [K in S]: Sections[K] } {
  const reader = new SettingsReader(env, options);
  const sections = {} as { [K in S]: Sections[K] };
  for (const name of names) sections[name] = SECTION_LOADERS[name](reader);
  return sections;
}

const SECTION_LOADERS: { [K in SectionName]: (reader: SettingsReader) => Sections[K] } = {
  mqtt: loadMqtt,
  listen: (reader) => parseListen(reader.text("METRICS_LISTEN")),
  metrics: (reader) => {
    const tokenFile = reader.secretFile("METRICS_TOKEN_FILE");
    const token = tokenFile === undefined ? undefined : readToken(tokenFile);
    return {
      ...parseListen(reader.text("METRICS_LISTEN")),
      ...(token === undefined ? {} : { token }),
    };
  },
  log: (reader) => ({
    level: reader.choice(
      "LOG_LEVEL",
      undefined,
      reader.get("LOG_LEVEL")?.toLowerCase().replace(/^warn$/, "warning"),
    ) as LogLevel,
    format: reader.choice("LOG_FORMAT") as "json" | "text",
  }),
  transform: (reader) => {
    const nodeId = reader.get("NODE_ID");
    if (nodeId !== undefined && !isNodeId(nodeId)) {
      throw new ConfigError(
        "NODE_ID",
        `Invalid NODE_ID "${nodeId}": expected 1 to 64 lowercase letters, digits, "-" or "_", ` +
          "such as b827eb2bb2a9",
      );
    }
    return {
      outputFormat: reader.choice("OUTPUT_FORMAT") as OutputFormat,
      maxPayloadBytes: reader.integer("MAX_PAYLOAD_BYTES"),
      ...(nodeId === undefined ? {} : { nodeId }),
    };
  },
  output: loadOutput,
  fleet: (reader) => ({
    maxNodes: reader.integer("MAX_NODES"),
    silentAfterSeconds: reader.get("NODE_SILENT_AFTER_SECONDS") === undefined
      ? undefined
      : reader.integer("NODE_SILENT_AFTER_SECONDS"),
    nodeMetrics: reader.choice("NODE_METRICS") === "on",
    stateDirectory: parseStateDirectory(reader.get("STATE_DIRECTORY")),
  }),
};

function loadOutput(reader: SettingsReader): Sections["output"] {
  const { get } = reader;
  const maxBufferedBytes = reader.integer("MAX_BUFFERED_BYTES");
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
  const outputSync = reader.choice(
    "OUTPUT_SYNC",
    outputFile === undefined ? "never" : "always",
  );
  if (outputSync === "always" && outputFile === undefined && deadLetterFile === undefined) {
    throw new ConfigError(
      "OUTPUT_SYNC",
      'Invalid OUTPUT_SYNC "always": it syncs OUTPUT_FILE and DEAD_LETTER_FILE, expected one of them set',
    );
  }
  return {
    outputFile,
    outputSync: outputSync === "always",
    deadLetterFile,
    maxBufferedBytes,
    shutdownTimeoutSeconds: reader.integer("SHUTDOWN_TIMEOUT_SECONDS"),
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
