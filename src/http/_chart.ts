/**
 * A chart over time for the status page, drawn without scripts: the plot
 * is inline SVG stretched to its box, and the axes' labels, titles and the
 * legend are HTML beside it, so their text keeps its size at any width.
 * Series are stacked, never drawn over each other: two series with the
 * same values stay two bands, each in its own colour.
 *
 * @module
 */

import { escapeHtml, utcHourMinute } from "./html.ts";

/** One series: its key, what the legend calls it, and its colour. */
export interface ChartSeries {
  key: string;
  label: string;
  colour: string;
}

/** The values of every series over one span of time. */
export interface ChartColumn {
  /** Unix seconds. */
  start: number;
  /** Unix seconds. */
  end: number;
  /** One value per series, in the order of the series. */
  values: readonly number[];
  /** What a pointer over the column shows. */
  title?: string;
}

/** What {@linkcode renderTimeChart} draws. */
export interface TimeChartOptions {
  /** Names the chart in the page (`data-chart`). */
  id: string;
  title: string;
  /** The value axis' title. */
  valueTitle: string;
  /** The time axis' span, Unix seconds. */
  from: number;
  to: number;
  series: readonly ChartSeries[];
  columns: readonly ChartColumn[];
  /** Bars with gaps, one per column, or bands that step from column to column. */
  style: "bars" | "steps";
  /** Spans without data (before the start, still counting), shaded, with what a pointer shows. */
  shaded?: readonly { start: number; end: number; title: string }[];
  /** A line under the chart. */
  note?: string;
}

/** The styles the charts need, for the page's style sheet. */
export const CHART_STYLE =
  `.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,26rem),1fr));gap:0 2.5rem}
figure.chart{margin:0 0 1.2rem;min-width:0}figure.chart figcaption{font-weight:600}
.legend{display:flex;flex-wrap:wrap;gap:0 1rem;list-style:none;margin:.1rem 0 .5rem;padding:0;font-weight:400;font-size:.9em}
.legend li{display:flex;align-items:center;gap:.35rem}.key{width:.8rem;height:.8rem;border-radius:2px}
.plot{display:grid;grid-template-columns:auto minmax(0,1fr);grid-template-rows:9rem 2.6rem;padding-right:1.4rem;font-size:.8rem;color:#555}
.plot .y{display:flex}.plot .y .axis-title{writing-mode:vertical-rl;transform:rotate(180deg);text-align:center}
.plot .ticks{position:relative;width:2.6rem}.plot .tick{position:absolute;white-space:nowrap;font-variant-numeric:tabular-nums}
.plot .y .tick{right:.4rem;transform:translateY(50%)}.plot .x{grid-column:2;position:relative}
.plot .x .tick{top:.2rem;transform:translateX(-50%)}.plot .x .axis-title{position:absolute;bottom:0;width:100%;text-align:center}
.plot .area{border-left:1px solid #888;border-bottom:1px solid #888;background:#fcfcfc}
.plot svg{display:block;width:100%;height:100%}`;

const WIDTH = 1000;
const HEIGHT = 100;

/** Renders one chart with its axes and legend; every text is escaped. */
export function renderTimeChart(options: TimeChartOptions): string {
  const { from, to, series } = options;
  const span = Math.max(1, to - from);
  const x = (at: number) => (Math.min(Math.max(at, from), to) - from) / span * WIDTH;
  const columns = options.style === "steps" ? merged(options.columns) : options.columns;
  const tallest = Math.max(0, ...columns.map((c) => c.values.reduce((sum, v) => sum + v, 0)));
  const values = valueTicks(tallest);
  const top = values.at(-1)!;
  const y = (value: number) => HEIGHT - value / top * HEIGHT;
  const times = timeTicks(from, to);

  const grid = [
    ...values.slice(1).map((v) => `M0,${f(y(v))}H${WIDTH}`),
    ...times.map((at) => `M${f(x(at))},0V${HEIGHT}`),
  ].join("");
  const shaded = (options.shaded ?? []).filter((span) => span.end > from && span.start < to)
    .map((span) =>
      `<rect x="${f(x(span.start))}" y="0" width="${
        f(x(span.end) - x(span.start))
      }" height="${HEIGHT}" fill="#ececec"><title>${escapeHtml(span.title)}</title></rect>`
    ).join("");
  const drawn = series.map((s, i) => {
    const shapes = options.style === "bars"
      ? bars(columns, i, x, y)
      : `<path d="${band(columns, i, x, y)}"><title>${escapeHtml(s.label)}</title></path>`;
    return `<g data-series="${escapeHtml(s.key)}" fill="${escapeHtml(s.colour)}">${shapes}</g>`;
  }).join("");

  const legend = series.map((s) =>
    `<li data-series="${escapeHtml(s.key)}"><span class="key" style="background:${
      escapeHtml(s.colour)
    }"></span>${escapeHtml(s.label)}</li>`
  ).join("");
  const yTicks = values.map((v) =>
    `<span class="tick" style="bottom:${f(v / top * 100)}%">${formatCount(v)}</span>`
  ).join("");
  const xTicks = times.map((at) =>
    `<span class="tick" style="left:${f((at - from) / span * 100)}%">${utcHourMinute(at)}</span>`
  ).join("");
  return `<figure class="chart" data-chart="${escapeHtml(options.id)}">
<figcaption>${escapeHtml(options.title)}<ul class="legend">${legend}</ul></figcaption>
<div class="plot"><div class="y" data-axis="y"><span class="axis-title">${
    escapeHtml(options.valueTitle)
  }</span><div class="ticks">${yTicks}</div></div>
<div class="area"><svg role="img" aria-label="${
    escapeHtml(options.title)
  }" viewBox="0 0 ${WIDTH} ${HEIGHT}" preserveAspectRatio="none">${shaded}<path d="${grid}" stroke="#e2e2e2" fill="none" vector-effect="non-scaling-stroke"/>${drawn}</svg></div>
<div class="x" data-axis="x">${xTicks}<span class="axis-title">time (UTC)</span></div></div>${
    options.note === undefined ? "" : `\n<p class="muted">${escapeHtml(options.note)}</p>`
  }</figure>`;
}

/** Ticks of the value axis from 0: at most about five, at 1, 2 or 5 times a power of ten. */
export function valueTicks(max: number): number[] {
  const rough = Math.max(1, max) / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = Math.max(1, [1, 2, 5, 10].find((m) => m * power >= rough)! * power);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const ticks: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(v);
  return ticks;
}

/** Ticks of the time axis: whole minutes of the clock, at most five or six. */
export function timeTicks(from: number, to: number): number[] {
  const step = TIME_STEPS.find((s) => (to - from) / s <= 5) ?? TIME_STEPS.at(-1)!;
  const ticks: number[] = [];
  for (let at = Math.ceil(from / step) * step; at <= to; at += step) ticks.push(at);
  return ticks;
}

const TIME_STEPS = [60, 120, 300, 600, 900, 1800, 3600, 7200];

// A count in few characters: 950, 1.5k, 12k, 3.4M.
function formatCount(value: number): string {
  const short = (n: number) => String(Number(n.toFixed(n < 10 ? 1 : 0)));
  if (value >= 1e6) return `${short(value / 1e6)}M`;
  if (value >= 1000) return `${short(value / 1000)}k`;
  return String(Number(value.toFixed(2)));
}

function f(value: number): string {
  return String(Math.round(value * 10) / 10);
}

// Neighbouring columns with the same values drawn as one: the states of a
// fleet change seldom, and the page stays small.
function merged(columns: readonly ChartColumn[]): ChartColumn[] {
  const out: ChartColumn[] = [];
  for (const column of columns) {
    const last = out.at(-1);
    if (
      last !== undefined && last.end === column.start &&
      last.values.every((v, i) => v === column.values[i])
    ) {
      out[out.length - 1] = { ...last, end: column.end };
    } else {
      out.push(column);
    }
  }
  return out;
}

function below(column: ChartColumn, index: number): number {
  let sum = 0;
  for (let i = 0; i < index; i++) sum += column.values[i];
  return sum;
}

function bars(
  columns: readonly ChartColumn[],
  index: number,
  x: (at: number) => number,
  y: (value: number) => number,
): string {
  return columns.filter((c) => c.values[index] > 0).map((column) => {
    const left = x(column.start);
    const width = x(column.end) - left;
    const base = below(column, index);
    const upper = y(base + column.values[index]);
    const title = column.title === undefined ? "" : `<title>${escapeHtml(column.title)}</title>`;
    return `<rect x="${f(left + width * 0.1)}" y="${f(upper)}" width="${f(width * 0.8)}" height="${
      f(y(base) - upper)
    }">${title}</rect>`;
  }).join("");
}

// The band of one series: along the top of its values, back along the
// bottom, stepping where the values change.
function band(
  columns: readonly ChartColumn[],
  index: number,
  x: (at: number) => number,
  y: (value: number) => number,
): string {
  if (columns.length === 0) return "";
  const upper: string[] = [];
  const lower: string[] = [];
  for (const column of columns) {
    const base = below(column, index);
    const top = f(y(base + column.values[index]));
    const bottom = f(y(base));
    const [left, right] = [f(x(column.start)), f(x(column.end))];
    upper.push(`${left},${top}`, `${right},${top}`);
    lower.push(`${left},${bottom}`, `${right},${bottom}`);
  }
  return `M${upper.join("L")}L${lower.reverse().join("L")}Z`;
}
