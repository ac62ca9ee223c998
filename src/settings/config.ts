/**
 * The agent's validated configuration, in sections: what
 * {@linkcode loadConfig} (in `load_config.ts`) gives and every part of the
 * agent reads.
 *
 * @module
 */

import type { OutputFormat } from "../transform/format.ts";

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
    /** The bearer token `/metrics`, `/nodes` and `/` require, from `METRICS_TOKEN_FILE`. */
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
   * The node id of records whose topic carries none (`NODE_ID`, or derived
   * from the gateway's hardware address); undefined when there is none.
   */
  nodeId?: string;
  /** Where `nodeId` came from: `NODE_ID`, or the interface whose address it is. */
  nodeIdFrom?: string;
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

/** What each section of the configuration holds. */
export interface Sections {
  mqtt: Config["mqtt"];
  /** The address of the HTTP endpoint alone. */
  listen: Pick<Config["metrics"], "hostname" | "port">;
  /** The HTTP endpoint: its address and token. */
  metrics: Config["metrics"];
  log: Config["log"];
  /** What the transform itself uses. */
  transform: Pick<Config, "outputFormat" | "maxPayloadBytes" | "nodeId">;
  output: Pick<
    Config,
    "outputFile" | "outputSync" | "deadLetterFile" | "maxBufferedBytes" | "shutdownTimeoutSeconds"
  >;
  fleet: Config["fleet"];
}

/** A section's name. */
export type SectionName = keyof Sections;

/** Options for {@linkcode loadConfig} and {@linkcode loadSections}. */
export interface LoadConfigOptions {
  /** Reads a file as text; defaults to `Deno.readTextFileSync`. */
  readTextFile?: (path: string) => string;
  /** The host name the default client id derives from. */
  hostname?: () => string;
  /** Where sysfs is mounted, for the node id derived when `NODE_ID` is unset (default `/sys`). */
  sysfsRoot?: string;
}
