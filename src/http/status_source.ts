/**
 * What the status page at `/` shows, gathered while the agent runs: recent
 * rates, messages per minute and nodes per state over time, and the rest
 * read from the metrics, the fleet view and the settings when the page is
 * asked for.
 *
 * @module
 */

import type { FleetView } from "../fleet/fleet_view.ts";
import type { AgentMetrics } from "../metrics/metrics.ts";
import type { Config } from "../settings/config.ts";
import { FleetHistory } from "./fleet_history.ts";
import { type CountedOutcome, IntervalCounts } from "./interval_counts.ts";
import { RecentRates, renderStatusPage } from "./status_page.ts";

/** Options for {@linkcode StatusSource}. */
export interface StatusSourceOptions {
  metrics: AgentMetrics;
  fleet: FleetView;
  mqtt: Config["mqtt"];
  /** Whether the agent is connected and subscribed. */
  ready: () => boolean;
}

/** The status page's data, and the page. */
export class StatusSource {
  #options: StatusSourceOptions;
  #startedAt = new Date();
  #connectionSince = this.#startedAt;
  #rates = new RecentRates();
  #fleetHistory = new FleetHistory();
  #perMinute = new IntervalCounts(this.#startedAt.getTime() / 1000);
  // Read while starting: the permission to is dropped after.
  #host = hostName();

  /** Starts gathering now. */
  constructor(options: StatusSourceOptions) {
    this.#options = options;
  }

  /** Counts one message taken at `at` (Unix seconds) with its outcome. */
  observe(at: number, outcome: CountedOutcome): void {
    this.#perMinute.add(at, outcome);
  }

  /** The broker connection went up or down. */
  connectionChanged(): void {
    this.#connectionSince = new Date();
  }

  /** Takes a sample of the counters and the node states, for rates and history. */
  async sample(): Promise<void> {
    const at = Date.now();
    const { totals } = await this.#options.metrics.totals();
    this.#rates.add(at, totals);
    this.#fleetHistory.add({ at: at / 1000, counts: this.#options.fleet.table.counts(at / 1000) });
  }

  /** The page, a whole HTML document. */
  async page(): Promise<string> {
    const { metrics, fleet, mqtt } = this.#options;
    const now = new Date();
    const seconds = now.getTime() / 1000;
    const { totals, failedByReason } = await metrics.totals();
    const { lastMessageReceived, lastReadingTime } = metrics;
    const table = fleet.table;
    return renderStatusPage({
      now,
      version: metrics.version,
      host: this.#host,
      startedAt: this.#startedAt,
      connected: metrics.connected === 1,
      subscribed: this.#options.ready(),
      connectionSince: this.#connectionSince,
      broker: mqtt.url,
      clientId: mqtt.clientId,
      topics: mqtt.subscriptions,
      totals,
      failedByReason,
      rates: this.#rates.rates(now.getTime(), totals),
      lastMessageAt: lastMessageReceived > 0 ? new Date(lastMessageReceived * 1000) : undefined,
      newestReadingAt: lastReadingTime > 0 ? new Date(lastReadingTime * 1000) : undefined,
      sites: {
        now: seconds,
        counts: table.counts(seconds),
        notReporting: table.list(seconds).filter((node) => node.state !== "reporting"),
        untracked: table.untracked,
      },
      charts: {
        now: seconds,
        since: this.#startedAt.getTime() / 1000,
        messages: this.#perMinute.whole(seconds),
        intervalSeconds: this.#perMinute.intervalSeconds,
        history: this.#fleetHistory.samples,
      },
    });
  }
}

function hostName(): string | undefined {
  try {
    return Deno.hostname();
  } catch {
    // Without the permission the page names no host.
    return undefined;
  }
}
