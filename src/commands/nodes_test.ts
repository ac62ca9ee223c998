import assert from "node:assert/strict";
import { type NodeJson, nodesTable } from "./nodes.ts";

function node(overrides: Partial<NodeJson>): NodeJson {
  return {
    node_id: "b827eb000001",
    state: "reporting",
    last_data_at: "2026-12-01T10:00:00.000Z",
    newest_reading_time: "2026-12-01T09:59:59.000Z",
    usual_interval_seconds: 60,
    bridge_up: true,
    messages: 10,
    ...overrides,
  };
}

Deno.test("nodesTable() lists the longest silence first, aligned, with a count", () => {
  const lines = nodesTable([
    node({ node_id: "b827eb000002" }),
    node({ node_id: "b827eb000001", state: "silent", last_data_at: "2026-12-01T08:00:00.000Z" }),
    node({
      node_id: "ff00000003",
      state: "offline",
      last_data_at: null,
      newest_reading_time: null,
      usual_interval_seconds: null,
      bridge_up: false,
    }),
  ], new Date("2026-12-01T10:01:00Z"));
  assert.deepEqual(lines, [
    "NODE          STATE      LAST DATA      NEWEST READING        INTERVAL   BRIDGE",
    "ff00000003    offline    never          -                     -          down",
    "b827eb000001  silent     2 h 1 min ago  2026-12-01T09:59:59Z  1 min 0 s  up",
    "b827eb000002  reporting  1 min 0 s ago  2026-12-01T09:59:59Z  1 min 0 s  up",
    "3 nodes",
  ]);
});
