/**
 * The one seeded pseudo-random generator of the simulator and the
 * benchmark, so that a seed means the same sequence in both.
 *
 * @module
 */

/** A pseudo-random number generator returning values in [0, 1). */
export type Random = () => number;

/**
 * A small, fast, seeded generator (mulberry32): the same seed gives the
 * same sequence on every machine.
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
