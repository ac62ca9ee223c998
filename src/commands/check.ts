/**
 * `ammp-agent check`: connects with the agent's settings, subscribes, and
 * says what it found, without touching the agent's own session.
 *
 * The check uses its own client id (`<MQTT_CLIENT_ID>-check`) with a clean
 * session that expires when it disconnects, so it neither takes over the
 * agent's session nor takes a message queued for it, and leaves nothing
 * behind on the broker. It subscribes to the plain topic filters, never
 * to the shared subscription of `MQTT_SHARE_GROUP`: a member of the group
 * would receive (and acknowledge) messages meant for the agents in it.
 *
 * @module
 */

import type { IClientOptions, IPublishPacket, MqttClient } from "mqtt";
import { type Config, loadConfig } from "../settings/load_config.ts";
import { logger } from "../log.ts";
import { describeError, openClient, Subscriber } from "../mqtt/subscriber.ts";
import { dropPermissions } from "../permissions.ts";
import { transform } from "../transform/transform.ts";
import { configFrom, type Env } from "./_config_from.ts";

/** What the check found at one step. */
export interface CheckFinding {
  /** `ok`, or `warn` for something that works but deserves a look. */
  level: "ok" | "warn";
  /** The step: `configuration`, `connection`, `login`, `subscription`, `first message`. */
  step: string;
  text: string;
}

/** Options for {@linkcode checkBroker}. */
export interface CheckBrokerOptions {
  /** Also wait this many seconds for a first message; 0 (default) does not wait. */
  waitMessageSeconds?: number;
  /** Longest wait for the broker to answer the connection (default 10 s). */
  connectTimeoutSeconds?: number;
  /** Called with each finding as soon as it is made. */
  onFinding?: (finding: CheckFinding) => void;
  /** The node id of records whose topic carries none (`NODE_ID`, or derived). */
  nodeId?: string;
  /** Where `nodeId` came from: `NODE_ID`, or an interface. */
  nodeIdFrom?: string;
}

/** A failed check; its message is the one-line reason. */
export class CheckError extends Error {
  /** Creates the error with its one-line reason. */
  constructor(message: string) {
    super(message);
    this.name = "CheckError";
  }
}

/** The check's client id: the agent's, with `-check` appended. */
export function checkClientId(clientId: string): string {
  return `${clientId.slice(0, 250)}-check`;
}

/**
 * Connects, logs in, subscribes and optionally waits for a first message,
 * reporting each step; resolves with the findings when every step passed,
 * or rejects with a {@linkcode CheckError} naming the step that failed.
 */
export async function checkBroker(
  config: Config["mqtt"],
  options: CheckBrokerOptions = {},
): Promise<CheckFinding[]> {
  const findings: CheckFinding[] = [];
  const report = (level: CheckFinding["level"], step: string, text: string) => {
    const finding = { level, step, text };
    findings.push(finding);
    options.onFinding?.(finding);
  };
  const clientId = checkClientId(config.clientId);
  report(
    "ok",
    "configuration",
    `${config.url}, MQTT ${config.protocolVersion === 5 ? "5" : "3.1.1"}, ` +
      `client id "${clientId}" with a clean session`,
  );
  if (options.nodeId !== undefined) {
    report(
      "ok",
      "configuration",
      `node id ${options.nodeId} from ${options.nodeIdFrom} for records whose topic carries none`,
    );
  }

  const client = openClient(
    checkOptions(config, clientId, options.connectTimeoutSeconds ?? 10),
  );
  const messages: IPublishPacket[] = [];
  let onMessage: (() => void) | undefined;
  client.on("message", (_topic, _payload, packet) => {
    messages.push(packet);
    onMessage?.();
  });
  try {
    await connected(client, config, options.connectTimeoutSeconds ?? 10);
    report("ok", "connection", `${config.host}:${config.port}, ${tlsText(config)}`);
    report(
      "ok",
      "login",
      config.username === undefined
        ? "accepted without a user name (anonymous)"
        : `accepted for user "${config.username}"`,
    );

    for (const finding of await subscribe(client, config)) {
      report(finding.level, "subscription", finding.text);
    }
    if (config.shareGroup !== undefined) {
      report(
        "ok",
        "subscription",
        `checked without the share group "${config.shareGroup}", so that no message meant for ` +
          "the agents in it is taken",
      );
    }

    const waitSeconds = options.waitMessageSeconds ?? 0;
    if (waitSeconds > 0) {
      const started = performance.now();
      const arrived = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), waitSeconds * 1000);
        onMessage = () => {
          clearTimeout(timer);
          resolve(true);
        };
        if (messages.length > 0) onMessage();
      });
      if (!arrived) {
        throw new CheckError(
          `No message on ${config.topics.join(", ")} within ${waitSeconds} s: ` +
            "the subscription works, but nothing was published (or the broker's access rules hide it)",
        );
      }
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const message = describeMessage(messages[0], options.nodeId);
      report(message.level, "first message", `after ${seconds} s: ${message.text}`);
    }
    await client.endAsync(false);
    return findings;
  } finally {
    if (!client.disconnecting) await client.endAsync(true);
  }
}

function checkOptions(
  config: Config["mqtt"],
  clientId: string,
  timeoutSeconds: number,
): IClientOptions {
  // The agent's own options (TLS, credentials, protocol), as a session that
  // the broker forgets on disconnect.
  const options = new Subscriber(config, { log: logger("check"), onMessage: () => {} })
    .clientOptions();
  return {
    ...options,
    clientId,
    clean: true,
    connectTimeout: timeoutSeconds * 1000,
    properties: config.protocolVersion === 5
      ? { sessionExpiryInterval: 0, receiveMaximum: config.receiveMaximum }
      : undefined,
  };
}

function connected(client: MqttClient, config: Config["mqtt"], timeoutSeconds: number) {
  return new Promise<void>((resolve, reject) => {
    let lastError: Error | undefined;
    const timer = setTimeout(() => {
      reject(
        new CheckError(`Cannot connect to ${config.url}: no answer within ${timeoutSeconds} s`),
      );
    }, timeoutSeconds * 1000);
    client.on("error", (error) => lastError = error);
    client.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
    client.once("close", () => {
      clearTimeout(timer);
      reject(
        new CheckError(
          `Cannot connect to ${config.url}: ${describeError(lastError, config).reason}`,
        ),
      );
    });
  });
}

async function subscribe(
  client: MqttClient,
  config: Config["mqtt"],
): Promise<Omit<CheckFinding, "step">[]> {
  const granted = await client.subscribeAsync(config.topics, { qos: config.qos });
  const findings: Omit<CheckFinding, "step">[] = [];
  for (const grant of granted) {
    if (grant.qos > 2) {
      throw new CheckError(
        `The broker refused the subscription to "${grant.topic}" (reason code ${grant.qos}): ` +
          "the user may not read it",
      );
    }
    if (grant.qos < config.qos) {
      findings.push({
        level: "warn",
        text: `${grant.topic} granted at QoS ${grant.qos}, asked for ${config.qos}: ` +
          "messages can be lost when the connection drops",
      });
    } else {
      findings.push({ level: "ok", text: `${grant.topic} granted at QoS ${grant.qos}` });
    }
  }
  return findings;
}

function tlsText(config: Config["mqtt"]): string {
  if (config.protocol === "mqtt") return "TLS: no (plain MQTT)";
  const ca = config.caFile ? `MQTT_CA_FILE "${config.caFile}"` : "the system's CA certificates";
  return `TLS: yes, the certificate of "${
    config.servername ?? config.host
  }" verified against ${ca}${config.cert ? ", client certificate accepted" : ""}`;
}

function describeMessage(packet: IPublishPacket, nodeId?: string): Omit<CheckFinding, "step"> {
  const payload = packet.payload as Uint8Array;
  const where = `${packet.topic}, ${payload.byteLength} bytes${packet.retain ? ", retained" : ""}`;
  const result = transform(packet.topic, payload, { nodeId });
  const node = (id: string | undefined) => id === undefined ? "without a node id" : `of node ${id}`;
  switch (result.kind) {
    case "record": {
      const devices = Object.keys(result.record.data).length;
      return {
        level: "ok",
        text: `${where}: a record ${node(result.record.node_id)}, ${devices} device${
          devices === 1 ? "" : "s"
        } at ${result.record.time}`,
      };
    }
    case "dead":
      return {
        level: "warn",
        text: `${where}: would be a dead letter (${result.reason}) ${node(result.node)}`,
      };
    case "ignored":
      return { level: "ok", text: `${where}: a topic without data, ignored` };
  }
}

/**
 * `ammp-agent check [--wait-message SECONDS]`: checks the broker with the
 * agent's whole configuration and prints what it found; resolves to the
 * exit code, 0 passed, 1 failed, 2 bad configuration.
 */
export async function checkCommand(env: Env, waitMessage: string | undefined): Promise<number> {
  const waitMessageSeconds = Number(waitMessage ?? "0");
  if (!/^\d+(\.\d+)?$/.test(waitMessage ?? "0") || waitMessageSeconds > 3600) {
    console.error(`Invalid --wait-message "${waitMessage}": expected seconds from 0 to 3600`);
    return 2;
  }
  const config = configFrom(() => loadConfig(env));
  if (config === undefined) return 2;
  dropPermissions();
  try {
    await checkBroker(config.mqtt, {
      waitMessageSeconds,
      nodeId: config.nodeId,
      nodeIdFrom: config.nodeIdFrom,
      onFinding: ({ level, step, text }) => console.log(`${level.padEnd(4)} ${step}: ${text}`),
    });
  } catch (error) {
    if (error instanceof CheckError) {
      console.error(`Check failed: ${error.message}`);
      return 1;
    }
    throw error;
  }
  console.log("Check passed");
  return 0;
}
