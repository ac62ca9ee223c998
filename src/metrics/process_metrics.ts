/**
 * The process's own metrics: CPU, memory, start time and event-loop lag,
 * under the names prom-client's default metrics use, so that dashboards
 * built for those work unchanged.
 *
 * They are not those of prom-client's `collectDefaultMetrics()`: its
 * event-loop monitor (`monitorEventLoopDelay`) keeps every delay in a
 * histogram that grew by 11 MB during a drain under Deno, and fires every
 * 10 ms; several of its other metrics read `/proc/self`, which Deno opens
 * only to programs with every permission.
 *
 * @module
 */

import process from "node:process";
import { Counter, Gauge, type Registry } from "./prom_client.ts";

/** How often the event loop's lag is sampled, in milliseconds. */
export const LAG_SAMPLE_MS = 100;

// The samples kept between two scrapes: a minute's, the newest ones.
const LAG_SAMPLES = 600;

/** Options for {@linkcode registerProcessMetrics}. */
export interface ProcessMetricsOptions {
  /** The clock, milliseconds; tests drive it. Defaults to `performance.now()`. */
  now?: () => number;
}

/**
 * Registers the process metrics on `registry` and starts sampling the
 * event loop; the sampling timer does not keep the process alive. Returns
 * the lag monitor, whose {@linkcode EventLoopLag.stop} ends the sampling.
 */
export function registerProcessMetrics(
  registry: Registry,
  options: ProcessMetricsOptions = {},
): EventLoopLag {
  const registers = [registry];
  const gauge = (name: string, help: string, read: () => number) =>
    scrapedGauge(registry, name, help, read);
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  // One reading of the CPU time serves the three counters of a scrape.
  let cpu = process.cpuUsage();
  counter("process_cpu_user_seconds_total", "User CPU time spent in seconds.", () => {
    cpu = process.cpuUsage();
    return cpu.user / 1e6;
  });
  counter(
    "process_cpu_system_seconds_total",
    "System CPU time spent in seconds.",
    () => cpu.system / 1e6,
  );
  counter(
    "process_cpu_seconds_total",
    "Total user and system CPU time spent in seconds.",
    () => (cpu.user + cpu.system) / 1e6,
  );
  const started = performance.timeOrigin / 1000;
  gauge(
    "process_start_time_seconds",
    "Start time of the process since unix epoch in seconds.",
    () => started,
  );
  // One reading of the memory serves the four gauges of a scrape, the
  // first of them taking it.
  let memory = Deno.memoryUsage();
  gauge("process_resident_memory_bytes", "Resident memory size in bytes.", () => {
    memory = Deno.memoryUsage();
    return memory.rss;
  });
  gauge(
    "nodejs_heap_size_total_bytes",
    "Process heap size from Node.js in bytes.",
    () => memory.heapTotal,
  );
  gauge(
    "nodejs_heap_size_used_bytes",
    "Process heap size used from Node.js in bytes.",
    () => memory.heapUsed,
  );
  gauge(
    "nodejs_external_memory_bytes",
    "Node.js external memory size in bytes.",
    () => memory.external,
  );
  const lag = new EventLoopLag(options);
  // The first of these to be collected closes the window since the last
  // scrape; the registry collects in the order of registration.
  let lags: LagWindow = { latest: 0, min: 0, max: 0, mean: 0, p50: 0, p90: 0, p99: 0 };
  gauge("nodejs_eventloop_lag_seconds", "Lag of event loop in seconds.", () => {
    lags = lag.window();
    return lags.latest;
  });
  const fromWindow = [
    ["min", "The minimum recorded event loop delay."],
    ["max", "The maximum recorded event loop delay."],
    ["mean", "The mean of the recorded event loop delays."],
    ["p50", "The 50th percentile of the recorded event loop delays."],
    ["p90", "The 90th percentile of the recorded event loop delays."],
    ["p99", "The 99th percentile of the recorded event loop delays."],
  ] as const;
  for (const [key, help] of fromWindow) {
    gauge(`nodejs_eventloop_lag_${key}_seconds`, help, () => lags[key]);
  }
  lag.start();
  return lag;
}

/** Registers on `registry` a gauge whose value `read` gives when Prometheus scrapes. */
export function scrapedGauge(
  registry: Registry,
  name: string,
  help: string,
  read: () => number,
): Gauge {
  return new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/** The event loop's lag over the time since the last {@linkcode EventLoopLag.window}, in seconds. */
export interface LagWindow {
  /** The newest sample. */
  latest: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
}

/**
 * Samples how late a timer of {@linkcode LAG_SAMPLE_MS} fires: the time
 * the event loop was busy past when the timer was due.
 */
export class EventLoopLag {
  #now: () => number;
  #samples = new Float64Array(LAG_SAMPLES);
  #count = 0;
  #latest = 0;
  #due: number;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Creates a monitor; {@linkcode start} starts the timer. */
  constructor(options: ProcessMetricsOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#due = this.#now() + LAG_SAMPLE_MS;
  }

  /** Samples every {@linkcode LAG_SAMPLE_MS} from now on. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#due = this.#now() + LAG_SAMPLE_MS;
    this.#timer = setInterval(() => this.tick(), LAG_SAMPLE_MS);
    Deno.unrefTimer(this.#timer);
  }

  /** Stops sampling. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Takes one sample: the timer fired now. */
  tick(): void {
    const now = this.#now();
    this.#record(Math.max(0, now - this.#due) / 1000);
    this.#due = now + LAG_SAMPLE_MS;
  }

  /**
   * The lag since the previous call, and starts a new window. A sample
   * still due counts with the lag it has so far: a loop busy since the
   * last tick shows as late.
   */
  window(): LagWindow {
    const kept = Math.min(this.#count, LAG_SAMPLES);
    const overdue = (this.#now() - this.#due) / 1000;
    const sorted = new Float64Array(kept + (overdue > 0 ? 1 : 0));
    sorted.set(this.#samples.subarray(0, kept));
    if (overdue > 0) sorted[kept] = overdue;
    sorted.sort();
    this.#count = 0;
    const n = sorted.length;
    const latest = overdue > 0 ? overdue : this.#latest;
    if (n === 0) return { latest, min: 0, max: 0, mean: 0, p50: 0, p90: 0, p99: 0 };
    let sum = 0;
    for (const sample of sorted) sum += sample;
    const at = (p: number) => sorted[Math.ceil(p * n) - 1];
    return {
      latest,
      min: sorted[0],
      max: sorted[n - 1],
      mean: sum / n,
      p50: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
    };
  }

  #record(seconds: number): void {
    this.#samples[this.#count % LAG_SAMPLES] = seconds;
    this.#count++;
    this.#latest = seconds;
  }
}
