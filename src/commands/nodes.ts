/**
 * `ammp-agent nodes [--state STATE] [--json]`: the fleet view of the agent
 * running beside it, from its `/nodes` endpoint, as a table or as JSON.
 *
 * @module
 */

import { agentBaseUrl, localGet } from "../http/local_http.ts";
import { formatDuration } from "../http/html.ts";
import { NODE_STATES, type NodeState } from "../fleet/node_table.ts";
import { dropPermissions } from "../permissions.ts";
import { type Env, sectionsFrom } from "./_config_from.ts";

/** A node as `/nodes` answers it. */
export interface NodeJson {
  node_id: string;
  state: NodeState;
  last_data_at: string | null;
  newest_reading_time: string | null;
  usual_interval_seconds: number | null;
  bridge_up: boolean | null;
  messages: number;
}

/** Options for {@linkcode runNodes}. */
export interface RunNodesOptions {
  /** Only the nodes in this state. */
  state?: string;
  /** Print `/nodes`' JSON as it came. */
  json?: boolean;
  /** The bearer token `/nodes` requires, from `METRICS_TOKEN_FILE`. */
  token?: string;
  /** Where output goes (default stdout). */
  print?: (line: string) => void;
  /** The clock, for how long ago; tests drive it. */
  now?: () => Date;
}

/**
 * Prints the fleet view of the agent at `baseUrl` (`http://host:port`).
 * Resolves to the exit code: 0, 1 when the agent cannot be asked, 2 for a
 * bad `--state`; the reason is one line on stderr.
 */
export async function runNodes(baseUrl: string, options: RunNodesOptions = {}): Promise<number> {
  const print = options.print ?? ((line: string) => console.log(line));
  const state = options.state;
  if (state !== undefined && !(NODE_STATES as readonly string[]).includes(state)) {
    console.error(`Invalid --state "${state}": expected one of ${NODE_STATES.join(", ")}`);
    return 2;
  }
  const url = `${baseUrl}/nodes${state === undefined ? "" : `?state=${state}`}`;
  let answer;
  try {
    answer = await localGet(url, {
      headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
      timeoutMs: 10_000,
    });
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  }
  if (answer.status !== 200) {
    const hint = answer.status === 401 ? " (METRICS_TOKEN_FILE names the token it wants)" : "";
    console.error(`Cannot list nodes: ${url} answered ${answer.status}${hint}`);
    return 1;
  }
  if (options.json) {
    print(answer.body.trimEnd());
    return 0;
  }
  const { nodes } = JSON.parse(answer.body) as { nodes: NodeJson[] };
  for (const line of nodesTable(nodes, (options.now ?? (() => new Date()))())) print(line);
  return 0;
}

/**
 * The nodes as aligned text: the longest silence first, then by node id;
 * one line per node under a header, and a count.
 */
export function nodesTable(nodes: NodeJson[], now: Date): string[] {
  const ago = (time: string | null) =>
    time === null ? "never" : `${formatDuration((now.getTime() - Date.parse(time)) / 1000)} ago`;
  const sorted = nodes.toSorted((a, b) =>
    (a.last_data_at ?? "").localeCompare(b.last_data_at ?? "") ||
    a.node_id.localeCompare(b.node_id)
  );
  const rows = [
    ["NODE", "STATE", "LAST DATA", "NEWEST READING", "INTERVAL", "BRIDGE"],
    ...sorted.map((node) => [
      node.node_id,
      node.state,
      ago(node.last_data_at),
      node.newest_reading_time?.replace(/\.\d{3}Z$/, "Z") ?? "-",
      node.usual_interval_seconds === null ? "-" : formatDuration(node.usual_interval_seconds),
      node.bridge_up === null ? "-" : node.bridge_up ? "up" : "down",
    ]),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const lines = rows.map((row) =>
    row.map((cell, column) => cell.padEnd(widths[column])).join("  ").trimEnd()
  );
  lines.push(`${nodes.length} ${nodes.length === 1 ? "node" : "nodes"}`);
  return lines;
}

/**
 * `ammp-agent nodes [--state STATE] [--json]`: reads the HTTP endpoint's
 * settings and runs {@linkcode runNodes} against the agent there; resolves
 * to the exit code.
 */
export async function nodesCommand(
  env: Env,
  options: Pick<RunNodesOptions, "state" | "json"> = {},
): Promise<number> {
  const config = sectionsFrom(env, ["metrics"]);
  if (config === undefined) return 2;
  dropPermissions();
  return await runNodes(agentBaseUrl(config.metrics), { ...options, token: config.metrics.token });
}
