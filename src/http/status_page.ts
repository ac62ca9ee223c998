/**
 * The status page at `/`: what an engineer on a gateway wants at a glance,
 * as plain HTML with inline styles, no scripts and nothing from elsewhere.
 * It reads from 390 px (a phone) to 1920 px wide.
 *
 * @module
 */

import { escapeHtml, formatDuration, utcTime, utcTimeHtml } from "./html.ts";
import { CHART_STYLE } from "./_chart.ts";
import { type ChartsSnapshot, renderChartsSection } from "./charts_section.ts";
import type { MessageTotals } from "../metrics/metrics.ts";
import { renderSitesSection, SITES_STYLE, type SitesSnapshot } from "./sites_section.ts";

/** Per-second rates of the message counters over a recent window. */
export interface MessageRates {
  /** Each counter's increase per second. */
  perSecond: MessageTotals;
  /** The window the rates cover, in seconds. */
  seconds: number;
}

/** Everything the status page shows, taken when the page is requested. */
export interface StatusSnapshot {
  /** When the snapshot was taken. */
  now: Date;
  /** The agent's version. */
  version: string;
  /** The name of the host the agent runs on, when it could be read. */
  host?: string;
  /** When the agent started. */
  startedAt: Date;
  /** Whether the broker connection is up. */
  connected: boolean;
  /** Whether every subscription is granted (only meaningful while connected). */
  subscribed: boolean;
  /** When the connection came up or went down; the start before the first connection. */
  connectionSince: Date;
  /** The broker's URL, which never holds credentials. */
  broker: string;
  /** The MQTT client id, under which the broker keeps the session. */
  clientId: string;
  /** The topic filters subscribed to. */
  topics: string[];
  /** Counts since the start. */
  totals: MessageTotals;
  /** Dead letters since the start, by reason. */
  failedByReason: Record<string, number>;
  /** Current rates, when there are samples enough. */
  rates?: MessageRates;
  /** When the last message arrived, if any did. */
  lastMessageAt?: Date;
  /** The newest reading time `t` written, if any. */
  newestReadingAt?: Date;
  /** The fleet view's sites, when the agent keeps them. */
  sites?: SitesSnapshot;
  /** The charts of the recent past, once the agent keeps them. */
  charts?: ChartsSnapshot;
}

/** Seconds between reloads of the page. */
export const STATUS_REFRESH_SECONDS = 10;

/** Renders the whole status page; every value from the snapshot is escaped. */
export function renderStatusPage(snapshot: StatusSnapshot): string {
  const now = snapshot.now.getTime();
  const since = (date: Date) =>
    `${utcTimeHtml(date)} (${formatDuration((now - date.getTime()) / 1000)})`;

  let state: string;
  if (!snapshot.connected) {
    state = `<span class="bad">not connected</span> since ${since(snapshot.connectionSince)}`;
  } else if (!snapshot.subscribed) {
    state = `<span class="warn">connected, not subscribed</span> since ${
      since(snapshot.connectionSince)
    }`;
  } else {
    state = `<span class="ok">connected</span> since ${since(snapshot.connectionSince)}`;
  }

  const { totals, rates } = snapshot;
  const rate = (key: keyof MessageTotals) => rates ? formatRate(rates.perSecond[key]) : "–";
  const counters: [string, keyof MessageTotals][] = [
    ["Messages received", "received"],
    ["Records written", "records"],
    ["Failed (dead letters)", "failed"],
    ["Ignored (no data)", "ignored"],
  ];
  const failedReasons = Object.entries(snapshot.failedByReason)
    .filter(([, count]) => count > 0)
    .map(([reason, count]) => `${escapeHtml(reason)} ${count}`)
    .join(", ");

  const lastMessage = snapshot.lastMessageAt
    ? `${formatDuration((now - snapshot.lastMessageAt.getTime()) / 1000)} ago (${
      utcTimeHtml(snapshot.lastMessageAt)
    })`
    : "none yet";
  let newestReading = "none yet";
  if (snapshot.newestReadingAt) {
    const lag = (now - snapshot.newestReadingAt.getTime()) / 1000;
    // The comma stays on the time's line, and in its text.
    newestReading = `<span class="t">${utcTime(snapshot.newestReadingAt)},</span> lag ${
      lag >= 0 ? formatDuration(lag) : `${formatDuration(-lag)} ahead of this clock`
    }`;
  }

  const host = snapshot.host === undefined ? "" : escapeHtml(snapshot.host);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="${STATUS_REFRESH_SECONDS}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${host === "" ? "" : `${host} · `}ammp-agent</title>
<style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;padding:0 2rem;max-width:76rem;color:#1d1d1f}
@media (max-width:40rem){body{margin:1rem 0;padding:0 1rem}}h1{font-size:1.6rem;margin:0 0 1rem;overflow-wrap:anywhere}
table{border-collapse:collapse;margin-bottom:1rem}td,th{padding:.2rem 1rem .2rem 0;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}h2{font-size:1.05rem;margin:1.2rem 0 .3rem}
.ok{color:#17703a;font-weight:600}.bad{color:#b3261e;font-weight:600}.warn{color:#8a5a00;font-weight:600}
.muted{color:#666;font-size:.9em}code{font-size:.95em;overflow-wrap:anywhere}.t{white-space:nowrap}
${SITES_STYLE}
${CHART_STYLE}</style></head>
<body>
<h1>ammp-agent${host === "" ? "" : ` on ${host}`} <span class="muted">${
    escapeHtml(snapshot.version)
  }</span></h1>
<table>
<tr><th>Connection</th><td>${state}</td></tr>
<tr><th>Broker</th><td><code>${escapeHtml(snapshot.broker)}</code></td></tr>
<tr><th>Topics</th><td>${
    snapshot.topics.map((topic) => `<code>${escapeHtml(topic)}</code>`).join(", ")
  }</td></tr>
<tr><th>Client id</th><td><code>${escapeHtml(snapshot.clientId)}</code></td></tr>
</table>
<h2>Messages</h2>
<table>
<tr><th></th><th class="n">since start</th><th class="n">per second${
    rates ? `, last ${Math.round(rates.seconds)} s` : ""
  }</th></tr>
${
    counters.map(([label, key]) => {
      const cls = key === "failed" && totals.failed > 0 ? ' class="n bad"' : ' class="n"';
      return `<tr><th>${label}</th><td${cls}>${totals[key]}</td><td class="n">${
        rate(key)
      }</td></tr>`;
    }).join("\n")
  }
</table>
${failedReasons === "" ? "" : `<p>Failures by reason: ${failedReasons}</p>\n`}<h2>Data</h2>
<table>
<tr><th>Last message</th><td>${lastMessage}</td></tr>
<tr><th>Newest reading</th><td>${newestReading}</td></tr>
<tr><th>Running since</th><td>${since(snapshot.startedAt)}</td></tr>
</table>
${snapshot.sites === undefined ? "" : renderSitesSection(snapshot.sites) + "\n"}${
    snapshot.charts === undefined ? "" : renderChartsSection(snapshot.charts) + "\n"
  }<p><a href="/metrics">/metrics</a> · <a href="/nodes">/nodes</a> · <a href="/healthz">/healthz</a> · <a href="/readyz">/readyz</a></p>
<p class="muted">Times in UTC. This page reloads every ${STATUS_REFRESH_SECONDS} s.</p>
</body></html>
`;
}

/** Options for {@linkcode RecentRates}. */
export interface RecentRatesOptions {
  /** How far back the rates look, in seconds (default 60). */
  windowSeconds?: number;
  /** The shortest span that gives a rate, in seconds (default 5). */
  minSeconds?: number;
}

/**
 * Samples of the message counters over the last minute, from which the
 * status page shows current rates. Samples are added on a timer, so their
 * number stays small however often the page is requested.
 */
export class RecentRates {
  #samples: { at: number; totals: MessageTotals }[] = [];
  #windowMs: number;
  #minMs: number;

  /** Starts with no samples. */
  constructor(options: RecentRatesOptions = {}) {
    this.#windowMs = (options.windowSeconds ?? 60) * 1000;
    this.#minMs = (options.minSeconds ?? 5) * 1000;
  }

  /** Keeps the counters as they were at `at` (milliseconds since the epoch). */
  add(at: number, totals: MessageTotals): void {
    const last = this.#samples.at(-1);
    if (last !== undefined && at < last.at) return;
    this.#samples.push({ at, totals: { ...totals } });
    // Keep one sample at or before the window's start as the baseline.
    while (this.#samples.length > 2 && this.#samples[1].at <= at - this.#windowMs) {
      this.#samples.shift();
    }
  }

  /**
   * Rates from the oldest kept sample to the counters `totals` at `at`;
   * none while the samples span less than the minimum.
   */
  rates(at: number, totals: MessageTotals): MessageRates | undefined {
    const first = this.#samples[0];
    if (first === undefined || at - first.at < this.#minMs) return undefined;
    const seconds = (at - first.at) / 1000;
    const perSecond = (key: keyof MessageTotals) => (totals[key] - first.totals[key]) / seconds;
    return {
      seconds,
      perSecond: {
        received: perSecond("received"),
        records: perSecond("records"),
        failed: perSecond("failed"),
        ignored: perSecond("ignored"),
      },
    };
  }
}

function formatRate(perSecond: number): string {
  if (perSecond >= 100) return perSecond.toFixed(0);
  if (perSecond >= 10) return perSecond.toFixed(1);
  return perSecond.toFixed(2);
}
