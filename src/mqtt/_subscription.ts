/**
 * Subscribing the session's filters after a connect, or unsubscribing them
 * when the agent leaves, and reading the broker's answer.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import type { MqttClient } from "mqtt";
import type { Config } from "../settings/load_config.ts";

/** Options for {@linkcode subscribeFilters}. */
export interface SubscribeFiltersOptions {
  log: Logger;
  /** Unsubscribe from every filter instead of subscribing. */
  leaving?: boolean;
  /** Called once every filter is granted (when leaving: removed). */
  onDone: () => void;
}

/**
 * Subscribes `client`, just connected, to the configured filters (or
 * unsubscribes it from them), and logs the broker's answer. An answer that
 * comes after the connection was replaced is stale and dropped.
 */
export function subscribeFilters(
  client: MqttClient,
  config: Config["mqtt"],
  options: SubscribeFiltersOptions,
): void {
  const { log, onDone } = options;
  const filters = config.subscriptions;
  const stream = client.stream;
  // The callback for the answer: a failed one is logged with `failure`;
  // `then` takes the rest.
  const whenAnswered =
    <T>(failure: string, then: (result?: T) => void) =>
    (error: Error | null | undefined, result?: T) => {
      if (client.stream !== stream) return;
      if (error) {
        log.error(failure, { topics: filters, error: error.message });
        return;
      }
      then(result);
    };
  if (options.leaving) {
    client.unsubscribe(
      filters,
      whenAnswered("Cannot unsubscribe from {topics}: {error}", () => {
        onDone();
        log.info("Unsubscribed from {topics}; writing what the broker kept for {clientId}", {
          topics: filters,
          clientId: config.clientId,
        });
      }),
    );
    return;
  }
  // Subscribing again is harmless when the broker kept the session, and
  // needed when it lost it (expiry, broker without persistence).
  const subscribeOptions = config.protocolVersion === 5
    ? { qos: config.qos, rh: 1 as const }
    : { qos: config.qos };
  client.subscribe(
    filters,
    subscribeOptions,
    whenAnswered<{ topic: string; qos: number }[]>(
      "Cannot subscribe to {topics}: {error}",
      (granted) => {
        const refused = (granted ?? []).filter((grant) => grant.qos > 2);
        if (refused.length > 0) {
          log.error("The broker refused the subscription to {topics} (reason code {code})", {
            topics: refused.map((grant) => grant.topic),
            code: refused[0].qos,
          });
          return;
        }
        onDone();
        log.info("Subscribed to {topics} at QoS {qos}", { topics: filters, qos: config.qos });
      },
    ),
  );
}
