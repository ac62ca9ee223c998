/**
 * The fleet view in the running agent: the node table fed by every message
 * taken, its metrics, and its state file kept across restarts.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import { Counter, Gauge, Histogram, type Registry } from "../metrics/prom_client.ts";
import {
  NODE_STATES,
  type NodeCounts,
  NodeTable,
  type NodeTableOptions,
  type NodeView,
} from "./node_table.ts";
import { StateFile } from "./state_file.ts";
import { recordNodeId } from "../transform/transform.ts";

/** Per-node series are served up to this many nodes; past it, none. */
export const NODE_METRICS_MAX_NODES = 10_000;

/** How often the node table is saved, besides at shutdown. */
export const SAVE_INTERVAL_SECONDS = 30;

/** The state files' name under `STATE_DIRECTORY`: `nodes.1.json` and `nodes.2.json`. */
export const NODES_FILE = "nodes";

/**
 * Bucket bounds of the reading lag histogram: 100 ms to 30 days. A live
 * reading arrives within a second of its `t`, so the buckets below 2 s
 * keep its quantiles on real bounds.
 */
export const LAG_BUCKETS = [
  0.1,
  0.25,
  0.5,
  1,
  2,
  5,
  15,
  30,
  60,
  120,
  300,
  600,
  1800,
  3600,
  3 * 3600,
  6 * 3600,
  12 * 3600,
  86_400,
  2 * 86_400,
  7 * 86_400,
  30 * 86_400,
];

/** What one message taken from the broker became, as the fleet view sees it. */
export type FleetOutcome = "record" | "dead" | "ignored";

/** Options for {@linkcode FleetView}. */
export interface FleetViewOptions extends NodeTableOptions {
  /** Where the fleet's metrics are registered. */
  registry: Registry;
  log: Logger;
  /** Serve the per-node series (up to {@linkcode NODE_METRICS_MAX_NODES} nodes). */
  nodeMetrics?: boolean;
  /** The folder the node table is saved in; unsaved when undefined. */
  stateDirectory?: string;
  /** The node of messages whose topic carries none (`NODE_ID`): the gateway's own. */
  nodeId?: string;
  /** The clock, Unix seconds; tests drive it. */
  now?: () => number;
}

/**
 * Tells the node table of every message, serves what it knows as metrics,
 * and keeps it in `STATE_DIRECTORY/nodes.json`.
 */
export class FleetView {
  /** The nodes heard from. */
  readonly table: NodeTable;
  #log: Logger;
  #now: () => number;
  #file: StateFile | undefined;
  #saveTimer: ReturnType<typeof setInterval> | undefined;
  #saving: Promise<void> | undefined;
  #lag: Histogram;
  #bridgeMessages: Counter;
  #nodeId: string | undefined;
  // MAX_NODES=0: the fleet view is off, and costs a message nothing.
  #off: boolean;

  /** Creates an empty fleet view; {@linkcode load} fills it from the state file. */
  constructor(options: FleetViewOptions) {
    this.table = new NodeTable(options);
    this.#off = options.maxNodes === 0;
    this.#nodeId = options.nodeId;
    this.#log = options.log;
    this.#now = options.now ?? (() => Date.now() / 1000);
    this.#file = options.stateDirectory === undefined
      ? undefined
      : new StateFile(options.stateDirectory, NODES_FILE);
    const registers = [options.registry];
    const table = this.table;
    const now = this.#now;
    new Gauge({
      name: "ammp_agent_nodes",
      help: "Nodes (site gateways) heard from, by state.",
      labelNames: ["state"],
      registers,
      collect() {
        const counts: NodeCounts = table.counts(now());
        for (const state of NODE_STATES) this.set({ state }, counts[state]);
      },
    });
    new Counter({
      name: "ammp_agent_nodes_untracked_total",
      help: "Messages of nodes not tracked because MAX_NODES were tracked already.",
      registers,
      collect() {
        this.reset();
        this.inc(table.untracked);
      },
    });
    this.#lag = new Histogram({
      name: "ammp_agent_reading_lag_seconds",
      help: "Time from a reading (its payload's t) to its arrival, backfill included.",
      buckets: LAG_BUCKETS,
      registers,
    });
    this.#bridgeMessages = new Counter({
      name: "ammp_agent_bridge_messages_total",
      help: "Bridge state messages (a/<node_id>/bridge_state), counted as ignored too.",
      registers,
    });
    if (options.nodeMetrics ?? true) this.#registerNodeMetrics(registers);
  }

  /** Tells the table of one message taken at `at` (Unix seconds). */
  observe(topic: string, payload: Uint8Array, outcome: FleetOutcome, at: number, t?: number): void {
    if (this.#off) return;
    const nodeId = recordNodeId(topic, this.#nodeId);
    if (nodeId === undefined) return;
    if (outcome === "record") {
      // A reading from the future has no lag to speak of; the table counts it.
      const future = this.table.record(nodeId, at, t!);
      if (!future) this.#lag.observe(Math.max(0, at - t!));
    } else if (outcome === "dead") {
      this.table.deadLetter(nodeId, at);
    } else if (
      // a/<node_id>/bridge_state: the topic's own node id, never the fallback.
      topic.length === nodeId.length + 15 && topic.startsWith("a/") &&
      topic.endsWith("/bridge_state")
    ) {
      this.#bridgeMessages.inc();
      const up = bridgeValue(payload);
      if (up === undefined) this.table.other(nodeId, at);
      else this.table.bridgeState(nodeId, at, up);
    } else {
      this.table.other(nodeId, at);
    }
  }

  /**
   * Loads the saved table. A state file that cannot be read is logged in
   * one line and left for the next save to replace: the agent starts with
   * an empty table instead.
   */
  load(): void {
    const file = this.#file;
    if (file === undefined) return;
    try {
      const saved = file.load();
      if (saved !== undefined) {
        this.table.restore(saved);
        this.#log.info("Loaded {nodes} nodes from {file}", {
          nodes: this.table.size,
          file: file.path,
        });
      }
    } catch (error) {
      this.#log.warning("Starting with no nodes known: {error}", {
        error: (error as Error).message,
        file: file.path,
      });
    }
  }

  /** Saves the table every 30 s from now on, until {@linkcode close}. */
  startSaving(): void {
    if (this.#file === undefined || this.#saveTimer !== undefined) return;
    this.#saveTimer = setInterval(() => this.save(), SAVE_INTERVAL_SECONDS * 1000);
    Deno.unrefTimer(this.#saveTimer);
  }

  /** Saves the table now; a failure is logged, never thrown. */
  save(): Promise<void> {
    const file = this.#file;
    if (file === undefined) return Promise.resolve();
    // One save at a time: a slow disk must not pile them up.
    this.#saving ??= file.save(this.table.snapshot(this.#now()))
      .catch((error) =>
        this.#log.warning("Cannot save the node table to {file}: {error}", {
          file: file.path,
          error: (error as Error).message,
        })
      )
      .finally(() => this.#saving = undefined);
    return this.#saving;
  }

  /** Stops the periodic save, saves once more and closes the state file. */
  async close(): Promise<void> {
    clearInterval(this.#saveTimer);
    await this.#saving;
    await this.save();
    this.#file?.close();
  }

  #registerNodeMetrics(registers: Registry[]): void {
    const table = this.table;
    const now = this.#now;
    // Every per-node series is set from one pass over the table, made when
    // the first of them is collected (the registry collects in the order
    // of registration).
    let views: NodeView[] = [];
    const perNode = (
      Metric: typeof Gauge<"node_id"> | typeof Counter<"node_id">,
      name: string,
      help: string,
      value: (view: NodeView) => number | undefined,
    ) => {
      const first = name === FIRST_NODE_SERIES;
      new Metric({
        name,
        help,
        labelNames: ["node_id"],
        registers,
        collect(this: Gauge<"node_id"> | Counter<"node_id">) {
          if (first) views = table.size <= NODE_METRICS_MAX_NODES ? table.list(now()) : [];
          this.reset();
          for (const view of views) {
            const v = value(view);
            if (v !== undefined) this.inc({ node_id: view.nodeId }, v);
          }
        },
      });
    };
    perNode(
      Gauge,
      FIRST_NODE_SERIES,
      "When the node's last message arrived, Unix seconds.",
      (view) => view.lastMessageAt,
    );
    perNode(
      Gauge,
      "ammp_agent_node_last_reading_timestamp_seconds",
      "The node's newest reading time t, Unix seconds, readings from the future left out.",
      (view) => view.newestReadingTime,
    );
    perNode(
      Gauge,
      "ammp_agent_node_up",
      "1 while the node's bridge says it is connected, 0 when it says it is not.",
      (view) => view.bridgeUp === undefined ? undefined : view.bridgeUp ? 1 : 0,
    );
    perNode(
      Gauge,
      "ammp_agent_node_silent",
      "1 while the node is silent: no data yet, or none for longer than its silence allows.",
      (view) => view.state === "silent" ? 1 : 0,
    );
    perNode(
      Counter,
      "ammp_agent_node_readings_from_future_total",
      "The node's payloads with t more than 5 minutes ahead of their arrival: a wrong clock.",
      (view) => view.readingsFromFuture,
    );
  }
}

const FIRST_NODE_SERIES = "ammp_agent_node_last_message_timestamp_seconds";

// "1" or "0", as ammp-edge's bridge publishes it (quoted or not).
function bridgeValue(payload: Uint8Array): boolean | undefined {
  const text = new TextDecoder().decode(payload).trim().replace(/^"(.*)"$/, "$1");
  if (text === "1") return true;
  if (text === "0") return false;
  return undefined;
}
