import assert from "node:assert/strict";
import { type ChartsSnapshot, renderChartsSection } from "./charts_section.ts";
import { FleetHistory } from "./fleet_history.ts";
import { IntervalCounts } from "./interval_counts.ts";
import { timeTicks, valueTicks } from "./_chart.ts";

// A whole minute of the clock.
const T0 = 1_790_000_040;
const NONE = { reporting: 0, silent: 0, offline: 0, backfilling: 0 };

function chartsAt(now: number, counts: IntervalCounts, overrides: Partial<ChartsSnapshot> = {}) {
  return renderChartsSection({
    now,
    since: T0,
    messages: counts.whole(now),
    intervalSeconds: counts.intervalSeconds,
    ...overrides,
  });
}

// One chart of the section, by its data-chart name.
function chart(html: string, id: string): string {
  const start = html.indexOf(`<figure class="chart" data-chart="${id}"`);
  assert.notEqual(start, -1, `no ${id} chart`);
  return html.slice(start, html.indexOf("</figure>", start));
}

// The heights of a series' bars, in the plot's units.
function barHeights(html: string, series: string): number[] {
  const group = new RegExp(`<g data-series="${series}"[^>]*>(.*?)</g>`).exec(html)![1];
  return [...group.matchAll(/<rect [^>]*height="([\d.]+)"/g)].map((m) => Number(m[1]));
}

Deno.test("a steady cadence draws a flat series of messages per minute", () => {
  // Five sites each send every 2 s, each at its own phase, the network
  // adding up to 30 ms; the page is asked for at odd moments.
  const counts = new IntervalCounts(T0 - 7);
  for (let k = 0; k < 30 * 20; k++) {
    for (let site = 0; site < 5; site++) {
      counts.add(T0 - 7 + 2 * k + 0.37 * site + 0.03 * ((k * 7 + site) % 5) / 4, "record");
    }
  }
  for (const now of [T0 + 1193, T0 + 1196.5, T0 + 1199.9]) {
    const messages = chart(chartsAt(now, counts), "messages");
    const heights = barHeights(messages, "record");
    assert.equal(heights.length, 19, "every whole minute since the start");
    assert.deepEqual([...new Set(heights)], [heights[0]], "one height: a flat series");
    assert.match(messages, /<title>14:20–14:21 UTC: 150 messages, 150 records, 0 ignored/);
  }
  const minutes = counts.whole(T0 + 1199.9).map((m) => m.counts.record);
  assert.deepEqual([...new Set(minutes)], [150]);
});

Deno.test("the messages chart has a time axis, a value axis and a legend of its three series", () => {
  const counts = new IntervalCounts(T0);
  for (let i = 0; i < 600; i++) counts.add(T0 + i, i % 10 === 0 ? "dead" : "record");
  const html = chart(chartsAt(T0 + 570, counts), "messages");
  const ticks = (axis: string) =>
    [...new RegExp(`data-axis="${axis}".*?</div>`, "s").exec(html)![0]
      .matchAll(/class="tick"[^>]*>([^<]+)</g)].map((m) => m[1]);
  assert.deepEqual(ticks("x"), ["14:14", "14:16", "14:18", "14:20", "14:22"]);
  assert.deepEqual(ticks("y"), ["0", "20", "40", "60"]);
  assert.match(html, /data-axis="y"><span class="axis-title">messages \/ min</);
  assert.match(html, /<span class="axis-title">time \(UTC\)</);
  const legend = [...html.matchAll(/<li data-series="(\w+)">.*?<\/span>([^<]+)<\/li>/g)]
    .map((m) => [m[1], m[2]]);
  assert.deepEqual(legend, [["record", "records"], ["ignored", "ignored (no data)"], [
    "dead",
    "dead letters",
  ]]);
  const drawn = [...html.matchAll(/<g data-series="(\w+)" fill="([^"]+)"/g)];
  assert.deepEqual(drawn.map((m) => m[1]), legend.map(([key]) => key));
  assert.equal(new Set(drawn.map((m) => m[2])).size, 3, "a colour each");
  assert.deepEqual(barHeights(html, "dead"), Array(9).fill(10));
  assert.deepEqual(barHeights(html, "record"), Array(9).fill(90));
  assert.match(
    html,
    /<rect x="[\d.]+" y="0" width="[\d.]+" height="100" fill="#ececec"><title>This minute, still counting/,
  );
});

Deno.test("the nodes chart stacks states of equal counts as distinct bands", () => {
  const history = new FleetHistory();
  for (let i = 0; i < 12; i++) {
    history.add({ at: T0 + 5 * i, counts: { ...NONE, reporting: 1, silent: 1, offline: 1 } });
  }
  const html = chart(
    chartsAt(T0 + 60, new IntervalCounts(T0), { history: history.samples }),
    "nodes",
  );
  const bands = [...html.matchAll(/<g data-series="(\w+)" fill="([^"]+)"><path d="([^"]*)"/g)]
    .map(([, state, fill, d]) => {
      const ys = [...d.matchAll(/,([\d.]+)/g)].map((m) => Number(m[1]));
      return { state, fill, top: Math.min(...ys), bottom: Math.max(...ys) };
    });
  assert.deepEqual(bands.map((b) => b.state), ["reporting", "silent", "offline", "backfilling"]);
  assert.equal(new Set(bands.map((b) => b.fill)).size, 4);
  // Three nodes on a value axis to 3: a third of the height each, apart.
  assert.deepEqual(bands.slice(0, 3).map((b) => [b.top, b.bottom]), [
    [66.7, 100],
    [33.3, 66.7],
    [0, 33.3],
  ]);
  assert.match(html, /<li data-series="backfilling">/);
  assert.ok(html.length < 5000, `equal samples are drawn as one step, not ${html.length} bytes`);
});

Deno.test("the charts' time axis spans 10 minutes after the start, then 30, then the hour", () => {
  const counts = new IntervalCounts(T0);
  const title = (now: number) =>
    /Messages per minute, last (\d+) min/.exec(chartsAt(now, counts))![1];
  assert.equal(title(T0 + 60), "10");
  assert.equal(title(T0 + 20 * 60), "30");
  assert.equal(title(T0 + 5 * 3600), "60");
  assert.match(chartsAt(T0 + 60, counts), /data-chart="messages"/);
  assert.doesNotMatch(
    chartsAt(T0 + 60, counts),
    /data-chart="nodes"/,
    "no history, no nodes chart",
  );
});

Deno.test("the value axis ends on a round number above the tallest value", () => {
  assert.deepEqual(valueTicks(0), [0, 1]);
  assert.deepEqual(valueTicks(3), [0, 1, 2, 3]);
  assert.deepEqual(valueTicks(5), [0, 2, 4, 6]);
  assert.deepEqual(valueTicks(444), [0, 200, 400, 600]);
  assert.deepEqual(valueTicks(150), [0, 50, 100, 150]);
  assert.deepEqual(timeTicks(T0 - 3600, T0).length, 4);
});

Deno.test("the charts escape what they show and load nothing", () => {
  const html = chartsAt(T0 + 600, new IntervalCounts(T0), {
    history: [{ at: T0, counts: NONE }],
  });
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)|url\(/);
});
