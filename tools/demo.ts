/**
 * `deno task demo`: the agent at work in one command, with nothing to
 * install. It starts an MQTT broker inside this process (aedes, on a free
 * local port), the datalogger simulator publishing for a handful of sites,
 * and the agent subscribed to the broker. Records stream to stdout, logs to
 * stderr, and the status page and metrics are served as usual. Ctrl-C
 * stops everything.
 *
 * The agent runs in this process through `runAgent()`, the same lifecycle
 * `ammp-agent` runs: one process to start and stop, no second Deno start-up,
 * and the records reach stdout exactly as the agent writes them. The demo
 * lives here, outside `main.ts` and `src/`, so neither it nor aedes is
 * part of the agent or of its compiled binary.
 *
 * @module
 */

import net from "node:net";
import { parseArgs } from "node:util";
import { Aedes } from "aedes";
import { runAgent } from "../src/commands/run.ts";
import {
  ConfigError,
  DEFAULT_METRICS_PORT,
  ENV_VARS,
  loadConfig,
} from "../src/settings/load_config.ts";
import { logger, setupLogging } from "../src/log.ts";
import { Fleet } from "./site_model.ts";
import { simulate } from "./simulate.ts";

const HELP = `Runs the agent against simulated dataloggers, with an MQTT broker inside
this process: records on stdout, logs on stderr, Ctrl-C stops.

Usage: deno task demo [options]

  --nodes N            simulated sites (default 5, or 1 with --local)
  --local              the agent on the gateway, next to the datalogger: one
                       site publishes u/data and its bridge's state
                       a/<node_id>/bridge_state, the agent subscribes to
                       u/data,a/+/bridge_state with NODE_ID (default: the
                       site's drawn node id)
  --interval SECONDS   seconds between two readings of a site (default 2)
  --seed N             the seed the sites follow from (default: random)
  --malformed SHARE    share of payloads, 0 to 1, sent malformed (default 0)
  --non-data SHARE     share of payloads followed by a message on a topic
                       without data (default 0)
  --silent N           sites that stop sending data after --fault-after
                       seconds, their bridges still up (default 1 when
                       there are 5 sites or more, else 0)
  --offline N          sites whose bridges then say 0 (default: as --silent)
  --backfill N         sites that then replay two days of readings
                       (default: as --silent)
  --fault-after S      when those sites misbehave (default 20)
  -h, --help           this text

The agent's settings that do not concern the broker apply as usual, e.g.
OUTPUT_FORMAT=influx deno task demo, LOG_FORMAT=json deno task demo, or
METRICS_LISTEN=127.0.0.1:9000 deno task demo. NODE_SILENT_AFTER_SECONDS is 10
unless set, so that the silent site shows within a minute. Without METRICS_LISTEN the
status page is on port ${DEFAULT_METRICS_PORT}, or on a free port when that one is taken.`;

/** The demo's command-line options. */
export interface DemoOptions {
  nodes: number;
  /** On the gateway: one datalogger on the broker next to the agent. */
  local: boolean;
  intervalSeconds: number;
  seed: number;
  malformed: number;
  nonData: number;
  silent: number;
  offline: number;
  backfill: number;
  faultAfterSeconds: number;
}

function parseDemoArgs(args: string[]): DemoOptions | "help" {
  const { values } = parseArgs({
    args,
    options: {
      nodes: { type: "string" },
      local: { type: "boolean", default: false },
      interval: { type: "string", default: "2" },
      seed: { type: "string" },
      malformed: { type: "string", default: "0" },
      "non-data": { type: "string", default: "0" },
      silent: { type: "string" },
      offline: { type: "string" },
      backfill: { type: "string" },
      "fault-after": { type: "string", default: "20" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const number = (name: string, value: string, min: number, max: number) => {
    const parsed = Number(value);
    if (value.trim() === "" || !(parsed >= min && parsed <= max)) {
      throw new RangeError(`Invalid --${name} "${value}": expected a number from ${min} to ${max}`);
    }
    return parsed;
  };
  const local = values.local;
  const nodes = Math.round(number("nodes", values.nodes ?? (local ? "1" : "5"), 1, 10_000));
  if (local && nodes !== 1) {
    throw new RangeError(
      `Invalid --nodes "${values.nodes}": --local is one datalogger, expected 1`,
    );
  }
  // One site of each kind, while two or more still report.
  const fallback = nodes >= 5 ? "1" : "0";
  const faults = {
    silent: Math.round(number("silent", values.silent ?? fallback, 0, nodes)),
    offline: Math.round(number("offline", values.offline ?? fallback, 0, nodes)),
    backfill: Math.round(number("backfill", values.backfill ?? fallback, 0, nodes)),
  };
  if (faults.silent + faults.offline + faults.backfill > nodes) {
    throw new RangeError(
      `Invalid --silent, --offline and --backfill: together more than the ${nodes} sites`,
    );
  }
  return {
    ...faults,
    faultAfterSeconds: number("fault-after", values["fault-after"], 0, 1e9),
    nodes,
    local,
    intervalSeconds: number("interval", values.interval, 0.05, 3600),
    seed: values.seed === undefined
      ? Math.floor(Math.random() * 2 ** 31)
      : Math.round(number("seed", values.seed, 0, 2 ** 32 - 1)),
    malformed: number("malformed", values.malformed, 0, 1),
    nonData: number("non-data", values["non-data"], 0, 1),
  };
}

/** An MQTT broker (aedes, MQTT 3.1.1) in this process, on a free local port. */
async function startBroker(): Promise<{ url: string; close(): Promise<void> }> {
  const broker = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

// The usual metrics address, unless something already listens there.
function metricsListen(): string {
  try {
    Deno.listen({ hostname: "127.0.0.1", port: DEFAULT_METRICS_PORT }).close();
    return `127.0.0.1:${DEFAULT_METRICS_PORT}`;
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) return "127.0.0.1:0";
    throw error;
  }
}

/** Runs the demo until SIGINT or SIGTERM; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  let options;
  try {
    options = parseDemoArgs(args);
  } catch (error) {
    console.error(`${(error as Error).message}; see deno task demo --help`);
    return 2;
  }
  if (options === "help") {
    console.log(HELP);
    return 0;
  }

  // The agent's own settings, except those of the broker, which is ours.
  const env: Record<string, string | undefined> = {};
  for (const name of ENV_VARS) {
    if (!name.startsWith("MQTT_") && name !== "CREDENTIALS_DIRECTORY") {
      env[name] = Deno.env.get(name);
    }
  }
  env.LOG_FORMAT ??= "text";
  env.NODE_SILENT_AFTER_SECONDS ??= "10";
  env.METRICS_LISTEN ??= metricsListen();
  const broker = await startBroker();
  env.MQTT_URL = broker.url;
  // aedes speaks MQTT 3.1.1 only.
  env.MQTT_PROTOCOL_VERSION = "4";
  env.MQTT_CLIENT_ID = "ammp-agent-demo";
  if (options.local) {
    // The gateway's own broker: the datalogger's u/data, and its bridge's
    // state. The site's node id is NODE_ID's, or NODE_ID the site's.
    env.MQTT_TOPICS = "u/data,a/+/bridge_state";
    env.NODE_ID ??= new Fleet({ nodes: 1, seed: options.seed }).sites[0].nodeId;
  }

  let config;
  try {
    config = loadConfig(env);
  } catch (error) {
    await broker.close();
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  setupLogging(config.log);
  const log = logger("demo");

  const stop = new AbortController();
  let simulation: Promise<unknown> = Promise.resolve();
  const code = await runAgent(config, {
    logCategory: "demo",
    // The broker in this process needs the network and more.
    dropPermissions: false,
    onStarted: async (agent, exit) => {
      // The simulator starts once the agent is subscribed, so the first
      // readings are not published to nobody.
      const deadline = Date.now() + 10_000;
      while (!agent.ready && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      if (!agent.ready) {
        log.error("The agent did not subscribe to the demo broker within 10 s");
        exit(1);
        return;
      }
      const { hostname, port } = agent.address!;
      const page = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}/`;
      const where = { ...options, interval: options.intervalSeconds, broker: broker.url, page };
      if (options.local) {
        log.info(
          "Demo on the gateway: the datalogger of node {nodeId} publishes u/data every " +
            "{interval} s (seed {seed}) to the broker at {broker}, and its bridge's state; " +
            "status page {page}, metrics {page}metrics; Ctrl-C stops",
          { ...where, nodeId: config.nodeId },
        );
      } else {
        log.info(
          "Demo: {nodes} simulated sites publish every {interval} s (seed {seed}) to the broker " +
            "at {broker}; status page {page}, metrics {page}metrics; Ctrl-C stops",
          where,
        );
      }
      simulation = simulate({
        url: broker.url,
        protocolVersion: 4,
        nodes: options.nodes,
        intervalSeconds: options.intervalSeconds,
        seed: options.seed,
        local: options.local,
        nodeId: options.local ? config.nodeId : undefined,
        malformed: options.malformed,
        nonData: options.nonData,
        silent: options.silent,
        offline: options.offline,
        backfill: options.backfill,
        faultAfterSeconds: options.faultAfterSeconds,
        signal: stop.signal,
      }).catch((error) => {
        log.error("The simulator stopped: {error}", { error: (error as Error).message });
        exit(1);
      });
    },
    onStopping: async () => {
      log.info("Stopping the demo");
      stop.abort();
      await simulation;
    },
  });
  await broker.close();
  return code;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
