/**
 * The fleet view: what the agent knows of every node (site gateway) it has
 * heard from, and whether each is reporting, silent, offline or replaying
 * a backlog. Every method takes the time it is told, so the table has no
 * clock or timer of its own; states are worked out when asked, not kept.
 *
 * @module
 */

import { FUTURE_READING_SECONDS } from "../transform/record.ts";
import { IntervalRings } from "./_interval_rings.ts";
import { type NodeSnapshot, snapshotRows } from "./node_snapshot.ts";

/** What a node is doing, as the fleet view tells it. */
export const NODE_STATES = ["reporting", "silent", "offline", "backfilling"] as const;

/** One of {@linkcode NODE_STATES}. */
export type NodeState = typeof NODE_STATES[number];

/** The default bound on the nodes tracked. */
export const DEFAULT_MAX_NODES = 50_000;

/** Readings older than this when they arrive are a replay of a backlog. */
export const BACKFILL_AGE_SECONDS = 3600;

/** The bounds of a silence derived from a node's usual interval. */
export const SILENT_AFTER = { intervals: 10, minSeconds: 300, maxSeconds: 86_400 } as const;

/** Options for {@linkcode NodeTable}. */
export interface NodeTableOptions {
  /** At most this many nodes are tracked; others are only counted. */
  maxNodes?: number;
  /**
   * A node is silent after this long without data. When unset, ten times
   * its usual interval, from 300 s to one day.
   */
  silentAfterSeconds?: number;
}

/** A node as the fleet view shows it; times are Unix seconds. */
export interface NodeView {
  nodeId: string;
  state: NodeState;
  /** When the agent first heard from the node. */
  firstMessageAt: number;
  /** When any message of the node last arrived. */
  lastMessageAt: number;
  /** When its last data payload arrived; undefined before the first. */
  lastDataAt?: number;
  /** The newest reading time `t` seen, readings from the future left out. */
  newestReadingTime?: number;
  messages: number;
  records: number;
  deadLetters: number;
  /** Readings more than 5 minutes ahead of their arrival: a wrong clock. */
  readingsFromFuture: number;
  /** The usual time between its payloads; undefined until it is known. */
  usualIntervalSeconds?: number;
  /** How long without data makes this node silent. */
  silentAfterSeconds: number;
  /** What its bridge last said; undefined when the agent has not seen it. */
  bridgeUp?: boolean;
  /** When the bridge state last changed. */
  bridgeSince?: number;
}

/** Counts of nodes per state. */
export type NodeCounts = Record<NodeState, number>;

/** Options for {@linkcode NodeTable.list}. */
export interface NodeListOptions {
  /** Only nodes in this state. */
  state?: NodeState;
}

// A node's facts live in one row of a Float64Array, and its recent
// intervals in a row of an Int32Array: about 170 bytes a node with its
// entry in the index and room to grow, where an object per node took 440.
// The columns of a row. F_LAST_DATA is NaN until the first data payload;
// F_LAST_T is the reading time of the last data payload, to tell a replay;
// F_BRIDGE is -1 unknown, 0 down, 1 up.
const F_FIRST = 0, F_LAST = 1, F_LAST_DATA = 2, F_NEWEST_T = 3, F_LAST_T = 4, F_MESSAGES = 5;
const F_RECORDS = 6, F_DEAD = 7, F_FUTURE = 8, F_BRIDGE = 9, F_BRIDGE_SINCE = 10;
const FIELDS = 11;
const INITIAL_CAPACITY = 1024;

/**
 * Every node heard from, up to a bound. The agent tells it of each message
 * as it takes it; the endpoints and metrics ask it for states.
 */
export class NodeTable {
  #index = new Map<string, number>();
  #ids: string[] = [];
  #facts = new Float64Array(0);
  #intervals = new IntervalRings();
  #maxNodes: number;
  #silentAfter: number | undefined;
  #untracked = 0;

  /** Creates an empty table. */
  constructor(options: NodeTableOptions = {}) {
    this.#maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
    this.#silentAfter = options.silentAfterSeconds;
  }

  /** The number of nodes tracked. */
  get size(): number {
    return this.#ids.length;
  }

  /** Messages of nodes that were not tracked because the table was full. */
  get untracked(): number {
    return this.#untracked;
  }

  /**
   * A data payload of `nodeId` arrived at `at` and became a record of
   * readings taken at `readingTime`. Returns whether the reading is from
   * the future, more than 5 minutes ahead of its arrival.
   */
  record(nodeId: string, at: number, readingTime: number): boolean {
    const row = this.#message(nodeId, at);
    if (row === -1) return readingTime > at + FUTURE_READING_SECONDS;
    this.#facts[row + F_RECORDS]++;
    return this.#data(row, at, readingTime);
  }

  /** A data payload of `nodeId` arrived at `at` and became a dead letter. */
  deadLetter(nodeId: string, at: number): void {
    const row = this.#message(nodeId, at);
    if (row === -1) return;
    this.#facts[row + F_DEAD]++;
    this.#data(row, at, NaN);
  }

  /** The bridge of `nodeId` said it is connected (`up`) or not. */
  bridgeState(nodeId: string, at: number, up: boolean): void {
    const row = this.#message(nodeId, at);
    if (row === -1) return;
    const facts = this.#facts;
    const value = up ? 1 : 0;
    if (facts[row + F_BRIDGE] !== value) {
      facts[row + F_BRIDGE] = value;
      facts[row + F_BRIDGE_SINCE] = at;
    }
  }

  /** Any other message of `nodeId` (meta values, logs) arrived at `at`. */
  other(nodeId: string, at: number): void {
    this.#message(nodeId, at);
  }

  /** How many nodes are in each state at `now`. */
  counts(now: number): NodeCounts {
    const counts: NodeCounts = { reporting: 0, silent: 0, offline: 0, backfilling: 0 };
    for (let slot = 0; slot < this.#ids.length; slot++) counts[this.#state(slot, now)]++;
    return counts;
  }

  /** The nodes as they are at `now`, in no particular order. */
  list(now: number, options: NodeListOptions = {}): NodeView[] {
    const views: NodeView[] = [];
    for (let slot = 0; slot < this.#ids.length; slot++) {
      const state = this.#state(slot, now);
      if (options.state === undefined || options.state === state) {
        views.push(this.#view(slot, state));
      }
    }
    return views;
  }

  /** The table in a form that JSON keeps, for saving across restarts. */
  snapshot(now: number): NodeSnapshot {
    const facts = this.#facts;
    const nodes: NodeSnapshot["nodes"] = [];
    for (let slot = 0; slot < this.#ids.length; slot++) {
      const row = slot * FIELDS;
      const cells: (string | number | null)[] = [this.#ids[slot]];
      for (let field = 0; field < FIELDS; field++) cells.push(orNull(facts[row + field]));
      // Kept as a string so that a snapshot stays one flat row per node.
      cells.push(this.#intervals.recent(slot).join(" "));
      nodes.push(cells);
    }
    return { version: 1, savedAt: now, nodes };
  }

  /**
   * Adds the nodes of a snapshot that this table does not know yet, up to
   * its bound. Throws a `TypeError` naming what is wrong when `value` is
   * not a snapshot; nothing is added then.
   */
  restore(value: unknown): void {
    for (const cells of snapshotRows(value)) {
      const nodeId = cells[0] as string;
      if (this.#index.has(nodeId) || this.#ids.length >= this.#maxNodes) continue;
      const slot = this.#add(nodeId);
      const row = slot * FIELDS;
      for (let field = 0; field < FIELDS; field++) {
        this.#facts[row + field] = orNaN(cells[field + 1]);
      }
      const intervals = cells[FIELDS + 1] as string;
      if (intervals !== "") {
        for (const tenths of intervals.split(" ")) this.#intervals.pushTenths(slot, Number(tenths));
      }
    }
  }

  // The row of the node's facts, counting the message; -1 when untracked.
  #message(nodeId: string, at: number): number {
    let slot = this.#index.get(nodeId);
    if (slot === undefined) {
      if (this.#ids.length >= this.#maxNodes) {
        this.#untracked++;
        return -1;
      }
      slot = this.#add(nodeId);
      const row = slot * FIELDS;
      this.#facts[row + F_FIRST] = at;
      this.#facts[row + F_LAST] = at;
    }
    const row = slot * FIELDS;
    const facts = this.#facts;
    facts[row + F_MESSAGES]++;
    if (at > facts[row + F_LAST]) facts[row + F_LAST] = at;
    return row;
  }

  #add(nodeId: string): number {
    const slot = this.#ids.length;
    if ((slot + 1) * FIELDS > this.#facts.length) this.#grow();
    this.#ids.push(nodeId);
    this.#index.set(nodeId, slot);
    const row = slot * FIELDS;
    this.#facts.fill(NaN, row, row + FIELDS);
    for (const field of [F_MESSAGES, F_RECORDS, F_DEAD, F_FUTURE]) {
      this.#facts[row + field] = 0;
    }
    this.#facts[row + F_BRIDGE] = -1;
    return slot;
  }

  #grow(): void {
    const capacity = Math.min(
      this.#maxNodes,
      Math.max(INITIAL_CAPACITY, 2 * this.#facts.length / FIELDS),
    );
    const facts = new Float64Array(capacity * FIELDS);
    facts.set(this.#facts);
    this.#facts = facts;
    this.#intervals.grow(capacity);
  }

  // Returns whether the reading is from the future.
  #data(row: number, at: number, readingTime: number): boolean {
    const facts = this.#facts;
    const lastData = facts[row + F_LAST_DATA];
    const replay = readingTime < at - BACKFILL_AGE_SECONDS;
    // A replay arrives as fast as the link allows: its pace is not the
    // node's usual one.
    if (!replay && lastData < at) {
      this.#intervals.push(row / FIELDS, at - lastData);
    }
    if (!(lastData >= at)) facts[row + F_LAST_DATA] = at;
    if (Number.isNaN(readingTime)) return false;
    facts[row + F_LAST_T] = readingTime;
    if (readingTime > at + FUTURE_READING_SECONDS) {
      facts[row + F_FUTURE]++;
      return true;
    }
    if (!(facts[row + F_NEWEST_T] >= readingTime)) facts[row + F_NEWEST_T] = readingTime;
    return false;
  }

  #silentAfterSeconds(slot: number): number {
    if (this.#silentAfter !== undefined) return this.#silentAfter;
    const usual = this.#intervals.median(slot);
    if (usual === undefined) return SILENT_AFTER.minSeconds;
    return Math.min(
      SILENT_AFTER.maxSeconds,
      Math.max(SILENT_AFTER.minSeconds, SILENT_AFTER.intervals * usual),
    );
  }

  #state(slot: number, now: number): NodeState {
    const facts = this.#facts;
    const row = slot * FIELDS;
    if (facts[row + F_BRIDGE] === 0) return "offline";
    // Reporting means data comes: a node heard from only through its
    // bridge state or its meta values has sent none yet.
    const lastData = facts[row + F_LAST_DATA];
    if (Number.isNaN(lastData) || now - lastData > this.#silentAfterSeconds(slot)) return "silent";
    if (facts[row + F_LAST_T] < lastData - BACKFILL_AGE_SECONDS) return "backfilling";
    return "reporting";
  }

  #view(slot: number, state: NodeState): NodeView {
    const f = this.#facts;
    const row = slot * FIELDS;
    const bridge = f[row + F_BRIDGE];
    return {
      nodeId: this.#ids[slot],
      state,
      firstMessageAt: f[row + F_FIRST],
      lastMessageAt: f[row + F_LAST],
      lastDataAt: orUndefined(f[row + F_LAST_DATA]),
      newestReadingTime: orUndefined(f[row + F_NEWEST_T]),
      messages: f[row + F_MESSAGES],
      records: f[row + F_RECORDS],
      deadLetters: f[row + F_DEAD],
      readingsFromFuture: f[row + F_FUTURE],
      usualIntervalSeconds: this.#intervals.median(slot),
      silentAfterSeconds: this.#silentAfterSeconds(slot),
      bridgeUp: bridge === -1 ? undefined : bridge === 1,
      bridgeSince: orUndefined(f[row + F_BRIDGE_SINCE]),
    };
  }
}

function orNull(value: number): number | null {
  return Number.isNaN(value) ? null : value;
}

function orNaN(value: string | number | null): number {
  return typeof value === "number" ? value : NaN;
}

function orUndefined(value: number): number | undefined {
  return Number.isNaN(value) ? undefined : value;
}
