/**
 * The status page's "Sites" section: nodes per state, the nodes that are
 * not reporting, and the last hour drawn as inline SVG (no scripts,
 * nothing fetched from elsewhere).
 *
 * @module
 */

import {
  NODE_STATES,
  type NodeCounts,
  type NodeState,
  type NodeView,
} from "../fleet/node_table.ts";
import { escapeHtml, formatDuration, utcTime } from "./_html.ts";

/** How many not-reporting nodes the page lists at most. */
export const SITES_TABLE_ROWS = 100;

/** One sample of the fleet for the charts. */
export interface FleetSample {
  /** Unix seconds. */
  at: number;
  /** Messages received since the start, as counted then. */
  received: number;
  counts: NodeCounts;
}

/** Options for {@linkcode FleetHistory}. */
export interface FleetHistoryOptions {
  /** How far back the samples reach, in seconds (default 3600). */
  windowSeconds?: number;
}

/**
 * The samples behind the charts: added on a timer, the oldest dropped past
 * the window, so their number stays bounded.
 */
export class FleetHistory {
  #samples: FleetSample[] = [];
  #windowSeconds: number;

  /** Starts with no samples. */
  constructor(options: FleetHistoryOptions = {}) {
    this.#windowSeconds = options.windowSeconds ?? 3600;
  }

  /** Keeps one sample; one older than the last is ignored. */
  add(sample: FleetSample): void {
    const last = this.#samples.at(-1);
    if (last !== undefined && sample.at <= last.at) return;
    this.#samples.push({ ...sample, counts: { ...sample.counts } });
    while (this.#samples[0].at < sample.at - this.#windowSeconds) this.#samples.shift();
  }

  /** The samples, oldest first. */
  get samples(): readonly FleetSample[] {
    return this.#samples;
  }
}

/** What the Sites section shows. */
export interface SitesSnapshot {
  /** Unix seconds. */
  now: number;
  counts: NodeCounts;
  /** Every node not reporting, in any order. */
  notReporting: NodeView[];
  /** Nodes seen but not tracked, past `MAX_NODES`. */
  untracked: number;
  history: readonly FleetSample[];
}

const STATE_COLOURS: Record<NodeState, string> = {
  reporting: "#17703a",
  silent: "#b3261e",
  offline: "#555",
  backfilling: "#8a5a00",
};

/** Renders the Sites section; every value is escaped. */
export function renderSitesSection(snapshot: SitesSnapshot): string {
  const { now, counts } = snapshot;
  const total = NODE_STATES.reduce((sum, state) => sum + counts[state], 0);
  const stateCells = NODE_STATES.map((state) =>
    `<td class="n"><span style="color:${STATE_COLOURS[state]}">${
      counts[state]
    }</span> ${state}</td>`
  ).join("");
  const untracked = snapshot.untracked > 0
    ? `<p class="warn">${snapshot.untracked} messages came from nodes beyond MAX_NODES, untracked.</p>\n`
    : "";
  // Longest silence first: the node whose data stopped earliest.
  const since = (node: NodeView) => node.lastDataAt ?? node.firstMessageAt;
  const rows = snapshot.notReporting.toSorted((a, b) => since(a) - since(b));
  const shown = rows.slice(0, SITES_TABLE_ROWS);
  const table = rows.length === 0
    ? `<p>${total === 0 ? "No site heard from yet." : "Every site is reporting."}</p>`
    : `<table id="sites">
<tr><th>Node</th><th>State</th><th>Silent since</th><th>Last reading</th><th class="n">Usual interval</th></tr>
${shown.map((node) => siteRow(node, now)).join("\n")}
</table>
${
      rows.length > shown.length
        ? `<p class="muted">The first ${shown.length} of ${rows.length} sites not reporting; <a href="/nodes">/nodes</a> has them all.</p>`
        : ""
    }`;
  return `<h2>Sites</h2>
<table><tr><th>${total} nodes</th>${stateCells}</tr></table>
${untracked}${table}
${charts(snapshot.history)}`;
}

function siteRow(node: NodeView, now: number): string {
  const silentFor = now - (node.lastDataAt ?? node.firstMessageAt);
  // A node replaying its backlog sends data: it is not silent.
  const sinceText = node.state === "backfilling"
    ? "–"
    : node.lastDataAt === undefined
    ? `no data since first heard, ${formatDuration(silentFor)} ago`
    : `${utc(node.lastDataAt)} (${formatDuration(silentFor)})`;
  const interval = node.usualIntervalSeconds === undefined
    ? "–"
    : formatDuration(node.usualIntervalSeconds);
  return `<tr><td><code>${escapeHtml(node.nodeId)}</code></td><td style="color:${
    STATE_COLOURS[node.state]
  }">${node.state}</td><td>${sinceText}</td><td>${
    node.newestReadingTime === undefined ? "–" : utc(node.newestReadingTime)
  }</td><td class="n">${interval}</td></tr>`;
}

const WIDTH = 600;
const HEIGHT = 90;

// Two charts of the last hour: messages per minute, and nodes per state.
function charts(samples: readonly FleetSample[]): string {
  if (samples.length < 2) {
    return `<p class="muted">Charts of the last hour appear after the first samples.</p>`;
  }
  const first = samples[0].at;
  const span = Math.max(1, samples.at(-1)!.at - first);
  const x = (at: number) => ((at - first) / span * WIDTH).toFixed(1);

  const perMinute: [number, number][] = [];
  for (let i = 1; i < samples.length; i++) {
    const seconds = samples[i].at - samples[i - 1].at;
    const received = Math.max(0, samples[i].received - samples[i - 1].received);
    perMinute.push([samples[i].at, received / seconds * 60]);
  }
  const maxRate = Math.max(1, ...perMinute.map(([, rate]) => rate));
  const y = (value: number, max: number) => (HEIGHT - value / max * HEIGHT).toFixed(1);
  const ratePath = perMinute.map(([at, rate]) => `${x(at)},${y(rate, maxRate)}`).join(" ");

  const maxNodes = Math.max(
    1,
    ...samples.map((s) => NODE_STATES.reduce((sum, state) => sum + s.counts[state], 0)),
  );
  const stateLines = NODE_STATES.map((state) => {
    const points = samples.map((s) => `${x(s.at)},${y(s.counts[state], maxNodes)}`).join(" ");
    return `<polyline fill="none" stroke="${
      STATE_COLOURS[state]
    }" stroke-width="1.5" points="${points}"><title>${state}</title></polyline>`;
  }).join("");
  const minutes = Math.round(span / 60);
  const svg = (label: string, body: string, max: number, legend = "") =>
    `<figure style="margin:0 0 1rem"><svg role="img" aria-label="${label}" viewBox="0 -4 ${WIDTH} ${
      HEIGHT + 8
    }" width="100%" height="${
      HEIGHT + 8
    }" preserveAspectRatio="none" style="max-width:${WIDTH}px;background:#fafafa">${body}</svg>
<figcaption class="muted">${label}${legend}, last ${minutes} min (top: ${
      Math.round(max)
    })</figcaption></figure>`;
  return svg(
    "Messages per minute",
    `<polyline fill="none" stroke="#1d4ed8" stroke-width="1.5" points="${ratePath}"/>`,
    maxRate,
  ) + "\n" + svg(
    "Nodes per state",
    stateLines,
    maxNodes,
    ` (${
      NODE_STATES.map((state) => `<span style="color:${STATE_COLOURS[state]}">${state}</span>`)
        .join(", ")
    })`,
  );
}

function utc(seconds: number): string {
  return utcTime(new Date(seconds * 1000));
}
