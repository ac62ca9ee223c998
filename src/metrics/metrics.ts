/**
 * Every metric the agent exposes, defined once, on its own prom-client
 * registry. Nothing is registered on prom-client's global registry, and its
 * default metrics are not collected: the process metrics are the agent's
 * own collectors (`process_metrics.ts`).
 *
 * @module
 */

import { FUTURE_READING_SECONDS } from "../transform/record.ts";
import { Counter, Gauge, Histogram, Registry } from "./prom_client.ts";
import { type EventLoopLag, registerProcessMetrics, scrapedGauge } from "./process_metrics.ts";
import {
  DEAD_LETTER_REASONS,
  type DeadLetterReason,
  SKIP_REASONS,
  type SkipReason,
} from "../transform/transform.ts";

/** Options for {@linkcode AgentMetrics}. */
export interface AgentMetricsOptions {
  /** The agent's version, for `ammp_agent_build_info`. */
  version: string;
  /** The source revision of the build; `unknown` when absent (`deno run` of a checkout). */
  revision?: string;
  /** Also collect the process metrics (CPU, memory, event-loop lag). */
  processMetrics?: boolean;
}

/** Message counts since the start, as the counters hold them. */
export interface MessageTotals {
  /** Messages taken from the broker. */
  received: number;
  /** Records written. */
  records: number;
  /** Dead letters, of every reason. */
  failed: number;
  /** Messages on topics that carry no data. */
  ignored: number;
}

/** Buckets of the processing-time histogram: 50 µs to 1 s. */
export const PROCESSING_BUCKETS = [
  0.00005,
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
];

/**
 * The agent's metrics. Values that change on every message but are read
 * only at scrape time (timestamps, connection state) are kept as plain
 * numbers and copied into their gauges when Prometheus scrapes.
 */
export class AgentMetrics {
  /** The agent's version. */
  readonly version: string;
  /** The registry `/metrics` serves. */
  readonly registry: Registry = new Registry();
  /** Messages taken from the broker, of any kind. */
  readonly received: Counter;
  /** Records written in full to stdout or `OUTPUT_FILE`, counted once their batch is written. */
  readonly recordsWritten: Counter;
  /** Messages on topics that carry no data. */
  readonly ignored: Counter;
  /** Broker connections lost and attempted again. */
  readonly reconnects: Counter;
  /** Times another client with the same client id took the broker session, for certain or likely. */
  readonly sessionTakeovers: Counter;
  /** Records whose time `t` was too far ahead to count as the newest reading. */
  readonly readingsFromFuture: Counter;
  /** Time from taking a message to handing its record to the sink. */
  readonly processing: Histogram;
  /** Whether the broker connection is up, 0 or 1. */
  connected = 0;
  /** When the last message was received, Unix seconds; 0 before any. */
  lastMessageReceived = 0;
  /**
   * The newest payload `t` seen that was not from the future, Unix seconds;
   * 0 before any. Set through {@linkcode AgentMetrics.observeReadingTime}.
   */
  lastReadingTime = 0;
  /** Payload bytes taken and not yet written. */
  bufferedBytes = 0;
  #failedCounter: Counter<"reason">;
  #failed: Record<DeadLetterReason, { inc(): void }>;
  #skipped: Record<SkipReason, { inc(): void }>;
  #lag: EventLoopLag | undefined;

  /** Registers every metric on a new registry. */
  constructor(options: AgentMetricsOptions) {
    this.version = options.version;
    const registers = [this.registry];
    // A counter; with label names, one series a label value.
    const counter = <T extends string = string>(
      name: string,
      help: string,
      labelNames: readonly T[] = [],
    ) => new Counter<T>({ name, help, labelNames, registers });
    const gauge = (name: string, help: string, read: () => number) =>
      scrapedGauge(this.registry, name, help, read);
    this.received = counter(
      "ammp_agent_messages_received_total",
      "MQTT messages taken from the broker, of any kind.",
    );
    this.recordsWritten = counter(
      "ammp_agent_records_written_total",
      "Records written to stdout or OUTPUT_FILE, counted once written in full.",
    );
    this.ignored = counter(
      "ammp_agent_messages_ignored_total",
      "Messages on topics that carry no data (meta values, logs, bridge state).",
    );
    this.reconnects = counter(
      "ammp_agent_broker_reconnects_total",
      "Times the broker connection was lost and attempted again.",
    );
    this.sessionTakeovers = counter(
      "ammp_agent_broker_session_takeovers_total",
      "Times another client with the same client id took the broker session: for certain (MQTT 5 reason code 142) or likely (the broker closed the connection right after accepting it, twice or more in a row, which a broker or proxy that cuts connections does too).",
    );
    this.readingsFromFuture = counter(
      "ammp_agent_readings_from_future_total",
      `Records whose time t was more than ${FUTURE_READING_SECONDS} s ahead of the agent's clock; they do not move ammp_agent_last_reading_timestamp_seconds.`,
    );
    this.processing = new Histogram({
      name: "ammp_agent_message_processing_seconds",
      help: "Time from taking a message to handing its record or dead letter on.",
      buckets: PROCESSING_BUCKETS,
      registers,
    });
    const failed = counter(
      "ammp_agent_messages_failed_total",
      "Messages that became dead letters, by reason.",
      ["reason"],
    );
    this.#failedCounter = failed;
    this.#failed = labelled(failed, DEAD_LETTER_REASONS);
    const skipped = counter(
      "ammp_agent_readings_skipped_total",
      "Readings or devices left out of records, by reason.",
      ["reason"],
    );
    this.#skipped = labelled(skipped, SKIP_REASONS);
    gauge(
      "ammp_agent_broker_connected",
      "1 while connected to the broker, 0 otherwise.",
      () => this.connected,
    );
    gauge(
      "ammp_agent_last_message_received_timestamp_seconds",
      "When the last message was received, Unix seconds (0 before the first).",
      () => this.lastMessageReceived,
    );
    gauge(
      "ammp_agent_last_reading_timestamp_seconds",
      `The newest reading time t of any record, Unix seconds (0 before the first); times more than ${FUTURE_READING_SECONDS} s ahead are left out.`,
      () => this.lastReadingTime,
    );
    gauge(
      "ammp_agent_buffered_bytes",
      "Payload bytes taken and not yet written; at MAX_BUFFERED_BYTES the agent stops reading.",
      () => this.bufferedBytes,
    );
    const buildInfo = new Gauge({
      name: "ammp_agent_build_info",
      help:
        "Always 1; the labels tell the agent's version, its source revision and Deno's version.",
      labelNames: ["version", "revision", "deno"],
      registers,
    });
    buildInfo.set({
      version: options.version,
      revision: options.revision ?? "unknown",
      deno: Deno.version.deno,
    }, 1);
    if (options.processMetrics ?? true) this.#lag = registerProcessMetrics(this.registry);
  }

  /** Stops sampling the event loop's lag; the metrics stay readable. */
  close(): void {
    this.#lag?.stop();
  }

  /**
   * Takes the reading time `t` of a record written at `nowSeconds` (both
   * Unix seconds): the newest so far becomes the last reading time, unless
   * it lies more than {@linkcode FUTURE_READING_SECONDS} ahead, which is
   * counted instead.
   */
  observeReadingTime(t: number, nowSeconds: number): void {
    if (t > nowSeconds + FUTURE_READING_SECONDS) {
      this.readingsFromFuture.inc();
    } else if (t > this.lastReadingTime) {
      this.lastReadingTime = t;
    }
  }

  /** Counts a dead letter. */
  failed(reason: DeadLetterReason): void {
    this.#failed[reason].inc();
  }

  /** Counts a reading or device left out of a record. */
  skipped(reason: SkipReason): void {
    this.#skipped[reason].inc();
  }

  /** The message counters' values, and the dead letters by reason. */
  async totals(): Promise<{ totals: MessageTotals; failedByReason: Record<string, number> }> {
    const value = async (counter: Counter) => (await counter.get()).values[0]?.value ?? 0;
    const failedByReason: Record<string, number> = {};
    let failed = 0;
    for (const { labels, value } of (await this.#failedCounter.get()).values) {
      failedByReason[String(labels.reason)] = value;
      failed += value;
    }
    return {
      totals: {
        received: await value(this.received),
        records: await value(this.recordsWritten),
        failed,
        ignored: await value(this.ignored),
      },
      failedByReason,
    };
  }

  /** The metrics in the Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

// Binds one child per label value, so every series exists from the start at 0.
function labelled<T extends string>(
  counter: Counter<"reason">,
  reasons: readonly T[],
): Record<T, { inc(): void }> {
  const children = {} as Record<T, { inc(): void }>;
  for (const reason of reasons) {
    const child = counter.labels({ reason });
    child.inc(0);
    children[reason] = child;
  }
  return children;
}
