/**
 * The recent intervals between a node's payloads, for its usual interval:
 * one small ring of integers per node, all in one Int32Array.
 *
 * @module
 */

/** How many recent intervals the usual interval is the median of. */
export const INTERVALS_KEPT = 9;

// Longer intervals count as this one (ten days), which keeps each a small
// integer.
const MAX_TENTHS = 8_640_000;

/** A ring of the latest intervals per slot, in tenths of a second. */
export class IntervalRings {
  #values = new Int32Array(0);
  // How many intervals each slot has seen in all.
  #seen = new Float64Array(0);

  /** Makes room for `slots` slots, keeping what is there. */
  grow(slots: number): void {
    const values = new Int32Array(slots * INTERVALS_KEPT);
    values.set(this.#values);
    this.#values = values;
    const seen = new Float64Array(slots);
    seen.set(this.#seen);
    this.#seen = seen;
  }

  /** Adds an interval of `seconds` to `slot`'s ring, the oldest dropping out. */
  push(slot: number, seconds: number): void {
    this.pushTenths(slot, Math.min(MAX_TENTHS, Math.round(seconds * 10)));
  }

  /** Adds an interval in tenths of a second, as {@linkcode recent} gives them. */
  pushTenths(slot: number, tenths: number): void {
    const seen = this.#seen[slot];
    this.#values[slot * INTERVALS_KEPT + seen % INTERVALS_KEPT] = tenths;
    this.#seen[slot] = seen + 1;
  }

  /** The kept intervals of `slot` in tenths of a second, oldest first. */
  recent(slot: number): number[] {
    const seen = this.#seen[slot];
    const kept = Math.min(seen, INTERVALS_KEPT);
    const base = slot * INTERVALS_KEPT;
    const out: number[] = [];
    for (let i = seen - kept; i < seen; i++) out.push(this.#values[base + i % INTERVALS_KEPT]);
    return out;
  }

  /**
   * The median of `slot`'s kept intervals in seconds: one outage or one
   * burst does not move it. Unknown until three intervals have been seen.
   */
  median(slot: number): number | undefined {
    const intervals = this.recent(slot);
    if (intervals.length < 3) return undefined;
    intervals.sort((a, b) => a - b);
    const middle = intervals.length >> 1;
    const tenths = intervals.length % 2 === 1
      ? intervals[middle]
      : (intervals[middle - 1] + intervals[middle]) / 2;
    return tenths / 10;
  }
}
