/**
 * Prometheus metrics and their text exposition (format 0.0.4): counters,
 * gauges and histograms on a registry, written in the order they were
 * registered, each with its `# HELP` and `# TYPE` lines.
 *
 * The agent's own, in place of a metrics library: a counter's `inc()` on
 * every message is one addition, and the process holds 4 MB less. The
 * names of the API follow prom-client's (`inc`, `set`, `labels`, `reset`,
 * `collect`), which is what readers of Prometheus clients know.
 *
 * @module
 */

/** Label values by label name. */
export type Labels<T extends string> = Partial<Record<T, string | number>>;

/** Options of every metric. */
export interface MetricOptions<T extends string> {
  /** The metric's name, e.g. `ammp_agent_messages_received_total`. */
  name: string;
  /** What it counts or measures, one sentence. */
  help: string;
  /** The names of its labels; none for a metric of one series. */
  labelNames?: readonly T[];
  /** The registries that serve it. */
  registers?: Registry[];
}

/** Options of a counter or a gauge. */
export interface ValueMetricOptions<T extends string, M> extends MetricOptions<T> {
  /** Called on the metric before each exposition, to bring its values up to date. */
  collect?: (this: M) => void;
}

/** Options of a {@linkcode Histogram}. */
export interface HistogramOptions extends MetricOptions<never> {
  /** The buckets' upper bounds, ascending; `+Inf` is added. */
  buckets: readonly number[];
}

/** One series of a metric: its label values and its value. */
export interface Series<T extends string> {
  labels: Labels<T>;
  value: number;
}

/** What a registry serves of a metric. */
export interface Metric {
  /** The metric's name. */
  readonly name: string;
  /** Its block of the exposition, brought up to date: `# HELP`, `# TYPE`, a line per series. */
  exposition(): string;
}

/** The metrics a `/metrics` endpoint serves, in the order they were registered. */
export class Registry {
  #metrics: Metric[] = [];

  /** Adds a metric; the metrics' constructors call it for their `registers`. */
  register(metric: Metric): void {
    this.#metrics.push(metric);
  }

  /** Every metric in the text exposition format, each brought up to date first. */
  metrics(): string {
    const blocks: string[] = [];
    for (const metric of this.#metrics) blocks.push(metric.exposition());
    return blocks.join("\n");
  }
}

// The head and registration every metric shares.
abstract class _Metric implements Metric {
  readonly name: string;
  #head: string;

  constructor(options: MetricOptions<string>, type: string) {
    this.name = options.name;
    const help = options.help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
    this.#head = `# HELP ${options.name} ${help}\n# TYPE ${options.name} ${type}\n`;
    for (const registry of options.registers ?? []) registry.register(this);
  }

  exposition(): string {
    return this.#head + this.lines();
  }

  // A line per series, each ending in a newline.
  protected abstract lines(): string;
}

// A counter's or a gauge's series, by their label text (`{a="1"}`).
abstract class _ValueMetric<T extends string> extends _Metric {
  #labelNames: readonly T[];
  #collect: (() => void) | undefined;
  // The series without labels, kept apart: its inc() is one addition.
  #value = 0;
  #series = new Map<string, Series<T>>();

  constructor(options: ValueMetricOptions<T, never>, type: string) {
    super(options, type);
    this.#labelNames = options.labelNames ?? [];
    const collect = options.collect as ((this: unknown) => void) | undefined;
    this.#collect = collect === undefined ? undefined : () => collect.call(this);
  }

  /** Every series with its current value, in the order they were first set. */
  values(): Series<T>[] {
    if (this.#labelNames.length === 0) return [{ labels: {}, value: this.#value }];
    return [...this.#series.values()].map(({ labels, value }) => ({ labels, value }));
  }

  /** Removes every labelled series, and sets the unlabelled one to 0. */
  reset(): void {
    this.#value = 0;
    this.#series.clear();
  }

  override exposition(): string {
    this.#collect?.();
    return super.exposition();
  }

  protected lines(): string {
    if (this.#labelNames.length === 0) return `${this.name} ${_number(this.#value)}\n`;
    let text = "";
    for (const [key, series] of this.#series) {
      text += `${this.name}${key} ${_number(series.value)}\n`;
    }
    return text;
  }

  /** Adds `value` (default 1) to the series without labels, or to that of `labels`. */
  inc(labels?: Labels<T> | number, value = 1): void {
    if (typeof labels === "number") this.add(undefined, labels);
    else this.add(labels, value);
  }

  protected add(labels: Labels<T> | undefined, value: number): void {
    if (labels === undefined) this.#value += value;
    else this.#seriesOf(labels).value += value;
  }

  protected put(labels: Labels<T> | undefined, value: number): void {
    if (labels === undefined) this.#value = value;
    else this.#seriesOf(labels).value = value;
  }

  // The series of `labels`, made at 0 the first time.
  #seriesOf(labels: Labels<T>): Series<T> {
    const key = this.#key(labels);
    let series = this.#series.get(key);
    if (series === undefined) {
      series = { labels: { ...labels }, value: 0 };
      this.#series.set(key, series);
    }
    return series;
  }

  #key(labels: Labels<T>): string {
    const parts: string[] = [];
    for (const name of Object.keys(labels) as T[]) {
      if (!this.#labelNames.includes(name)) {
        throw new TypeError(`Metric ${this.name} has no label "${name}"`);
      }
      parts.push(`${name}="${_escapeLabel(String(labels[name]))}"`);
    }
    return parts.length === 0 ? "" : `{${parts.join(",")}}`;
  }
}

/** A value that only goes up; {@linkcode Counter.reset} starts it again. */
export class Counter<T extends string = never> extends _ValueMetric<T> {
  /** A counter registered on `options.registers`. */
  constructor(options: ValueMetricOptions<T, Counter<T>>) {
    super(options as ValueMetricOptions<T, never>, "counter");
  }

  /** The series of `labels`, bound: what a hot path increments. */
  labels(labels: Labels<T>): { inc(value?: number): void } {
    this.add(labels, 0);
    return { inc: (value = 1) => this.add(labels, value) };
  }
}

/** A value that goes up and down. */
export class Gauge<T extends string = never> extends _ValueMetric<T> {
  /** A gauge registered on `options.registers`. */
  constructor(options: ValueMetricOptions<T, Gauge<T>>) {
    super(options as ValueMetricOptions<T, never>, "gauge");
  }

  /** Sets the series without labels, or that of `labels`, to `value`. */
  set(labels: Labels<T> | number, value?: number): void {
    if (typeof labels === "number") this.put(undefined, labels);
    else this.put(labels, value ?? 0);
  }
}

/** Observations counted in buckets, with their sum; no labels. */
export class Histogram extends _Metric {
  #bounds: Float64Array;
  #counts: Float64Array;
  #sum = 0;
  #count = 0;

  /** A histogram registered on `options.registers`. */
  constructor(options: HistogramOptions) {
    super(options, "histogram");
    this.#bounds = Float64Array.from(options.buckets);
    this.#counts = new Float64Array(options.buckets.length);
  }

  /** Counts one observation. */
  observe(value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    if (i < bounds.length) this.#counts[i]++;
    this.#sum += value;
    this.#count++;
  }

  protected lines(): string {
    let text = "";
    let cumulative = 0;
    for (let i = 0; i < this.#bounds.length; i++) {
      cumulative += this.#counts[i];
      text += `${this.name}_bucket{le="${_number(this.#bounds[i])}"} ${cumulative}\n`;
    }
    return text + `${this.name}_bucket{le="+Inf"} ${this.#count}\n` +
      `${this.name}_sum ${_number(this.#sum)}\n${this.name}_count ${this.#count}\n`;
  }
}

function _number(value: number): string {
  if (Number.isFinite(value)) return String(value);
  return Number.isNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
}

function _escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}
