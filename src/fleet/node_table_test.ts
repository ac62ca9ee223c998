import assert from "node:assert/strict";
import { NodeTable } from "./node_table.ts";

const T0 = 1_790_000_000;

// Feeds a node one record a minute, readings taken as they arrive.
function reportEveryMinute(table: NodeTable, nodeId: string, count: number, from = T0): number {
  let at = from;
  for (let i = 0; i < count; i++) {
    at = from + 60 * i;
    table.record(nodeId, at, at - 1);
  }
  return at;
}

Deno.test("NodeTable calls a node reporting while its payloads keep coming", () => {
  const table = new NodeTable();
  const last = reportEveryMinute(table, "aa01", 10);
  const counts = table.counts(last + 30);
  assert.deepEqual(counts, { reporting: 1, silent: 0, offline: 0, backfilling: 0 });
  const [node] = table.list(last + 30);
  assert.equal(node.usualIntervalSeconds, 60);
  assert.equal(node.records, 10);
  assert.equal(node.newestReadingTime, last - 1);
});

Deno.test("NodeTable calls a node silent after ten of its usual intervals, at least 300 s", () => {
  const table = new NodeTable();
  const last = reportEveryMinute(table, "aa01", 10);
  assert.equal(table.list(last + 600)[0].state, "reporting");
  assert.equal(table.list(last + 601)[0].state, "silent");

  // A node that reports every 5 s is still given 300 s.
  const fast = new NodeTable();
  for (let i = 0; i < 10; i++) fast.record("bb02", T0 + 5 * i, T0 + 5 * i);
  assert.equal(fast.list(T0 + 45 + 300)[0].state, "reporting");
  assert.equal(fast.list(T0 + 45 + 301)[0].state, "silent");
});

Deno.test("NodeTable caps a derived silence at one day", () => {
  const table = new NodeTable();
  for (let i = 0; i < 5; i++) table.record("cc03", T0 + 10_800 * i, T0 + 10_800 * i);
  const [node] = table.list(T0);
  assert.equal(node.usualIntervalSeconds, 10_800);
  assert.equal(node.silentAfterSeconds, 86_400);
});

Deno.test("NodeTable takes a fixed silence when one is set", () => {
  const table = new NodeTable({ silentAfterSeconds: 2 });
  const last = reportEveryMinute(table, "aa01", 10);
  assert.equal(table.list(last + 2)[0].state, "reporting");
  assert.equal(table.list(last + 3)[0].state, "silent");
});

Deno.test("NodeTable keeps the usual interval through one long outage", () => {
  const table = new NodeTable();
  const last = reportEveryMinute(table, "aa01", 8);
  const back = last + 6 * 3600;
  reportEveryMinute(table, "aa01", 3, back);
  assert.equal(table.list(back + 180)[0].usualIntervalSeconds, 60);
});

Deno.test("NodeTable calls a node offline while its bridge says 0, whatever it sent", () => {
  const table = new NodeTable();
  const last = reportEveryMinute(table, "aa01", 5);
  table.bridgeState("aa01", last + 10, false);
  const [node] = table.list(last + 11);
  assert.equal(node.state, "offline");
  assert.equal(node.bridgeUp, false);
  assert.equal(node.bridgeSince, last + 10);
  table.bridgeState("aa01", last + 20, true);
  assert.equal(table.list(last + 21)[0].state, "reporting");
});

Deno.test("NodeTable calls a connected node that sends no data silent, not offline", () => {
  const table = new NodeTable({ silentAfterSeconds: 60 });
  table.bridgeState("dd04", T0, true);
  const [node] = table.list(T0 + 61);
  assert.equal(node.state, "silent");
  assert.equal(node.bridgeUp, true);
  assert.equal(node.lastDataAt, undefined);
});

Deno.test("NodeTable never calls a node reporting before its first data, whatever else it sent", () => {
  const table = new NodeTable();
  table.bridgeState("dd04", T0, true);
  table.other("dd05", T0);
  for (const at of [T0, T0 + 1, T0 + 299]) {
    assert.deepEqual(table.counts(at), { reporting: 0, silent: 2, offline: 0, backfilling: 0 });
    assert.deepEqual(table.list(at, { state: "reporting" }), []);
  }
  // Its first payload makes it reporting.
  table.record("dd04", T0 + 5, T0 + 5);
  assert.deepEqual(table.list(T0 + 6, { state: "reporting" }).map((node) => node.nodeId), [
    "dd04",
  ]);
});

Deno.test("NodeTable calls a node replaying readings over an hour old backfilling, not silent", () => {
  const table = new NodeTable();
  const now = T0 + 3 * 86_400;
  // Two days of a backlog arrive within a few seconds.
  for (let i = 0; i < 100; i++) table.record("ee05", now + i * 0.01, T0 + 86_400 + 60 * i);
  const [node] = table.list(now + 5);
  assert.equal(node.state, "backfilling");
  // The replay's pace is not taken for the node's usual interval.
  assert.equal(node.usualIntervalSeconds, undefined);
  // Once it sends live readings again, it is reporting.
  table.record("ee05", now + 6, now + 5);
  assert.equal(table.list(now + 7)[0].state, "reporting");
});

Deno.test("NodeTable counts readings from the future and keeps them out of the newest reading", () => {
  const table = new NodeTable();
  table.record("ff06", T0, T0 - 1);
  assert.equal(table.record("ff06", T0 + 60, T0 + 60 + 301), true);
  assert.equal(table.record("ff06", T0 + 120, T0 + 120 + 299), false);
  const [node] = table.list(T0 + 120);
  assert.equal(node.readingsFromFuture, 1);
  assert.equal(node.newestReadingTime, T0 + 120 + 299);
});

Deno.test("NodeTable counts dead letters and other messages without calling them readings", () => {
  const table = new NodeTable();
  table.deadLetter("aa01", T0);
  table.other("aa01", T0 + 1);
  const [node] = table.list(T0 + 2);
  assert.equal(node.deadLetters, 1);
  assert.equal(node.messages, 2);
  assert.equal(node.records, 0);
  assert.equal(node.lastDataAt, T0);
  assert.equal(node.lastMessageAt, T0 + 1);
  assert.equal(node.newestReadingTime, undefined);
});

Deno.test("NodeTable tracks at most maxNodes nodes and counts the messages of the rest", () => {
  const table = new NodeTable({ maxNodes: 2 });
  table.record("aa01", T0, T0);
  table.record("aa02", T0, T0);
  table.record("aa03", T0, T0);
  table.bridgeState("aa04", T0, true);
  table.record("aa01", T0 + 60, T0 + 60);
  assert.equal(table.size, 2);
  assert.equal(table.untracked, 2);
  assert.deepEqual(table.list(T0 + 60).map((node) => node.nodeId).sort(), ["aa01", "aa02"]);
});

Deno.test("NodeTable.list filters by state", () => {
  const table = new NodeTable({ silentAfterSeconds: 100 });
  table.record("aa01", T0, T0);
  table.record("aa02", T0 + 200, T0 + 200);
  table.bridgeState("aa03", T0 + 200, false);
  assert.deepEqual(table.list(T0 + 250, { state: "silent" }).map((n) => n.nodeId), ["aa01"]);
  assert.deepEqual(table.list(T0 + 250, { state: "offline" }).map((n) => n.nodeId), ["aa03"]);
  const counts = table.counts(T0 + 250);
  assert.deepEqual(counts, { reporting: 1, silent: 1, offline: 1, backfilling: 0 });
});

Deno.test("NodeTable restores from its snapshot the same views, through JSON", () => {
  const table = new NodeTable();
  reportEveryMinute(table, "aa01", 6);
  table.deadLetter("aa01", T0 + 400);
  table.bridgeState("aa02", T0 + 10, false);
  table.record("aa03", T0 + 20, T0 + 20 + 1000);
  const now = T0 + 500;
  const saved = JSON.parse(JSON.stringify(table.snapshot(now)));
  const restored = new NodeTable();
  restored.restore(saved);
  assert.deepEqual(restored.list(now + 900), table.list(now + 900));
  const counts = restored.counts(now + 900);
  assert.deepEqual(counts, { reporting: 0, silent: 2, offline: 1, backfilling: 0 });
});

Deno.test("NodeTable.restore refuses what is not a snapshot and adds nothing", () => {
  const table = new NodeTable();
  for (
    const bad of [null, [], { version: 2, nodes: [] }, { version: 1 }, { version: 1, nodes: [[1]] }]
  ) {
    assert.throws(() => table.restore(bad), TypeError);
  }
  const row = ["aa01", T0, T0, T0, T0, T0, 1, 1, 0, 0, -1, null, ""];
  assert.throws(
    () => table.restore({ version: 1, savedAt: T0, nodes: [row, [...row.slice(0, 12), "x y"]] }),
    /node 1 is malformed/,
  );
  assert.equal(table.size, 0);
});
