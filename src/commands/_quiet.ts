/**
 * How `leave` knows the broker has nothing left for the session: nothing
 * has come, and everything taken is acknowledged, for a while.
 *
 * @module
 */

/** The clock {@linkcode whenQuiet} reads and ticks by; tests drive their own. */
export interface QuietClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `tick` every `ms` milliseconds until the returned function is called. */
  every(ms: number, tick: () => void): () => void;
}

/** What {@linkcode whenQuiet} watches of the agent. */
export interface QuietAgent {
  /** Connected and subscribed. */
  readonly ready: boolean;
  /** Messages taken and not yet acknowledged. */
  readonly unacknowledged: number;
}

/** Options for {@linkcode whenQuiet}. */
export interface WhenQuietOptions {
  /** How long nothing must come. */
  quietSeconds: number;
  /** The seconds since the epoch at which the last message came; 0 for none. */
  lastMessageReceived: () => number;
  /** Called once quiet, at each tick while it stays so. */
  onQuiet: () => void;
  /** Defaults to `Date.now` and `setInterval`. */
  clock?: QuietClock;
}

const SYSTEM_CLOCK: QuietClock = {
  now: () => Date.now(),
  every: (ms, tick) => {
    const timer = setInterval(tick, ms);
    return () => clearInterval(timer);
  },
};

/**
 * Calls `onQuiet` once the agent has been ready, with every message it took
 * acknowledged and nothing arriving, for `quietSeconds`: with its window
 * open the broker had nothing left to send. A stalled stdout holds acks
 * back and so keeps the clock from running. Returns the function that
 * stops watching.
 */
export function whenQuiet(agent: QuietAgent, options: WhenQuietOptions): () => void {
  const clock = options.clock ?? SYSTEM_CLOCK;
  let settledSince: number | undefined;
  return clock.every(100, () => {
    if (!agent.ready || agent.unacknowledged > 0) {
      settledSince = undefined;
      return;
    }
    const now = clock.now();
    settledSince ??= now;
    const last = Math.max(settledSince, options.lastMessageReceived() * 1000);
    if (now - last >= options.quietSeconds * 1000) options.onQuiet();
  });
}
