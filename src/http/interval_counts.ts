/**
 * Messages counted per whole minute of the clock, for the status page's
 * chart: each message adds one to the minute it arrived in, so a steady
 * cadence gives the same count every minute. A rate worked out between
 * samples taken on a timer does not: with a payload every 2 s and a
 * sample every 5 s, each span holds two or three payloads, and a steady
 * 150 a minute is drawn jumping between 144 and 156.
 *
 * @module
 */

/** What became of a message, as the counts tell them apart. */
export type CountedOutcome = "record" | "dead" | "ignored";

/** The outcomes, in the order the chart stacks them. */
export const COUNTED_OUTCOMES: readonly CountedOutcome[] = ["record", "ignored", "dead"];

const INDEX: Record<CountedOutcome, number> = { record: 0, ignored: 1, dead: 2 };

/** The messages of one whole interval. */
export interface IntervalCount {
  /** Where the interval begins, Unix seconds, a multiple of its length. */
  start: number;
  /** Where it ends, Unix seconds. */
  end: number;
  /** Messages by outcome. */
  counts: Record<CountedOutcome, number>;
}

/** Options for {@linkcode IntervalCounts}. */
export interface IntervalCountsOptions {
  /** The length of an interval, in seconds (default 60). */
  intervalSeconds?: number;
  /** How many whole intervals are kept (default 60: the last hour). */
  intervals?: number;
}

/**
 * Counts of messages per interval aligned to the clock (whole minutes by
 * default), the last hour of them in a fixed ring. The time of each
 * message is given, never read from a clock, so tests drive it.
 */
export class IntervalCounts {
  readonly #seconds: number;
  readonly #size: number;
  // Per slot: the interval's number (start / length), then a count per outcome.
  readonly #number: Float64Array;
  readonly #counts: Float64Array;
  readonly #since: number;

  /**
   * Counts from `since` (Unix seconds): the interval under way then is not
   * whole, and is never given.
   */
  constructor(since: number, options: IntervalCountsOptions = {}) {
    this.#seconds = options.intervalSeconds ?? 60;
    // One slot more than kept, for the interval under way.
    this.#size = (options.intervals ?? 60) + 1;
    this.#number = new Float64Array(this.#size).fill(-1);
    this.#counts = new Float64Array(this.#size * COUNTED_OUTCOMES.length);
    this.#since = since;
  }

  /** The length of an interval, in seconds. */
  get intervalSeconds(): number {
    return this.#seconds;
  }

  /** Counts one message that arrived at `at` (Unix seconds). */
  add(at: number, outcome: CountedOutcome): void {
    const number = Math.floor(at / this.#seconds);
    const slot = number % this.#size;
    const kept = this.#number[slot];
    // A clock stepped back past the ring: too old to count anywhere.
    if (kept > number) return;
    const base = slot * COUNTED_OUTCOMES.length;
    if (kept !== number) {
      this.#number[slot] = number;
      this.#counts.fill(0, base, base + COUNTED_OUTCOMES.length);
    }
    this.#counts[base + INDEX[outcome]]++;
  }

  /**
   * The whole intervals before `now` that began at or after the start,
   * up to the number kept, oldest first; those without a message count 0.
   * The interval under way at `now` is left out until it is whole.
   */
  whole(now: number): IntervalCount[] {
    const seconds = this.#seconds;
    const current = Math.floor(now / seconds);
    const first = Math.max(Math.ceil(this.#since / seconds), current - this.#size + 1);
    const out: IntervalCount[] = [];
    for (let number = first; number < current; number++) {
      const slot = number % this.#size;
      const base = slot * COUNTED_OUTCOMES.length;
      const counted = this.#number[slot] === number;
      const count = (i: number) => counted ? this.#counts[base + i] : 0;
      out.push({
        start: number * seconds,
        end: (number + 1) * seconds,
        counts: {
          record: count(INDEX.record),
          ignored: count(INDEX.ignored),
          dead: count(INDEX.dead),
        },
      });
    }
    return out;
  }
}
