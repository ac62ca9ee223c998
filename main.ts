/**
 * ammp-agent: subscribes to AMMP datalogger payloads on an MQTT broker and
 * writes one NDJSON record per payload on stdout.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Agent } from "./src/agent.ts";
import { checkBroker, CheckError } from "./src/check.ts";
import {
  ConfigError,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_METRICS_PORT,
  ENV_VARS,
  loadConfig,
  loadMetricsConfig,
  loadTransformConfig,
  parseListen,
} from "./src/config.ts";
import { readEnvFile } from "./src/env_file.ts";
import { agentBaseUrl } from "./src/_local_http.ts";
import { runNodes } from "./src/commands/nodes.ts";
import { checkReady, readyUrl } from "./src/healthcheck.ts";
import { logger, setupLogging } from "./src/log.ts";
import { AgentMetrics } from "./src/metrics.ts";
import { runTransform } from "./src/offline.ts";
import { dropPermissions, grantedPermissions, STARTUP_PERMISSIONS } from "./src/permissions.ts";
import denoJson from "./deno.json" with { type: "json" };

/** The agent's version, from `deno.json`. */
export const VERSION: string = denoJson.version;

const HELP = `ammp-agent ${VERSION}
Subscribes to AMMP datalogger payloads on an MQTT broker and writes one
NDJSON record per payload on stdout (or OUTPUT_FILE). Logs and dead letters
go to stderr.

Usage:
  ammp-agent [--env-file PATH]          run the agent
  ammp-agent transform [--topic TOPIC] [FILE...]
                                        transform payloads, one per line, from
                                        the files or stdin, and exit
  ammp-agent check [--wait-message SECONDS]
                                        connect, log in and subscribe with this
                                        configuration, report, and exit
  ammp-agent healthcheck                exit 0 when /readyz of the agent at
                                        METRICS_LISTEN answers 200, else 1
  ammp-agent nodes [--state STATE] [--json]
                                        the sites the agent at METRICS_LISTEN
                                        hears from, and their state
  ammp-agent leave [--quiet-seconds N]  retire this client id: unsubscribe,
                                        write what the broker kept for it,
                                        and once nothing has come for N
                                        seconds (default 5) end its session
  ammp-agent --help | --version

Configuration (environment variables; --env-file reads them from a file,
and variables already set win over the file):
  MQTT_URL                     mqtt://host:port or mqtts://host:port
                               (default mqtt://localhost:1883)
  MQTT_TOPICS                  comma-separated topic filters
                               (default a/+/u/data,a/+/bridge_state)
  MQTT_SHARE_GROUP             subscribe as $share/<group>/<filter>
  MQTT_CLIENT_ID               stable client id (default ammp-agent-<hostname>)
  MQTT_USERNAME                user name
  MQTT_PASSWORD_FILE           file holding the password (or MQTT_PASSWORD, or
                               mqtt-password under $CREDENTIALS_DIRECTORY)
  MQTT_CA_FILE                 CA certificate (PEM) for mqtts:// brokers
                               (default: Deno's root certificates)
  MQTT_CERT_FILE, MQTT_KEY_FILE  client certificate and key for mutual TLS (or the
                               key as mqtt-key under $CREDENTIALS_DIRECTORY)
  MQTT_TLS_SERVERNAME          host name to verify when connecting by address
  MQTT_QOS                     0 or 1 (default 1)
  MQTT_PROTOCOL_VERSION        5 or 4 for MQTT 3.1.1 (default 5)
  MQTT_SESSION_EXPIRY_SECONDS  how long the broker keeps the session while the
                               agent is away (default 604800, one week)
  MQTT_RECEIVE_MAXIMUM         messages in flight at most (default 1000)
  MQTT_KEEPALIVE_SECONDS       keepalive interval (default 30)
  MQTT_RECONNECT_MAX_SECONDS   longest wait between reconnects (default 60)
  METRICS_LISTEN               host:port of /metrics (default 127.0.0.1:${DEFAULT_METRICS_PORT})
  METRICS_TOKEN_FILE           file holding a bearer token that /metrics and /
                               then require (or metrics-token under
                               $CREDENTIALS_DIRECTORY)
  LOG_LEVEL                    debug, info, warning or error (default info)
  LOG_FORMAT                   json or text (default json)
  OUTPUT_FORMAT                record (one JSON record per payload), device
                               (one JSON line per device) or influx (InfluxDB
                               line protocol) (default record)
  OUTPUT_FILE                  append records to this file instead of stdout;
                               SIGHUP reopens it (and DEAD_LETTER_FILE)
  OUTPUT_SYNC                  always (fdatasync before acknowledging; the
                               default with OUTPUT_FILE) or never
  DEAD_LETTER_FILE             append dead letters to this file instead of stderr
  MAX_PAYLOAD_BYTES            larger payloads become dead letters (default 1048576)
  MAX_BUFFERED_BYTES           payload bytes taken and not yet written above which
                               the agent stops reading from the broker
                               (default ${DEFAULT_MAX_BUFFERED_BYTES}, 4 MiB)
  SHUTDOWN_TIMEOUT_SECONDS     longest drain on SIGTERM (default 10)
  MAX_NODES                    sites the fleet view tracks at most, 0 for none
                               (default 50000)
  NODE_SILENT_AFTER_SECONDS    a site is silent after this long without data
                               (default: 10 of its usual intervals, from 300 s
                               to one day)
  NODE_METRICS                 on (per-site series, up to 10000 sites) or off
                               (default on)
  STATE_DIRECTORY              keep the fleet view's node table in this folder
                               across restarts (systemd's StateDirectory=)

Exit codes: 0 stopped cleanly (check: passed), 1 failed while running (check:
failed), 2 bad configuration.
`;

const COMMANDS = ["transform", "check", "healthcheck", "leave", "nodes"];

// The options that belong to one command, and that command.
const COMMAND_OPTIONS: Record<string, string> = {
  topic: "transform",
  "wait-message": "check",
  "quiet-seconds": "leave",
  state: "nodes",
  json: "nodes",
};

/** Options for {@linkcode main}. */
export interface MainOptions {
  /** The source revision a build was made from; shown by `--version` and in metrics. */
  revision?: string;
}

/** Runs the command line; resolves to the exit code. */
export async function main(args: string[], options: MainOptions = {}): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(args),
      allowPositionals: true,
      options: {
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
        "env-file": { type: "string" },
        topic: { type: "string" },
        "wait-message": { type: "string" },
        "quiet-seconds": { type: "string" },
        state: { type: "string" },
        json: { type: "boolean" },
      },
    });
  } catch (error) {
    // node:util's messages run over several lines.
    console.error(
      `${(error as Error).message.replaceAll("\n", " ").replace(/\.$/, "")}; see ammp-agent --help`,
    );
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.version) {
    const revision = options.revision === undefined ? "" : `revision ${options.revision}, `;
    console.log(`ammp-agent ${VERSION} (${revision}deno ${Deno.version.deno})`);
    return 0;
  }
  const [command, ...files] = positionals;
  if (command !== undefined && !COMMANDS.includes(command)) {
    console.error(`Unknown command "${command}"; see ammp-agent --help`);
    return 2;
  }
  for (const [option, owner] of Object.entries(COMMAND_OPTIONS)) {
    if (values[option as keyof typeof values] !== undefined && command !== owner) {
      console.error(`Option --${option} is for "ammp-agent ${owner}"; see ammp-agent --help`);
      return 2;
    }
  }

  let env: Record<string, string | undefined>;
  try {
    env = readEnvironment(values["env-file"]);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }

  if (command === "transform") {
    const config = configFrom(() => loadTransformConfig(env));
    if (config === undefined) return 2;
    setupLogging(config.log);
    dropPermissions(["net", "write", "env", "sys"]);
    return await runTransform(files, {
      topic: values.topic ?? "",
      format: config.outputFormat,
      maxPayloadBytes: config.maxPayloadBytes,
    });
  }
  if (command === "check") return await check(env, values["wait-message"]);
  if (command === "healthcheck") return await healthcheck(env);
  if (command === "nodes") return await nodes(env, { state: values.state, json: values.json });
  if (command === "leave") {
    const quiet = values["quiet-seconds"] ?? "5";
    const quietSeconds = Number(quiet);
    if (!/^\d+(\.\d+)?$/.test(quiet) || quietSeconds < 0.1 || quietSeconds > 3600) {
      console.error(`Invalid --quiet-seconds "${quiet}": expected seconds from 0.1 to 3600`);
      return 2;
    }
    return await run(env, options.revision, { quietSeconds });
  }
  return await run(env, options.revision);
}

// `--wait-message -1` reads to node:util as an option where a value belongs;
// joined into `--wait-message=-1`, the value reaches the option's own check.
function joinNegativeValues(args: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const value = args[i + 1];
    if (VALUE_OPTIONS.includes(args[i]) && value !== undefined && /^-[\d.]/.test(value)) {
      joined.push(`${args[i]}=${value}`);
      i++;
    } else {
      joined.push(args[i]);
    }
  }
  return joined;
}

const VALUE_OPTIONS = ["--env-file", "--topic", "--wait-message", "--quiet-seconds"];

function readEnvironment(envFile: string | undefined): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = envFile === undefined ? {} : readEnvFile(envFile);
  for (const name of ENV_VARS) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

async function check(
  env: Record<string, string | undefined>,
  waitMessage: string | undefined,
): Promise<number> {
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

// The configuration, or undefined once the line naming the bad setting is printed.
function configFrom<T>(load: () => T): T | undefined {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return undefined;
    }
    throw error;
  }
}

async function healthcheck(env: Record<string, string | undefined>): Promise<number> {
  let listen;
  try {
    listen = parseListen(env.METRICS_LISTEN?.trim() || `127.0.0.1:${DEFAULT_METRICS_PORT}`);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  dropPermissions();
  const problem = await checkReady(readyUrl(listen));
  if (problem === undefined) return 0;
  console.error(problem);
  return 1;
}

// Tries the host of METRICS_LISTEN by listening on a free port of it: only
// listening resolves the name the way the server will (getaddrinfo, with
// /etc/hosts), and trying before the first log line keeps the problem to one
// line that names the setting. Resolves to undefined when it can be listened
// on, else to the exit code once that line is printed: 2 for a name that does
// not resolve, 1 for what may change by itself (an address not yet on this
// machine, a name server not answering), so that systemd tries again, as it
// does for a port in use, which only the server's start finds.
function listenProblem(listen: { hostname: string; port: number }): 1 | 2 | undefined {
  try {
    Deno.listen({ hostname: listen.hostname, port: 0 }).close();
    return undefined;
  } catch (error) {
    const host = listen.hostname.includes(":") ? `[${listen.hostname}]` : listen.hostname;
    const shown = `METRICS_LISTEN "${host}:${listen.port}"`;
    const reason = (error as Error).message.replace(/ \(os error \d+\)$/, "");
    if (error instanceof Deno.errors.AddrNotAvailable || /temporary failure/i.test(reason)) {
      console.error(`Cannot listen on ${shown}: ${reason}`);
      return 1;
    }
    console.error(`Invalid ${shown}: cannot listen on host "${listen.hostname}": ${reason}`);
    return 2;
  }
}

async function nodes(
  env: Record<string, string | undefined>,
  options: { state?: string; json?: boolean },
): Promise<number> {
  let metrics;
  try {
    metrics = loadMetricsConfig(env);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  dropPermissions();
  return await runNodes(agentBaseUrl(metrics), { ...options, token: metrics.token });
}

// How `leave` knows the session is empty: nothing has come for this long.
interface Leave {
  quietSeconds: number;
}

async function run(
  env: Record<string, string | undefined>,
  revision: string | undefined,
  leave?: Leave,
): Promise<number> {
  const config = configFrom(() => loadConfig(env));
  if (config === undefined) return 2;
  const listenCode = listenProblem(config.metrics);
  if (listenCode !== undefined) return listenCode;
  if (leave && config.mqtt.protocolVersion !== 5) {
    console.error(
      `Cannot leave with MQTT_PROTOCOL_VERSION "${config.mqtt.protocolVersion}": ` +
        "ending a session needs MQTT 5",
    );
    return 2;
  }
  setupLogging(config.log);
  const log = logger("main");

  const exit = Promise.withResolvers<number>();
  const metrics = new AgentMetrics({ version: VERSION, revision });
  let agent: Agent;
  try {
    agent = new Agent(config, {
      metrics,
      onFatal: (error) => {
        log.error("{error}; stopping without acknowledging more", { error: error.message });
        exit.resolve(1);
      },
      leaving: leave !== undefined,
    });
  } catch (error) {
    log.error("Cannot start: {error}", { error: (error as Error).message });
    return 1;
  }
  log.info("ammp-agent {version} starting", { version: VERSION, revision: revision ?? "unknown" });
  // Every file the agent needs is read or open by now: give up the rest,
  // but keep writing files when it has output files to reopen on SIGHUP.
  const permissions = dropPermissions(
    agent.hasFiles ? STARTUP_PERMISSIONS.filter((name) => name !== "write") : STARTUP_PERMISSIONS,
  );
  log.info("Running with permissions: {granted}", {
    granted: grantedPermissions(permissions).join(", "),
    permissions,
  });
  try {
    agent.start();
  } catch (error) {
    log.error("Cannot start: {error}", { error: (error as Error).message });
    return 1;
  }

  let stopping = false;
  const onSignal = (signal: Deno.Signal) => () => {
    // Ctrl-C under `deno task` arrives twice: from the terminal and passed on.
    if (stopping) return;
    stopping = true;
    log.info("Received {signal}, draining", { signal });
    exit.resolve(0);
  };
  const signals: [Deno.Signal, () => void][] = [
    ["SIGINT", onSignal("SIGINT")],
    ["SIGTERM", onSignal("SIGTERM")],
  ];
  if (agent.hasFiles) {
    // logrotate's postrotate: the files were renamed, write to new ones.
    signals.push(["SIGHUP", () => {
      log.info("Received SIGHUP, reopening the output files");
      agent.reopen();
    }]);
  }
  for (const [signal, listener] of signals) Deno.addSignalListener(signal, listener);
  let quietTimer: ReturnType<typeof setInterval> | undefined;
  if (leave) {
    quietTimer = whenQuiet(agent, metrics, { ...leave, onQuiet: () => exit.resolve(0) });
  }

  // The listeners stay until the process exits: Ctrl-C under `deno task`
  // delivers SIGINT twice (the terminal's, and the one the task runner
  // passes on), and the second must not cut the drain short.
  const code = await exit.promise;
  clearInterval(quietTimer);
  // A signal while leaving keeps the session: what is left stays queued.
  const endSession = leave !== undefined && !stopping && code === 0;
  const timeout = AbortSignal.timeout(config.shutdownTimeoutSeconds * 1000);
  const ended = await agent.stop({ signal: timeout, endSession });
  if (timeout.aborted) {
    log.warning("Shutdown took longer than {seconds} s; unwritten messages stay unacknowledged", {
      seconds: config.shutdownTimeoutSeconds,
    });
  }
  if (leave && !ended) {
    log.error(
      stopping
        ? "Stopped before the session of {clientId} was ended; run leave again"
        : "Cannot end the session of {clientId}: not everything was written; run leave again",
      { clientId: config.mqtt.clientId },
    );
    return 1;
  }
  if (ended) {
    log.info("Left: told the broker to end the session of {clientId}", {
      clientId: config.mqtt.clientId,
    });
  }
  return code;
}

// Calls `onQuiet` once the agent has been ready, with every message it took
// acknowledged and nothing arriving, for `quietSeconds`: with its window
// open the broker had nothing left to send. A stalled stdout holds acks
// back and so keeps the clock from running.
function whenQuiet(
  agent: Agent,
  metrics: AgentMetrics,
  options: Leave & { onQuiet: () => void },
): ReturnType<typeof setInterval> {
  let settledSince: number | undefined;
  return setInterval(() => {
    if (!agent.ready || agent.unacknowledged > 0) {
      settledSince = undefined;
      return;
    }
    const now = Date.now();
    settledSince ??= now;
    const last = Math.max(settledSince, metrics.lastMessageReceived * 1000);
    if (now - last >= options.quietSeconds * 1000) options.onQuiet();
  }, 100);
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
