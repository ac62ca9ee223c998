/**
 * The status page's "Sites" section: nodes per state, and the nodes that
 * are not reporting, as a table that becomes one card per node on a narrow
 * screen.
 *
 * @module
 */

import {
  NODE_STATES,
  type NodeCounts,
  type NodeState,
  type NodeView,
} from "../fleet/node_table.ts";
import { escapeHtml, formatDuration, utcTimeHtml } from "./html.ts";

/** How many not-reporting nodes the page lists at most. */
export const SITES_TABLE_ROWS = 100;

/** What the Sites section shows. */
export interface SitesSnapshot {
  /** Unix seconds. */
  now: number;
  counts: NodeCounts;
  /** Every node not reporting, in any order. */
  notReporting: NodeView[];
  /** Nodes seen but not tracked, past `MAX_NODES`. */
  untracked: number;
}

/**
 * Each state's colours: `text` for its name on the page, dark enough to
 * read; `fill` for its band in the chart, apart from the others also for
 * the most common colour blindness.
 */
export const STATE_COLOURS: Record<NodeState, { text: string; fill: string }> = {
  reporting: { text: "#0a6b4f", fill: "#009e73" },
  silent: { text: "#b3261e", fill: "#d55e00" },
  offline: { text: "#555555", fill: "#9a9a9a" },
  backfilling: { text: "#005a9c", fill: "#56b4e9" },
};

/** The styles the section needs, for the page's style sheet. */
export const SITES_STYLE =
  `.counts{display:flex;flex-wrap:wrap;gap:.2rem 1.2rem;margin:.3rem 0 .8rem}
@media (max-width:40rem){table.cards,table.cards tbody,table.cards tr,table.cards td{display:block}
table.cards tr:first-child{display:none}table.cards tr{padding:.4rem 0;border-top:1px solid #ddd}
table.cards td{padding:.05rem 0;text-align:left}table.cards td::before{content:attr(data-label) ": ";color:#666}}`;

const COLUMNS = ["Node", "State", "Since", "Last reading", "Usual interval"] as const;

/** Renders the Sites section; every value is escaped. */
export function renderSitesSection(snapshot: SitesSnapshot): string {
  const { now, counts } = snapshot;
  const total = NODE_STATES.reduce((sum, state) => sum + counts[state], 0);
  const stateCounts = NODE_STATES.map((state) =>
    `<span><b style="color:${STATE_COLOURS[state].text}">${counts[state]}</b> ${state}</span>`
  ).join("");
  const untracked = snapshot.untracked > 0
    ? `<p class="warn">${snapshot.untracked} messages came from nodes beyond MAX_NODES, untracked.</p>\n`
    : "";
  // Longest silence first: the node whose data stopped earliest.
  const since = (node: NodeView) => node.lastDataAt ?? node.firstMessageAt;
  const rows = snapshot.notReporting.toSorted((a, b) => since(a) - since(b));
  const shown = rows.slice(0, SITES_TABLE_ROWS);
  const header = COLUMNS.map((c) =>
    c === "Usual interval" ? `<th class="n">${c}</th>` : `<th>${c}</th>`
  )
    .join("");
  const table = rows.length === 0
    ? `<p>${total === 0 ? "No site heard from yet." : "Every site is reporting."}</p>`
    : `<table id="sites" class="cards">
<tr>${header}</tr>
${shown.map((node) => siteRow(node, now)).join("\n")}
</table>
<p class="muted">Since: a silent site's last data (or when it was first heard, if it never sent any); an offline site's bridge saying it lost its link.</p>
${
      rows.length > shown.length
        ? `<p class="muted">The first ${shown.length} of ${rows.length} sites not reporting; <a href="/nodes">/nodes</a> has them all.</p>`
        : ""
    }`;
  return `<h2>Sites</h2>
<p class="counts"><b>${total} nodes</b>${stateCounts}</p>
${untracked}${table}`;
}

function siteRow(node: NodeView, now: number): string {
  const interval = node.usualIntervalSeconds === undefined
    ? "–"
    : formatDuration(node.usualIntervalSeconds);
  const cells = [
    `<code>${escapeHtml(node.nodeId)}</code>`,
    node.state,
    sinceText(node, now),
    node.newestReadingTime === undefined
      ? "–"
      : utcTimeHtml(new Date(node.newestReadingTime * 1000)),
    interval,
  ];
  return `<tr>${
    cells.map((cell, i) => {
      const style = i === 1 ? ` style="color:${STATE_COLOURS[node.state].text}"` : "";
      const cls = i === 4 ? ' class="n"' : "";
      return `<td data-label="${COLUMNS[i]}"${cls}${style}>${cell}</td>`;
    }).join("")
  }</tr>`;
}

// When the site stopped reporting, as its state tells it.
function sinceText(node: NodeView, now: number): string {
  const at = (seconds: number) =>
    `${utcTimeHtml(new Date(seconds * 1000))} (${formatDuration(now - seconds)})`;
  if (node.state === "offline" && node.bridgeSince !== undefined) return at(node.bridgeSince);
  // A node replaying its backlog sends data: it has not stopped.
  if (node.state === "backfilling") return "–";
  if (node.lastDataAt === undefined) {
    return `no data since first heard, ${formatDuration(now - node.firstMessageAt)} ago`;
  }
  return at(node.lastDataAt);
}
