/**
 * The status page's charts of the recent past: messages counted per whole
 * minute by what became of them, and the fleet's nodes per state. Both
 * share one time axis, which grows with the agent's uptime from 10 minutes
 * to the last hour.
 *
 * @module
 */

import { type ChartColumn, renderTimeChart } from "./_chart.ts";
import { utcHourMinute } from "./html.ts";
import type { FleetSample } from "./fleet_history.ts";
import type { CountedOutcome, IntervalCount } from "./interval_counts.ts";
import { NODE_STATES } from "../fleet/node_table.ts";
import { STATE_COLOURS } from "./sites_section.ts";

/** What the charts show. */
export interface ChartsSnapshot {
  /** Unix seconds. */
  now: number;
  /** When the agent started, Unix seconds: nothing is drawn before. */
  since: number;
  /** Messages per whole interval, oldest first. */
  messages: readonly IntervalCount[];
  /** The length of those intervals, in seconds. */
  intervalSeconds: number;
  /** Node counts sampled, oldest first; no nodes chart when undefined. */
  history?: readonly FleetSample[];
}

/** The time axis' spans, in minutes: the shortest that covers the uptime. */
export const CHART_SPANS_MINUTES = [10, 30, 60];

const OUTCOMES: { key: CountedOutcome; label: string; colour: string }[] = [
  { key: "record", label: "records", colour: "#3c8fd6" },
  { key: "ignored", label: "ignored (no data)", colour: "#a9a9a9" },
  { key: "dead", label: "dead letters", colour: "#d55e00" },
];

/** Renders both charts, side by side where the page is wide enough. */
export function renderChartsSection(snapshot: ChartsSnapshot): string {
  const { now, intervalSeconds } = snapshot;
  const uptimeMinutes = (now - snapshot.since) / 60;
  const minutes = CHART_SPANS_MINUTES.find((m) => m >= uptimeMinutes) ??
    CHART_SPANS_MINUTES.at(-1)!;
  const from = now - minutes * 60;
  const perMinute = 60 / intervalSeconds;
  const unit = intervalSeconds === 60 ? "minute" : `${intervalSeconds} s`;

  const messages = snapshot.messages.filter((m) => m.end > from).map((m): ChartColumn => {
    const total = m.counts.record + m.counts.ignored + m.counts.dead;
    return {
      start: m.start,
      end: m.end,
      values: OUTCOMES.map((o) => m.counts[o.key] * perMinute),
      title: `${utcHourMinute(m.start)}–${utcHourMinute(m.end)} UTC: ${total} messages, ${
        OUTCOMES.map((o) => `${m.counts[o.key]} ${o.label}`).join(", ")
      }`,
    };
  });
  const current = Math.floor(now / intervalSeconds) * intervalSeconds;
  const firstWhole = Math.ceil(snapshot.since / intervalSeconds) * intervalSeconds;
  const charts = [renderTimeChart({
    id: "messages",
    title: `Messages per minute, last ${minutes} min`,
    valueTitle: "messages / min",
    from,
    to: now,
    series: OUTCOMES,
    columns: messages,
    style: "bars",
    shaded: [
      { start: from, end: firstWhole, title: `Before the first whole ${unit} since the start` },
      { start: Math.max(current, firstWhole), end: now, title: `This ${unit}, still counting` },
    ],
    note: `Each bar counts the messages of one whole ${unit} of the clock. Shaded: ` +
      `the ${unit} under way, drawn once it has ended, and the time before the start.`,
  })];

  const samples = snapshot.history?.filter((_, i, all) => (all[i + 1]?.at ?? now) > from);
  if (samples !== undefined) {
    const columns = samples.map((s, i): ChartColumn => ({
      start: s.at,
      end: samples[i + 1]?.at ?? now,
      values: NODE_STATES.map((state) => s.counts[state]),
    }));
    charts.push(renderTimeChart({
      id: "nodes",
      title: `Nodes per state, last ${minutes} min`,
      valueTitle: "nodes",
      from,
      to: now,
      series: NODE_STATES.map((state) => ({
        key: state,
        label: state,
        colour: STATE_COLOURS[state].fill,
      })),
      columns,
      style: "steps",
      shaded: [{ start: from, end: samples[0]?.at ?? now, title: "Before the first sample" }],
      note: "The nodes in each state, stacked.",
    }));
  }
  return `<div class="charts">\n${charts.join("\n")}\n</div>`;
}
