/**
 * `ammp-agent leave [--quiet-seconds N]`: retires this client id. The agent
 * runs without subscribing anew, writes what the broker kept for the
 * session, and once nothing has come for N seconds ends the session.
 *
 * @module
 */

import type { Env } from "./_config_from.ts";
import { runCommand } from "./run.ts";

/** How long nothing must come before `leave` ends the session, unless `--quiet-seconds` says. */
export const DEFAULT_QUIET_SECONDS = "5";

/** Options for {@linkcode leaveCommand}. */
export interface LeaveCommandOptions {
  /** `--quiet-seconds` as given (default {@linkcode DEFAULT_QUIET_SECONDS}). */
  quietSeconds?: string;
  /** The source revision a build was made from. */
  revision?: string;
}

/** Runs `leave`; resolves to the exit code, 2 for a bad `--quiet-seconds`. */
export async function leaveCommand(env: Env, options: LeaveCommandOptions = {}): Promise<number> {
  const quiet = options.quietSeconds ?? DEFAULT_QUIET_SECONDS;
  const quietSeconds = Number(quiet);
  if (!/^\d+(\.\d+)?$/.test(quiet) || quietSeconds < 0.1 || quietSeconds > 3600) {
    console.error(`Invalid --quiet-seconds "${quiet}": expected seconds from 0.1 to 3600`);
    return 2;
  }
  return await runCommand(env, { revision: options.revision, leave: { quietSeconds } });
}
