import assert from "node:assert/strict";
import { NodeTable } from "../fleet/node_table.ts";
import { renderSitesSection, SITES_TABLE_ROWS } from "./sites_section.ts";

const T0 = 1_790_000_000;

function sectionOf(table: NodeTable, now: number): string {
  const notReporting = table.list(now).filter((node) => node.state !== "reporting");
  return renderSitesSection({
    now,
    counts: table.counts(now),
    notReporting,
    untracked: table.untracked,
  });
}

// The cells of the table's rows, as text.
function rowsOf(html: string): string[][] {
  return [...html.matchAll(/<tr>(<td.*?)<\/tr>/g)].map((row) =>
    [...row[1].matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((m) => m[1].replace(/<[^>]+>/g, ""))
  );
}

Deno.test("the Sites section lists the nodes not reporting, longest silence first", () => {
  const table = new NodeTable({ silentAfterSeconds: 60 });
  table.record("aa01", T0, T0 - 5);
  table.record("aa02", T0 + 100, T0 + 100);
  table.bridgeState("aa03", T0 + 150, false);
  table.record("aa04", T0 + 290, T0 + 290);
  const html = sectionOf(table, T0 + 300);
  assert.match(html, /<b>4 nodes<\/b>/);
  assert.match(html, />1<\/b> reporting/);
  assert.match(html, />2<\/b> silent/);
  assert.match(html, />1<\/b> offline/);
  const rows = rowsOf(html);
  assert.deepEqual(rows.map((cells) => cells.slice(0, 2)), [
    ["aa01", "silent"],
    ["aa02", "silent"],
    ["aa03", "offline"],
  ]);
  assert.equal(rows[0][2], `${utc(T0)} (5 min 0 s)`);
});

Deno.test("the Sites section shows at most 100 rows and says how many there are", () => {
  const table = new NodeTable({ silentAfterSeconds: 1 });
  for (let i = 0; i < 150; i++) table.record(`n${i}`, T0 + i, T0 + i);
  const html = sectionOf(table, T0 + 1000);
  assert.equal(rowsOf(html).length, SITES_TABLE_ROWS);
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

Deno.test("the Sites section gives an offline site the time its bridge went down, a silent one its last data", () => {
  const table = new NodeTable({ silentAfterSeconds: 600 });
  table.record("aa03", T0 + 100, T0 + 100);
  table.bridgeState("aa03", T0 + 150, false);
  table.record("aa04", T0 + 100, T0 + 100);
  table.bridgeState("aa04", T0 + 120, true);
  const html = sectionOf(table, T0 + 900);
  const header = [.../<tr>(<th.*?)<\/tr>/.exec(html.slice(html.indexOf('id="sites"')))![1]
    .matchAll(/<th[^>]*>([^<]*)</g)].map((m) => m[1]);
  assert.ok(!header.includes("Silent since"), JSON.stringify(header));
  const since = header.indexOf("Since");
  const rows = rowsOf(html);
  assert.deepEqual(rows.map((cells) => [cells[0], cells[1], cells[since]]), [
    ["aa03", "offline", `${utc(T0 + 150)} (12 min 30 s)`],
    ["aa04", "silent", `${utc(T0 + 100)} (13 min 20 s)`],
  ]);
  // On a phone each row is a card whose lines name their column.
  assert.deepEqual(
    [...html.matchAll(/<td data-label="([^"]+)"/g)].slice(0, header.length).map((m) => m[1]),
    header,
  );
});

function utc(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}
