import assert from "node:assert/strict";
import { NodeTable } from "../fleet/node_table.ts";
import { FleetHistory, renderSitesSection, SITES_TABLE_ROWS } from "./sites_section.ts";

const T0 = 1_790_000_000;
const NONE = { reporting: 0, silent: 0, offline: 0, backfilling: 0 };

function sectionOf(table: NodeTable, now: number, history = new FleetHistory()): string {
  const notReporting = table.list(now).filter((node) => node.state !== "reporting");
  return renderSitesSection({
    now,
    counts: table.counts(now),
    notReporting,
    untracked: table.untracked,
    history: history.samples,
  });
}

Deno.test("the Sites section lists the nodes not reporting, longest silence first", () => {
  const table = new NodeTable({ silentAfterSeconds: 60 });
  table.record("aa01", T0, T0 - 5);
  table.record("aa02", T0 + 100, T0 + 100);
  table.bridgeState("aa03", T0 + 150, false);
  table.record("aa04", T0 + 290, T0 + 290);
  const html = sectionOf(table, T0 + 300);
  assert.match(html, /<th>4 nodes<\/th>/);
  assert.match(html, />1<\/span> reporting/);
  assert.match(html, />2<\/span> silent/);
  assert.match(html, />1<\/span> offline/);
  const rows = [...html.matchAll(/<tr><td><code>(\w+)<\/code><\/td><td[^>]*>(\w+)</g)]
    .map((m) => [m[1], m[2]]);
  assert.deepEqual(rows, [["aa01", "silent"], ["aa02", "silent"], ["aa03", "offline"]]);
  assert.match(html, /2026-09-21T\d\d:\d\d:\d\dZ \(5 min 0 s\)/);
});

Deno.test("the Sites section shows at most 100 rows and says how many there are", () => {
  const table = new NodeTable({ silentAfterSeconds: 1 });
  for (let i = 0; i < 150; i++) table.record(`n${i}`, T0 + i, T0 + i);
  const html = sectionOf(table, T0 + 1000);
  assert.equal(html.match(/<tr><td><code>/g)?.length, SITES_TABLE_ROWS);
  assert.match(html, /The first 100 of 150 sites not reporting/);
  assert.match(html, /<code>n0<\/code>/);
  assert.doesNotMatch(html, /<code>n149<\/code>/);
});

Deno.test("the Sites section escapes node ids", () => {
  const table = new NodeTable({ silentAfterSeconds: 1 });
  table.record("<img src=x>", T0, T0);
  const html = sectionOf(table, T0 + 10);
  assert.doesNotMatch(html, /<img/);
  assert.match(html, /&#60;img src=x&#62;/);
});

Deno.test("the Sites section draws the last hour as inline SVG from bounded samples", () => {
  const history = new FleetHistory({ windowSeconds: 3600 });
  for (let i = 0; i <= 400; i++) {
    history.add({ at: T0 + 10 * i, received: 100 * i, counts: { ...NONE, reporting: 3 } });
  }
  assert.equal(history.samples.length, 361);
  const table = new NodeTable();
  const html = sectionOf(table, T0 + 4000, history);
  assert.equal(html.match(/<svg /g)?.length, 2);
  assert.doesNotMatch(html, /<script|https?:\/\//);
  assert.match(html, /Messages per minute, last 60 min \(top: 600\)/);
  assert.match(html, /No site heard from yet/);
});

Deno.test("the Sites section waits for two samples before drawing", () => {
  const history = new FleetHistory();
  history.add({ at: T0, received: 0, counts: NONE });
  assert.match(sectionOf(new NodeTable(), T0, history), /Charts of the last hour appear/);
});
