/**
 * How long to wait before connecting again.
 *
 * @module
 */

/** The first and the largest delay between attempts to connect. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
}

/**
 * The delay before attempt `attempt` (0 for the first retry): exponential,
 * capped, with "equal jitter" so that many agents cut off at once do not
 * come back in step, yet none retries much sooner than planned.
 */
export function backoffDelay(attempt: number, backoff: Backoff, random = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * ceiling / 2);
}
