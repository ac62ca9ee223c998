/**
 * The fleet's node counts per state over the last hour, sampled on a
 * timer, for the status page's chart. Counts of nodes are levels, not
 * events: a sample says how many there were then, however late the timer.
 *
 * @module
 */

import type { NodeCounts } from "../fleet/node_table.ts";

/** The fleet's node counts at one time. */
export interface FleetSample {
  /** Unix seconds. */
  at: number;
  counts: NodeCounts;
}

/** Options for {@linkcode FleetHistory}. */
export interface FleetHistoryOptions {
  /** How far back the samples reach, in seconds (default 3600). */
  windowSeconds?: number;
}

/**
 * The samples behind the nodes chart: added on a timer, the oldest dropped
 * past the window, so their number stays bounded.
 */
export class FleetHistory {
  #samples: FleetSample[] = [];
  #windowSeconds: number;

  /** Starts with no samples. */
  constructor(options: FleetHistoryOptions = {}) {
    this.#windowSeconds = options.windowSeconds ?? 3600;
  }

  /** Keeps one sample; one older than the last is ignored. */
  add(sample: FleetSample): void {
    const last = this.#samples.at(-1);
    if (last !== undefined && sample.at <= last.at) return;
    this.#samples.push({ at: sample.at, counts: { ...sample.counts } });
    while (this.#samples[0].at < sample.at - this.#windowSeconds) this.#samples.shift();
  }

  /** The samples, oldest first. */
  get samples(): readonly FleetSample[] {
    return this.#samples;
  }
}
