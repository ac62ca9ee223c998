/**
 * The datalogger simulator: publishes the payloads of simulated AMMP sites
 * (see `site_model.ts`) to an MQTT broker on `a/<node_id>/u/data`, QoS 1,
 * either in real time like a fleet of loggers or as fast as asked, as a
 * load generator. With `--local` it is one datalogger on its gateway's own
 * broker: `u/data`, without the prefix its bridge adds on the way to the
 * cloud, and the bridge's state on `a/<node_id>/bridge_state`.
 *
 * ```sh
 * deno task simulate --url mqtt://127.0.0.1:1883 --nodes 20 --interval 10
 * deno task simulate --rate max --count 100000 --nodes 500
 * deno task simulate --local --node-id b827eb2bb2a9
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { connect, type IClientOptions, type MqttClient } from "mqtt";
import { isNodeId } from "../src/settings/gateway_node_id.ts";
import { Fleet, type SimulatedMessage } from "./site_model.ts";

/** Options for {@linkcode simulate}. */
export interface SimulateOptions {
  /** `mqtt://host:port` or `mqtts://host:port`. */
  url: string;
  username?: string;
  password?: string;
  /** CA certificate (PEM) for `mqtts://`. */
  ca?: string;
  /** 5 (default) or 4 for MQTT 3.1.1. */
  protocolVersion?: 4 | 5;
  /** Number of simulated sites; one with `local`. */
  nodes: number;
  /**
   * Publish as the datalogger on its gateway does, to the gateway's own
   * broker: `u/...` topics without the bridge's `a/<node_id>/` prefix; the
   * bridge's state stays on `a/<node_id>/bridge_state`, as mosquitto
   * publishes it locally too.
   */
  local?: boolean;
  /** The (first) site's node id, instead of one drawn from the seed. */
  nodeId?: string;
  /** Seconds between two readings of one site. */
  intervalSeconds: number;
  /** The seed the sites and their readings follow from. */
  seed: number;
  /** Stop after this many messages. */
  count?: number;
  /** Stop after this many seconds. */
  durationSeconds?: number;
  /**
   * Messages per second, `Infinity` for as fast as the broker acknowledges.
   * Without it, each site publishes every `intervalSeconds` in real time;
   * with it, reading times start at `start` and advance by
   * `intervalSeconds` per round, whatever the clock says (like a logger
   * replaying its queue after an outage).
   */
  rate?: number;
  /** The first reading time with `rate`, Unix seconds; defaults to now. */
  start?: number;
  /** Share of data payloads, 0 to 1, replaced by malformed ones. */
  malformed?: number;
  /** Share of data payloads, 0 to 1, followed by a message on a topic without data. */
  nonData?: number;
  /**
   * In real time: this many sites stop sending data after
   * `faultAfterSeconds`, while their bridges stay connected (silent).
   */
  silent?: number;
  /** In real time: this many sites' bridges say 0 after `faultAfterSeconds`, and they stop. */
  offline?: number;
  /**
   * In real time: this many sites send nothing until `faultAfterSeconds`,
   * then replay two days of readings, a few per turn, before they send
   * live ones again (backfilling).
   */
  backfill?: number;
  /** When the faults above begin, in seconds from the start (default 20). */
  faultAfterSeconds?: number;
  /** Most messages awaiting their PUBACK at once (default 100, at most the broker's receive maximum). */
  window?: number;
  /** Stops the simulation; what was published is still acknowledged. */
  signal?: AbortSignal;
  /** Called every `progressSeconds` while publishing. */
  onProgress?: (stats: SimulateStats) => void;
  /** Seconds between progress calls (default 10). */
  progressSeconds?: number;
}

/** What a simulation published. */
export interface SimulateStats {
  /** Messages handed to the broker. */
  published: number;
  /** Messages the broker acknowledged (PUBACK). */
  acknowledged: number;
  /** Messages by kind. */
  kinds: Record<SimulatedMessage["kind"], number>;
  /** Seconds from the first message to the last acknowledgement. */
  seconds: number;
}

/** Publishes simulated payloads until `count`, `durationSeconds` or `signal` stops it. */
export async function simulate(options: SimulateOptions): Promise<SimulateStats> {
  const fleet = new Fleet({
    nodes: options.nodes,
    seed: options.seed,
    malformed: options.malformed,
    nonData: options.nonData,
    nodeId: options.nodeId,
  });
  const { client, receiveMaximum } = await connectPublisher(options);
  const window = Math.max(1, Math.min(options.window ?? 100, receiveMaximum ?? Infinity));
  const stats: SimulateStats = {
    published: 0,
    acknowledged: 0,
    kinds: { data: 0, malformed: 0, non_data: 0 },
    seconds: 0,
  };
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const deadline = started + (options.durationSeconds ?? Infinity) * 1000;
  const done = () =>
    options.signal?.aborted === true ||
    (options.count !== undefined && stats.published >= options.count) ||
    (options.durationSeconds !== undefined && elapsed() >= options.durationSeconds);

  let inFlight = 0;
  let released: (() => void) | undefined;
  const publish = async (message: SimulatedMessage, retain = false) => {
    while (inFlight >= window) {
      await new Promise<void>((resolve) => released = resolve);
    }
    inFlight++;
    stats.published++;
    stats.kinds[message.kind]++;
    const topic = options.local ? localTopic(message.topic) : message.topic;
    client.publish(topic, message.payload, { qos: 1, retain }, (error) => {
      inFlight--;
      if (!error) stats.acknowledged++;
      released?.();
    });
  };
  const progress = setInterval(() => {
    stats.seconds = elapsed();
    options.onProgress?.({ ...stats, kinds: { ...stats.kinds } });
  }, (options.progressSeconds ?? 10) * 1000);

  try {
    const interval = options.intervalSeconds;
    const sites = fleet.sites;
    if (options.rate === undefined) {
      const faults = new SiteFaults(sites.length, options);
      // Each site's bridge says it is connected, retained, as ammp-edge's does.
      for (const site of sites) {
        if (!done()) await publish(bridgeState(site.nodeId, true), true);
      }
      // Real time: the sites spread evenly over each interval, like loggers
      // that were switched on at different moments.
      for (let round = 0; !done(); round++) {
        for (let i = 0; i < sites.length && !done(); i++) {
          const at = started + (round + i / sites.length) * interval * 1000;
          await sleep(Math.min(at, deadline) - performance.now(), options.signal);
          if (done()) break;
          const t = Math.floor(Date.now() / 1000);
          const turn = faults.turn(i, elapsed(), t);
          if (turn.bridgeDown) await publish(bridgeState(sites[i].nodeId, false), true);
          for (const readingTime of turn.readingTimes) {
            for (const message of fleet.messages(sites[i], readingTime)) {
              if (!done()) await publish(message);
            }
          }
        }
      }
    } else {
      const start = options.start ?? Math.floor(Date.now() / 1000);
      const perMessageMs = Number.isFinite(options.rate) ? 1000 / options.rate : 0;
      for (let round = 0; !done(); round++) {
        const t = start + round * interval;
        for (let i = 0; i < sites.length && !done(); i++) {
          for (const message of fleet.messages(sites[i], t)) {
            if (done()) break;
            const due = started + stats.published * perMessageMs;
            if (due - performance.now() > 1) await sleep(due - performance.now(), options.signal);
            await publish(message);
          }
        }
      }
    }
    await drained(() => inFlight === 0, (resolve) => released = resolve, 10_000);
  } finally {
    clearInterval(progress);
    stats.seconds = elapsed();
    await client.endAsync(inFlight > 0);
  }
  return stats;
}

/**
 * A topic as the datalogger publishes it on its gateway's own broker: the
 * bridge forwards `u/#` with the prefix `a/<node_id>/`, and publishes its
 * own state on `a/<node_id>/bridge_state` on both brokers.
 */
export function localTopic(topic: string): string {
  if (topic.endsWith("/bridge_state")) return topic;
  return topic.replace(/^a\/[^/]+\//, "");
}

function bridgeState(nodeId: string, up: boolean): SimulatedMessage {
  return { topic: `a/${nodeId}/bridge_state`, payload: up ? "1" : "0", kind: "non_data" };
}

/** How much of a backlog a backfilling site replays. */
export const BACKFILL_SECONDS = 2 * 86_400;

// Readings a backfilling site replays per turn, a minute apart.
const BACKFILL_PER_TURN = 10;

/** What one site sends in one turn of the real-time simulation. */
export interface SiteTurn {
  /** Its bridge says 0 now (once). */
  bridgeDown: boolean;
  /** The reading times of the payloads it sends, oldest first. */
  readingTimes: number[];
}

/**
 * Which sites misbehave, and how: the last sites are silent, the ones
 * before them offline, the ones before those backfilling.
 */
export class SiteFaults {
  #kinds: ("silent" | "offline" | "backfill" | undefined)[];
  #after: number;
  #local: boolean;
  #bridgeDown = new Set<number>();
  // The next backlog reading time of each backfilling site.
  #backlog = new Map<number, number>();

  /** Assigns the faults of `options` to `sites` sites. */
  constructor(
    sites: number,
    options: Pick<
      SimulateOptions,
      "silent" | "offline" | "backfill" | "faultAfterSeconds" | "local"
    >,
  ) {
    this.#after = options.faultAfterSeconds ?? 20;
    this.#local = options.local ?? false;
    this.#kinds = Array.from({ length: sites }, () => undefined);
    let next = sites - 1;
    for (const kind of ["silent", "offline", "backfill"] as const) {
      for (let k = 0; k < (options[kind] ?? 0) && next >= 0; k++) this.#kinds[next--] = kind;
    }
  }

  /** What site `index` sends, `elapsed` seconds into the run, at Unix time `now`. */
  turn(index: number, elapsed: number, now: number): SiteTurn {
    const kind = this.#kinds[index];
    const faulty = elapsed >= this.#after;
    if (kind === undefined) return { bridgeDown: false, readingTimes: [now] };
    if (kind === "silent") return { bridgeDown: false, readingTimes: faulty ? [] : [now] };
    if (kind === "offline") {
      const bridgeDown = faulty && !this.#bridgeDown.has(index);
      if (bridgeDown) this.#bridgeDown.add(index);
      // On the gateway's own broker the data still comes while the link is down.
      return { bridgeDown, readingTimes: faulty && !this.#local ? [] : [now] };
    }
    // Backfilling: away until the fault begins, then its backlog.
    if (!faulty) return { bridgeDown: false, readingTimes: [] };
    let next = this.#backlog.get(index) ?? now - BACKFILL_SECONDS;
    const readingTimes: number[] = [];
    while (readingTimes.length < BACKFILL_PER_TURN && next < now - 60) {
      readingTimes.push(next);
      next += 60;
    }
    this.#backlog.set(index, next);
    return { bridgeDown: false, readingTimes: readingTimes.length > 0 ? readingTimes : [now] };
  }
}

async function connectPublisher(
  options: SimulateOptions,
): Promise<{ client: MqttClient; receiveMaximum?: number }> {
  const clientOptions: IClientOptions = {
    clientId: `ammp-simulator-${crypto.randomUUID().slice(0, 8)}`,
    protocolVersion: options.protocolVersion ?? 5,
    username: options.username,
    password: options.password,
    ca: options.ca,
    clean: true,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
  };
  const client = connect(options.url, clientOptions);
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Cannot connect to ${options.url}: no answer within 10 s`)),
        10_000,
      );
      client.once("connect", (connack) => {
        clearTimeout(timer);
        resolve({ client, receiveMaximum: connack.properties?.receiveMaximum });
      });
      client.once("error", (error) => {
        clearTimeout(timer);
        reject(new Error(`Cannot connect to ${options.url}: ${error.message}`));
      });
    });
  } catch (error) {
    await client.endAsync(true);
    throw error;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

// Waits until `idle()` holds, woken by `wake`, for at most `timeoutMs`.
async function drained(
  idle: () => boolean,
  wake: (resolve: () => void) => void,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!idle() && performance.now() < deadline) {
    await Promise.race([
      new Promise<void>((resolve) => wake(resolve)),
      sleep(deadline - performance.now()),
    ]);
  }
}

const HELP = `Publishes simulated AMMP datalogger payloads to an MQTT broker.

Usage: deno task simulate [options]

  --url URL                broker, mqtt://host:port or mqtts://host:port
                           (default mqtt://localhost:1883)
  --username NAME          user name
  --password-file PATH     file holding the password
  --ca-file PATH           CA certificate (PEM) for mqtts://
  --protocol-version 5|4   MQTT 5 or 3.1.1 (default 5)
  --nodes N                simulated sites (default 5, or 1 with --local)
  --local                  publish as the datalogger on its gateway: u/data,
                           without the bridge's a/<node_id>/ prefix, and the
                           bridge's state on a/<node_id>/bridge_state
  --node-id ID             the (first) site's node id (default: drawn from
                           the seed)
  --interval SECONDS       seconds between two readings of a site (default 5)
  --count N                stop after N messages
  --duration SECONDS       stop after this long
  --seed N                 the seed the sites follow from (default: random,
                           and printed so that a run can be repeated)
  --rate N|max             publish N messages a second, or as fast as the
                           broker acknowledges (max); reading times then
                           advance by --interval per round instead of
                           following the clock
  --start TIME             first reading time with --rate: Unix seconds or
                           an ISO 8601 time (default now)
  --malformed SHARE        share of payloads, 0 to 1, replaced by malformed
                           ones (cut off, not an object, bad t, bad r)
  --non-data SHARE         share of payloads followed by a message on a
                           topic without data (meta, bridge_state, log)
  --silent N               in real time: N sites stop sending data after
                           --fault-after seconds, their bridges still up
  --offline N              in real time: N sites' bridges say 0 (offline)
                           after --fault-after seconds, and they stop
  --backfill N             in real time: N sites send nothing until
                           --fault-after seconds, then replay two days of
                           readings before sending live ones again
  --fault-after SECONDS    when those faults begin (default 20)
  -h, --help               this text

Progress and the summary go to stderr; at the end, one JSON line with the
figures goes to stdout. Ctrl-C stops after the messages in flight are
acknowledged.`;

/** Reads the command line into {@linkcode SimulateOptions}, or throws with a one-line reason. */
export function parseSimulateArgs(args: string[]): SimulateOptions | "help" {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: "string", default: "mqtt://localhost:1883" },
      username: { type: "string" },
      "password-file": { type: "string" },
      "ca-file": { type: "string" },
      "protocol-version": { type: "string", default: "5" },
      nodes: { type: "string" },
      local: { type: "boolean", default: false },
      "node-id": { type: "string" },
      interval: { type: "string", default: "5" },
      count: { type: "string" },
      duration: { type: "string" },
      seed: { type: "string" },
      rate: { type: "string" },
      start: { type: "string" },
      malformed: { type: "string", default: "0" },
      "non-data": { type: "string", default: "0" },
      silent: { type: "string", default: "0" },
      offline: { type: "string", default: "0" },
      backfill: { type: "string", default: "0" },
      "fault-after": { type: "string", default: "20" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const number = (name: string, value: string, min: number, max: number, whole = false) => {
    const parsed = Number(value);
    if (value.trim() === "" || !Number.isFinite(parsed) || parsed < min || parsed > max) {
      throw new RangeError(`Invalid --${name} "${value}": expected a number from ${min} to ${max}`);
    }
    if (whole && !Number.isInteger(parsed)) {
      throw new RangeError(`Invalid --${name} "${value}": expected a whole number`);
    }
    return parsed;
  };
  const url = values.url;
  if (!/^mqtts?:\/\/[^/]+$/.test(url)) {
    throw new RangeError(`Invalid --url "${url}": expected mqtt://host:port or mqtts://host:port`);
  }
  const protocolVersion = values["protocol-version"];
  if (protocolVersion !== "5" && protocolVersion !== "4") {
    throw new RangeError(`Invalid --protocol-version "${protocolVersion}": expected 5 or 4`);
  }
  const readFile = (name: string, path: string) => {
    try {
      return Deno.readTextFileSync(path);
    } catch (error) {
      throw new RangeError(`Cannot read --${name} "${path}": ${(error as Error).message}`);
    }
  };
  let start: number | undefined;
  if (values.start !== undefined) {
    start = /^\d+(\.\d+)?$/.test(values.start)
      ? Number(values.start)
      : Date.parse(values.start) / 1000;
    if (!Number.isFinite(start)) {
      throw new RangeError(
        `Invalid --start "${values.start}": expected Unix seconds or an ISO 8601 time`,
      );
    }
  }
  const password = values["password-file"] === undefined
    ? undefined
    : readFile("password-file", values["password-file"]).replace(/\r?\n$/, "");
  if (password !== undefined && values.username === undefined) {
    throw new RangeError("Missing --username: a password file is given");
  }
  const local = values.local;
  const nodes = number("nodes", values.nodes ?? (local ? "1" : "5"), 1, 100_000, true);
  if (local && nodes !== 1) {
    throw new RangeError(
      `Invalid --nodes "${values.nodes}": --local is one datalogger, expected 1`,
    );
  }
  const nodeId = values["node-id"];
  if (nodeId !== undefined && !isNodeId(nodeId)) {
    throw new RangeError(
      `Invalid --node-id "${nodeId}": expected 1 to 64 lowercase letters, digits, "-" or "_"`,
    );
  }
  const faults = {
    silent: number("silent", values.silent, 0, nodes, true),
    offline: number("offline", values.offline, 0, nodes, true),
    backfill: number("backfill", values.backfill, 0, nodes, true),
  };
  if (faults.silent + faults.offline + faults.backfill > nodes) {
    throw new RangeError(
      `Invalid --silent, --offline and --backfill: together more than the ${nodes} sites`,
    );
  }
  if (values.rate !== undefined && faults.silent + faults.offline + faults.backfill > 0) {
    throw new RangeError("Invalid --rate: --silent, --offline and --backfill run in real time");
  }
  return {
    ...faults,
    faultAfterSeconds: number("fault-after", values["fault-after"], 0, 1e9),
    url,
    username: values.username,
    password,
    ca: values["ca-file"] === undefined ? undefined : readFile("ca-file", values["ca-file"]),
    protocolVersion: Number(protocolVersion) as 4 | 5,
    nodes,
    local,
    nodeId,
    intervalSeconds: number("interval", values.interval, 0.01, 86400),
    count: values.count === undefined ? undefined : number("count", values.count, 1, 1e12, true),
    durationSeconds: values.duration === undefined
      ? undefined
      : number("duration", values.duration, 0.01, 1e9),
    seed: values.seed === undefined
      ? Math.floor(Math.random() * 2 ** 31)
      : number("seed", values.seed, 0, 2 ** 32 - 1, true),
    rate: values.rate === undefined
      ? undefined
      : values.rate === "max"
      ? Infinity
      : number("rate", values.rate, 0.001, 1e9),
    start,
    malformed: number("malformed", values.malformed, 0, 1),
    nonData: number("non-data", values["non-data"], 0, 1),
  };
}

/** Runs the simulator's command line; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  let options;
  try {
    options = parseSimulateArgs(args);
  } catch (error) {
    console.error(`${(error as Error).message}; see deno task simulate --help`);
    return 2;
  }
  if (options === "help") {
    console.log(HELP);
    return 0;
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const pace = options.rate === undefined
    ? `every ${options.intervalSeconds} s per site, in real time`
    : options.rate === Infinity
    ? "as fast as the broker acknowledges"
    : `${options.rate} messages a second`;
  console.error(
    `Simulating ${
      options.local ? "one datalogger on its gateway's broker (u/data)" : `${options.nodes} sites`
    } (seed ${options.seed}) on ${options.url}, ${pace}`,
  );
  try {
    const stats = await simulate({
      ...options,
      signal: stop.signal,
      onProgress: (stats) =>
        console.error(
          `Published ${stats.published} messages in ${stats.seconds.toFixed(0)} s (${
            (stats.published / stats.seconds).toFixed(0)
          }/s)`,
        ),
    });
    const rate = stats.seconds > 0 ? stats.published / stats.seconds : 0;
    console.error(
      `Published ${stats.published} messages (${stats.kinds.data} data, ${stats.kinds.malformed} ` +
        `malformed, ${stats.kinds.non_data} without data) in ${stats.seconds.toFixed(2)} s: ` +
        `${rate.toFixed(0)}/s, ${stats.acknowledged} acknowledged`,
    );
    console.log(JSON.stringify({
      seed: options.seed,
      published: stats.published,
      acknowledged: stats.acknowledged,
      kinds: stats.kinds,
      seconds: Number(stats.seconds.toFixed(3)),
      per_second: Math.round(rate),
    }));
    return stats.acknowledged === stats.published ? 0 : 1;
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
