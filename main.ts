/**
 * ammp-agent: subscribes to AMMP datalogger payloads on an MQTT broker and
 * writes one NDJSON record per payload on stdout.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { checkCommand } from "./src/commands/check.ts";
import { healthcheckCommand } from "./src/commands/healthcheck.ts";
import { leaveCommand } from "./src/commands/leave.ts";
import { nodesCommand } from "./src/commands/nodes.ts";
import { runCommand } from "./src/commands/run.ts";
import { transformCommand } from "./src/commands/transform.ts";
import { readEnvironment } from "./src/commands/_config_from.ts";
import { HELP } from "./src/commands/help.ts";
import { VERSION } from "./src/version.ts";

export { VERSION } from "./src/version.ts";

// The options of each command; `--env-file`, `--help` and `--version` are everyone's.
const COMMAND_OPTIONS: Record<string, string[]> = {
  transform: ["topic"],
  check: ["wait-message"],
  healthcheck: [],
  leave: ["quiet-seconds"],
  nodes: ["state", "json"],
};

const VALUE_OPTIONS = ["--env-file", "--topic", "--wait-message", "--quiet-seconds"];

/** Options for {@linkcode main}. */
export interface MainOptions {
  /** The source revision a build was made from; shown by `--version` and in metrics. */
  revision?: string;
}

/** Runs the command line; resolves to the exit code. */
export async function main(args: string[], options: MainOptions = {}): Promise<number> {
  const string = { type: "string" } as const;
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(args),
      allowPositionals: true,
      options: {
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
        "env-file": string,
        topic: string,
        "wait-message": string,
        "quiet-seconds": string,
        state: string,
        json: { type: "boolean" },
      },
    });
  } catch (error) {
    // node:util's messages run over several lines.
    const message = (error as Error).message.replaceAll("\n", " ").replace(/\.$/, "");
    console.error(`${message}; see ammp-agent --help`);
    return 2;
  }
  const { values, positionals: [command, ...files] } = parsed;
  if (values.help) return console.log(HELP), 0;
  if (values.version) {
    const revision = options.revision === undefined ? "" : `revision ${options.revision}, `;
    console.log(`ammp-agent ${VERSION} (${revision}deno ${Deno.version.deno})`);
    return 0;
  }
  if (command !== undefined && !(command in COMMAND_OPTIONS)) {
    console.error(`Unknown command "${command}"; see ammp-agent --help`);
    return 2;
  }
  for (const [owner, names] of Object.entries(COMMAND_OPTIONS)) {
    for (const option of names) {
      if (values[option as keyof typeof values] !== undefined && command !== owner) {
        console.error(`Option --${option} is for "ammp-agent ${owner}"; see ammp-agent --help`);
        return 2;
      }
    }
  }
  const env = readEnvironment(values["env-file"]);
  if (env === undefined) return 2;
  const { revision } = options;
  if (command === "transform") return await transformCommand(env, files, values);
  if (command === "check") return await checkCommand(env, values["wait-message"]);
  if (command === "healthcheck") return await healthcheckCommand(env);
  if (command === "nodes") return await nodesCommand(env, values);
  if (command === "leave") {
    return await leaveCommand(env, { quietSeconds: values["quiet-seconds"], revision });
  }
  return await runCommand(env, { revision });
}

// `--wait-message -1` reads to node:util as an option where a value belongs;
// joined into `--wait-message=-1`, the value reaches the option's own check.
function joinNegativeValues(args: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const value = args[i + 1];
    if (VALUE_OPTIONS.includes(args[i]) && value !== undefined && /^-[\d.]/.test(value)) {
      joined.push(`${args[i]}=${value}`);
      i++;
    } else {
      joined.push(args[i]);
    }
  }
  return joined;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
