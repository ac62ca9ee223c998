/**
 * How the floor of the benchmark reads a payload: `JSON.parse`, and where
 * that fails on Python's bare `NaN`, `Infinity` or `-Infinity`, the same
 * repair the agent makes: those tokens outside strings become `null`, and
 * the text is parsed again. Without it the floor could not read every
 * payload of the realistic mix; with it, it pays for them what the agent's
 * parse path pays.
 *
 * @module
 */

import { replaceNonFiniteTokens } from "../src/transform/json_reader.ts";

/**
 * `JSON.parse`, retried once with the non-finite tokens read as `null`.
 *
 * @throws {SyntaxError} where the text is not JSON even so.
 */
export function floorParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const repaired = replaceNonFiniteTokens(text);
    if (repaired === text) throw error;
    return JSON.parse(repaired);
  }
}
