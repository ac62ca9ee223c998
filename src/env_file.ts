/**
 * `.env` files for `--env-file`, read with Node's `util.parseEnv`.
 *
 * @module
 */

import { parseEnv } from "node:util";

/**
 * Reads a `.env` file (`NAME=value` lines, `#` comments, optional quotes).
 * Throws an `Error` naming the file when it cannot be read.
 */
export function readEnvFile(path: string): Record<string, string | undefined> {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    const problem = error instanceof Deno.errors.NotFound
      ? "file not found"
      : error instanceof Deno.errors.NotCapable
      ? "not allowed by the agent's permissions"
      : (error as Error).message;
    throw new Error(`Cannot read --env-file "${path}": ${problem}`);
  }
  return { ...parseEnv(text) };
}
