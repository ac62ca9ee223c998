/**
 * What the fleet view's node table costs in memory: fills a table with
 * `--nodes` nodes (default 50,000), each sent a dozen payloads and its
 * bridge state, and prints the heap and typed-array bytes it holds, per
 * node and in all, as one JSON line. Needs `--v8-flags=--expose-gc`.
 *
 * ```sh
 * deno task bench:nodes
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { NodeTable } from "../src/fleet/node_table.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error("Run with --v8-flags=--expose-gc (deno task bench:nodes does)");
  Deno.exit(2);
}
const { values } = parseArgs({ args: Deno.args, options: { nodes: { type: "string" } } });
const count = Number(values.nodes ?? "50000");
if (!Number.isSafeInteger(count) || count < 1) {
  console.error(`Invalid --nodes "${values.nodes}": expected a whole number above 0`);
  Deno.exit(2);
}

function held(): number {
  gc!();
  gc!();
  const { heapUsed, external } = Deno.memoryUsage();
  return heapUsed + external;
}

// The ids exist before the table does, as the topics they come from do.
const ids = Array.from({ length: count }, (_, i) => `b827eb${i.toString(16).padStart(6, "0")}`);
const before = held();
const table = new NodeTable({ maxNodes: count });
const t0 = 1_790_000_000;
for (let round = 0; round < 12; round++) {
  for (let i = 0; i < count; i++) {
    const at = t0 + 60 * round + (i % 60);
    table.record(ids[i], at, at - 1);
  }
}
for (let i = 0; i < count; i++) table.bridgeState(ids[i], t0 + 800, true);
const bytes = held() - before;
const started = performance.now();
table.counts(t0 + 900);
const countMs = performance.now() - started;
console.log(JSON.stringify({
  nodes: table.size,
  bytes,
  bytes_per_node: Math.round(bytes / table.size),
  megabytes: Number((bytes / 1e6).toFixed(1)),
  counts_ms: Number(countMs.toFixed(1)),
}));
