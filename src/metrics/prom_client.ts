/**
 * prom-client's Registry, Counter, Gauge and Histogram, each loaded from its
 * own module.
 *
 * prom-client's entry point also loads what the agent does not use: the
 * Summary (and tdigest), the Pushgateway (`node:http`, `node:https`), the
 * cluster aggregator (`node:cluster`) and the default metrics (`perf_hooks`,
 * `v8`, `fs`). Those cost a process about 6 MB of resident memory. This
 * module relies on `lib/registry.js`, `lib/counter.js`, `lib/gauge.js` and
 * `lib/histogram.js` each exporting its class as `module.exports`, checked
 * against prom-client 15.1.3, the version `deno.json` pins; the types are the
 * package's own.
 *
 * @module
 */

import type * as PromClient from "prom-client";
import CounterClass from "prom-client/lib/counter.js";
import GaugeClass from "prom-client/lib/gauge.js";
import HistogramClass from "prom-client/lib/histogram.js";
import RegistryClass from "prom-client/lib/registry.js";

/** prom-client's `Registry`. */
export const Registry = RegistryClass as typeof PromClient.Registry;
/** prom-client's `Registry`. */
export type Registry = PromClient.Registry;
/** prom-client's `Counter`. */
export const Counter = CounterClass as typeof PromClient.Counter;
/** prom-client's `Counter`. */
export type Counter<T extends string = string> = PromClient.Counter<T>;
/** prom-client's `Gauge`. */
export const Gauge = GaugeClass as typeof PromClient.Gauge;
/** prom-client's `Gauge`. */
export type Gauge<T extends string = string> = PromClient.Gauge<T>;
/** prom-client's `Histogram`. */
export const Histogram = HistogramClass as typeof PromClient.Histogram;
/** prom-client's `Histogram`. */
export type Histogram<T extends string = string> = PromClient.Histogram<T>;
