/**
 * `deno task bench`: measures the agent side by side with the raw limit of
 * broker plus client (`mosquitto_sub`) on one machine, in one run, and
 * prints the figures against the targets. Absolute times on a shared
 * machine are noise; the ratios between consumers of the same run are not.
 *
 * Scenarios: backlog drain, steady-stream latency, idle footprint,
 * start-up, and the transform micro-benchmark. The drain and the stream
 * publish the payloads of one mix (`--mix`, see `generator.ts`); the
 * micro-benchmark measures both mixes and each class of the realistic one.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { freePort, startBroker } from "./broker.ts";
import {
  agentCommand,
  Consumer,
  type ConsumerCommand,
  FILTER,
  floorCommand,
  mosquittoSubCommand,
  ROOT,
  spawnAgent,
  waitReady,
  within,
} from "./consumer.ts";
import {
  type GeneratedMessage,
  type Mix,
  MIXES,
  type PayloadClass,
  PayloadGenerator,
  withProbe,
} from "./generator.ts";
import { cpuSeconds, type MachineInfo, machineInfo, memory } from "./proc.ts";
import {
  connectPublisher,
  nowMicros,
  prepareSession,
  publishBacklog,
  publishSteady,
} from "./publisher.ts";
import { type Distribution, distribution } from "./stats.ts";
import type { LatencyReport } from "./reader.ts";
import {
  benchName,
  CLASS_SAMPLE,
  COMPARE_BENCH,
  FLOOR_BENCH,
  TRANSFORM_BENCH,
  transformSets,
} from "./transform_sets.ts";

const SCENARIOS = ["drain", "latency", "idle", "startup", "transform"] as const;
type Scenario = typeof SCENARIOS[number];

/** The benchmark's settings. */
export interface BenchOptions {
  messages: number;
  /** How many times each consumer drains the backlog. */
  rounds: number;
  seed: number;
  nodes: number;
  /** The payloads of the drain and the steady stream. */
  mix: Mix;
  rates: number[];
  durationSeconds: number;
  /** Seconds of stream at the same rate before measuring, for the JIT. */
  warmupSeconds: number;
  idleSeconds: number;
  startups: number;
  scenarios: Scenario[];
  agentFlags: string[];
  /** A git revision whose agent is measured beside this one (drain, transform). */
  compare?: string;
  /** `deno run` flags for the agent of `compare` (default: `agentFlags`). */
  compareFlags: string[];
  /** Environment variables for the agent of `compare`, e.g. `MAX_NODES=0`. */
  compareEnv: Record<string, string>;
  out: string;
  quick: boolean;
}

const HELP = `Usage: deno task bench [OPTIONS]

Starts its own mosquitto and measures the agent against mosquitto_sub.

  --messages N      backlog size (default 100000; 3000 with --quick)
  --quick           a small, fast run (CI): 3000 messages, 2 s streams after
                    0.5 s of warm-up, 3 s idle, 2 start-ups
  --rounds N        drain the backlog N times with each consumer (default 1);
                    the figures are those of the round with the median ratio
  --rates A,B       steady-stream rates in msg/s (default 1000,10000)
  --duration S      seconds per steady stream (default 10)
  --warmup S        seconds of unmeasured stream before each (default 3)
  --idle S          seconds idle before measuring the footprint (default 30)
  --startups N      start-ups to time (default 5)
  --seed N          seed of the payload generator (default 1)
  --nodes N         node ids the payloads spread over (default 500)
  --mix M           payloads of the drain and the streams: realistic (the
                    default: Python's separators, non-ASCII text, 64-bit
                    counters, repeated and missing _vid, NaN, large sites) or
                    compact (compact ASCII JSON, as in earlier runs); the
                    transform micro-benchmark measures both, and each class
  --only LIST       scenarios, comma-separated: ${SCENARIOS.join(",")}
  --agent-flag F    extra \`deno run\` flag for the agent, repeatable
                    (e.g. --agent-flag=--v8-flags=--optimize-for-size)
  --compare REF     also measure the agent of git revision REF (e.g. main) on
                    the same backlog and in the transform micro-benchmark
  --compare-flag F  extra \`deno run\` flag for the agent of --compare, repeatable
                    (default: those of --agent-flag)
  --compare-env V   NAME=VALUE for the agent of --compare, repeatable; e.g.
                    --compare HEAD --compare-env MAX_NODES=0 measures the
                    cost of the fleet view
  --out PATH        results file (default bench/results/bench-<time>.json)
`;

function parseOptions(args: string[]): BenchOptions | undefined {
  const { values } = parseArgs({
    args,
    options: {
      help: { type: "boolean", short: "h" },
      quick: { type: "boolean" },
      messages: { type: "string" },
      rounds: { type: "string" },
      rates: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      idle: { type: "string" },
      startups: { type: "string" },
      seed: { type: "string" },
      nodes: { type: "string" },
      mix: { type: "string" },
      only: { type: "string" },
      "agent-flag": { type: "string", multiple: true },
      compare: { type: "string" },
      "compare-flag": { type: "string", multiple: true },
      "compare-env": { type: "string", multiple: true },
      out: { type: "string" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return undefined;
  }
  const quick = values.quick ?? false;
  const positive = (name: string, value: string | undefined, fallback: number) => {
    if (value === undefined) return fallback;
    const number = Number(value);
    if (!(number > 0)) throw new RangeError(`Invalid --${name} "${value}": expected a number > 0`);
    return number;
  };
  const scenarios = (values.only ?? SCENARIOS.join(",")).split(",").map((name) => {
    if (!(SCENARIOS as readonly string[]).includes(name)) {
      throw new RangeError(`Invalid --only "${name}": expected some of ${SCENARIOS.join(", ")}`);
    }
    return name as Scenario;
  });
  const mix = values.mix ?? "realistic";
  if (!(MIXES as readonly string[]).includes(mix)) {
    throw new RangeError(`Invalid --mix "${mix}": expected one of ${MIXES.join(", ")}`);
  }
  const stamp = new Date().toISOString().replaceAll(":", "").replace(/\.\d+Z$/, "Z");
  return {
    quick,
    messages: Math.round(positive("messages", values.messages, quick ? 3000 : 100_000)),
    rounds: Math.round(positive("rounds", values.rounds, 1)),
    rates: (values.rates ?? "1000,10000").split(",").map((rate) => positive("rates", rate, 0)),
    durationSeconds: positive("duration", values.duration, quick ? 2 : 10),
    warmupSeconds: values.warmup === "0" ? 0 : positive("warmup", values.warmup, quick ? 0.5 : 3),
    idleSeconds: positive("idle", values.idle, quick ? 3 : 30),
    startups: Math.round(positive("startups", values.startups, quick ? 2 : 5)),
    seed: positive("seed", values.seed, 1),
    nodes: Math.round(positive("nodes", values.nodes, 500)),
    mix: mix as Mix,
    scenarios,
    agentFlags: values["agent-flag"] ?? [],
    compare: values.compare,
    compareFlags: values["compare-flag"] ?? values["agent-flag"] ?? [],
    compareEnv: Object.fromEntries((values["compare-env"] ?? []).map((pair) => {
      const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(pair);
      if (!match) throw new RangeError(`Invalid --compare-env "${pair}": expected NAME=VALUE`);
      return [match[1], match[2]];
    })),
    out: values.out ?? `${ROOT}bench/results/bench-${stamp}.json`,
  };
}

/** One consumer's drain of the backlog. */
export interface DrainResult {
  consumer: string;
  messages: number;
  /** From the first line to the line that completed the backlog. */
  seconds: number;
  messagesPerSecond: number;
  /** Payload megabytes (10^6 bytes) per second. */
  payloadMBPerSecond: number;
  /** Output bytes written on stdout. */
  outputBytes: number;
  /** From exec to the last line, start-up included. */
  wallSeconds: number;
  peakRssBytes: number;
  /** Resident memory when the backlog was drained: anonymous, and mapped files. */
  rssAnonBytes: number;
  rssFileBytes: number;
  /** CPU time of the consumer from its first line to its last. */
  cpuMicrosPerMessage: number;
  /** CPU time of the broker while this consumer drained. */
  brokerCpuMicrosPerMessage: number;
  exitCode: number;
}

/** One round of the backlog scenario: each consumer drains the backlog once. */
export interface DrainRound {
  mosquittoSub: DrainResult;
  agent: DrainResult;
  /** The simplest JavaScript consumer, on the same backlog. */
  floor: DrainResult;
  /** The agent of `--compare`, on the same backlog. */
  compare?: DrainResult;
  /** Agent messages per second / mosquitto_sub messages per second. */
  ratio: number;
  /** Agent messages per second / the floor's. */
  floorRatio: number;
  /** Agent CPU per message / the floor's. */
  floorCpuRatio: number;
}

/** The backlog scenario: the round with the median ratio, and every round. */
export interface DrainScenario extends DrainRound {
  published: { messages: number; bytes: number; seconds: number };
  payloadSizes: Distribution;
  /** The agent's highest peak RSS over all rounds. */
  peakRssBytes: number;
  rounds: DrainRound[];
}

/** One consumer in the steady stream. */
export interface LatencyResult {
  consumer: string;
  expected: number;
  received: number;
  duplicates: number;
  /** Publish-to-read latency in ms. */
  latency: Distribution;
  firstQuarterP50: number;
  lastQuarterP50: number;
  /** p50, p99 and max of each tenth of the stream. */
  tenths: { p50: number; p99: number; max: number }[];
  /** Every record arrived and latency did not grow over the stream. */
  keptUp: boolean;
  /** CPU used while the stream ran, in percent of one core. */
  cpuPercent: number;
}

/** One rate of the steady-stream scenario. */
export interface LatencyScenario {
  rate: number;
  /** The rate the publisher actually achieved. */
  publishedRate: number;
  /** Messages the publisher held back because the broker's window was full. */
  publisherHeld: number;
  seconds: number;
  agent: LatencyResult;
  mosquittoSub: LatencyResult;
}

/** The idle footprint. */
export interface IdleScenario {
  seconds: number;
  rssBytes: number;
  peakRssBytes: number;
  /** Of `rssBytes`: anonymous memory, and mapped files (the executable's code). */
  rssAnonBytes: number;
  rssFileBytes: number;
  cpuPercent: number;
}

/** Start-up times, exec to /readyz answering 200. */
export interface StartupScenario {
  runs: number[];
  median: number;
  min: number;
  max: number;
}

/** The transform micro-benchmark over one set of payloads. */
export interface TransformRow {
  /** Payloads per iteration. */
  payloads: number;
  /** Mean time per payload in microseconds, of the run with the median ratio. */
  floorMicros: number;
  transformMicros: number;
  /** transformMicros / floorMicros. */
  ratio: number;
  /** The ratio of the fastest iterations over all runs: the least disturbed. */
  fastestRatio: number;
  fastestCompareRatio?: number;
  /** The transform of `--compare`, per payload (mixes only). */
  compareMicros?: number;
}

/** A class's row: its payloads are drawn from a sample of the realistic mix. */
export interface TransformClassRow extends TransformRow {
  class: PayloadClass;
  /** How many of the sample's payloads are of the class. */
  inSample: number;
}

/** The transform micro-benchmark. */
export interface TransformScenario {
  /** How many times `deno bench` ran; each row's figures are of its run with the median ratio. */
  runs: number;
  mixes: Record<Mix, TransformRow>;
  /** Realistic payloads the classes are drawn from. */
  sample: number;
  classes: TransformClassRow[];
}

/** One row of the targets table. */
export interface TargetRow {
  figure: string;
  measured: string;
  target: string;
  met: boolean | undefined;
}

/** Everything one run measured. */
export interface BenchResults {
  /** 2: the transform scenario has a row per mix and per class. */
  version: 2;
  startedAt: string;
  finishedAt: string;
  /** The 1-minute load average when the run ended: other work on the machine. */
  loadAverageAtEnd: number;
  options: BenchOptions;
  machine: MachineInfo;
  drain?: DrainScenario;
  latency?: LatencyScenario[];
  idle?: IdleScenario;
  startup?: StartupScenario;
  transform?: TransformScenario;
  targets: TargetRow[];
}

const encoder = new TextEncoder();

function now(): number {
  return performance.timeOrigin + performance.now();
}

function log(message: string): void {
  console.error(`[bench] ${message}`);
}

let runCounter = 0;
function clientId(what: string): string {
  return `bench-${what}-${Date.now().toString(36)}-${runCounter++}`;
}

async function drainWith(
  command: ConsumerCommand,
  expect: number,
  payloadBytes: number,
  brokerPid: number,
): Promise<DrainResult> {
  const brokerCpuBefore = cpuSeconds(brokerPid);
  const consumer = await Consumer.start(command, { mode: "count", expect });
  const { at: spawnedAt } = await consumer.spawned;
  const timeoutMs = 30_000 + expect;
  try {
    await within(consumer.first, timeoutMs, `the first line of ${command.name}`);
    const cpuAtFirst = cpuSeconds(consumer.pid);
    const done = await within(consumer.done, timeoutMs, `${expect} lines of ${command.name}`);
    const cpuAtDone = cpuSeconds(consumer.pid);
    const { peakRss, rssAnon, rssFile } = memory(consumer.pid);
    const brokerCpu = cpuSeconds(brokerPid) - brokerCpuBefore;
    const exit = await consumer.stop("SIGTERM");
    const report = done.report;
    const seconds = (report.lastAt - report.firstAt) / 1000;
    return {
      consumer: command.name,
      messages: report.lines,
      seconds,
      messagesPerSecond: report.lines / seconds,
      payloadMBPerSecond: payloadBytes / seconds / 1e6,
      outputBytes: report.bytes,
      wallSeconds: (report.lastAt - spawnedAt) / 1000,
      peakRssBytes: peakRss,
      rssAnonBytes: rssAnon,
      rssFileBytes: rssFile,
      cpuMicrosPerMessage: (cpuAtDone - cpuAtFirst) * 1e6 / report.lines,
      brokerCpuMicrosPerMessage: brokerCpu * 1e6 / report.lines,
      exitCode: exit.code,
    };
  } catch (error) {
    const exit = await consumer.stop("SIGKILL").catch(() => undefined);
    throw new Error(
      `${(error as Error).message}${exit ? `; stderr of ${command.name}:\n${exit.stderr}` : ""}`,
    );
  }
}

async function runDrain(options: BenchOptions, compareRoot?: string): Promise<DrainScenario> {
  const broker = await startBroker();
  try {
    // Every consumer of every round has its own session, so that each
    // finds the whole backlog queued for it.
    const sessions = Array.from({ length: options.rounds }, () => ({
      sub: clientId("sub"),
      agent: clientId("agent"),
      floor: clientId("floor"),
      compare: compareRoot ? clientId("agent-compare") : undefined,
    }));
    for (const round of sessions) {
      for (const id of [round.sub, round.agent, round.floor, round.compare]) {
        if (id) await prepareSession(broker.url, id, FILTER);
      }
    }

    log(`publishing a backlog of ${options.messages} payloads`);
    const generator = new PayloadGenerator({
      seed: options.seed,
      nodes: options.nodes,
      mix: options.mix,
    });
    const sizes = new Float64Array(options.messages);
    let index = 0;
    const publisher = await connectPublisher(broker.port, clientId("publisher"));
    const published = await publishBacklog(publisher, take(generator, options.messages), {
      onSize: (bytes) => sizes[index++] = bytes,
    });
    await publisher.close();
    log(
      `published ${published.messages} payloads (${(published.bytes / 1e6).toFixed(1)} MB) in ${
        published.seconds.toFixed(1)
      } s`,
    );

    const drain = async (command: ConsumerCommand) => {
      const result = await drainWith(command, options.messages, published.bytes, broker.pid);
      log(`${command.name}: ${Math.round(result.messagesPerSecond)} msg/s`);
      return result;
    };
    const rounds: DrainRound[] = [];
    for (const [n, ids] of sessions.entries()) {
      if (options.rounds > 1) log(`round ${n + 1} of ${options.rounds}`);
      const mosquittoSub = await drain(
        mosquittoSubCommand(broker.port, ids.sub, { persistent: true }),
      );
      const agentRun = () =>
        drain(agentCommand(broker.url, ids.agent, freePort(), { flags: options.agentFlags }));
      const compareRun = (id: string) =>
        drain(agentCommand(broker.url, id, freePort(), {
          flags: options.compareFlags,
          root: compareRoot,
          name: `agent@${options.compare}${
            Object.entries(options.compareEnv).map(([k, v]) => ` ${k}=${v}`).join("")
          }`,
          env: options.compareEnv,
        }));
      let agent: DrainResult;
      let compare: DrainResult | undefined;
      // Alternate which agent drains first, so that neither always meets
      // the broker or the machine in the same state.
      if (ids.compare !== undefined && n % 2 === 0) {
        compare = await compareRun(ids.compare);
        agent = await agentRun();
      } else {
        agent = await agentRun();
        if (ids.compare !== undefined) compare = await compareRun(ids.compare);
      }
      const floor = await drain(floorCommand(broker.url, ids.floor));
      rounds.push({
        mosquittoSub,
        agent,
        floor,
        compare,
        ratio: agent.messagesPerSecond / mosquittoSub.messagesPerSecond,
        floorRatio: agent.messagesPerSecond / floor.messagesPerSecond,
        floorCpuRatio: agent.cpuMicrosPerMessage / floor.cpuMicrosPerMessage,
      });
    }
    const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)];
    return {
      ...median,
      published,
      payloadSizes: distribution(sizes),
      peakRssBytes: Math.max(...rounds.map((round) => round.agent.peakRssBytes)),
      rounds,
    };
  } finally {
    await broker.stop();
  }
}

function* take(generator: PayloadGenerator, count: number): Generator<GeneratedMessage> {
  for (let i = 0; i < count; i++) yield generator.next();
}

function latencyResult(
  name: string,
  expected: number,
  report: LatencyReport,
  cpuSeconds: number,
  seconds: number,
): LatencyResult {
  const firstQuarterP50 = report.firstQuarter.p50;
  const lastQuarterP50 = report.lastQuarter.p50;
  return {
    consumer: name,
    expected,
    received: report.received,
    duplicates: report.duplicates,
    latency: report.all,
    firstQuarterP50,
    lastQuarterP50,
    tenths: report.tenths,
    // A consumer that falls behind builds a queue: latency then grows
    // through the stream instead of staying flat.
    keptUp: report.received === expected && lastQuarterP50 <= firstQuarterP50 + 5,
    cpuPercent: 100 * cpuSeconds / seconds,
  };
}

async function runLatency(options: BenchOptions, rate: number): Promise<LatencyScenario> {
  const broker = await startBroker();
  const expect = Math.round(rate * options.durationSeconds);
  const consumers: Consumer[] = [];
  try {
    const agent = await Consumer.start(
      agentCommand(broker.url, clientId("latency-agent"), freePort(), {
        flags: options.agentFlags,
      }),
      { mode: "latency", expect },
    );
    consumers.push(agent);
    const sub = await Consumer.start(mosquittoSubCommand(broker.port, clientId("latency-sub")), {
      mode: "latency",
      expect,
    });
    consumers.push(sub);
    await agent.ready();

    const generator = new PayloadGenerator({
      seed: options.seed + rate,
      nodes: options.nodes,
      mix: options.mix,
    });
    const publisher = await connectPublisher(broker.port, clientId("publisher"));
    // Probes with sequence -1 until both consumers read one: then both are
    // subscribed and the stream can start.
    let bothReading = false;
    Promise.all([agent.first, sub.first]).then(() => bothReading = true, () => {});
    await within(
      (async () => {
        while (!bothReading) {
          const message = generator.next();
          publisher.publish(
            message.topic,
            encoder.encode(withProbe(message.payload, -1, nowMicros())),
          );
          await publisher.flush();
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })(),
      20_000,
      "both consumers to read",
    );
    // Let the probes' records pass before the stream starts.
    await new Promise((resolve) => setTimeout(resolve, 200));

    // Generated beforehand: generating takes longer than publishing.
    const pool = Array.from({ length: Math.min(expect, 5000) }, () => generator.next());
    let sent = 0;
    if (options.warmupSeconds > 0) {
      log(`warming up at ${rate} msg/s for ${options.warmupSeconds} s`);
      await publishSteady(publisher, () => pool[sent++ % pool.length], {
        rate,
        seconds: options.warmupSeconds,
        warmup: true,
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    log(`steady stream at ${rate} msg/s for ${options.durationSeconds} s`);
    const agentCpu = cpuSeconds(agent.pid);
    const subCpu = cpuSeconds(sub.pid);
    const started = now();
    const published = await publishSteady(publisher, () => pool[sent++ % pool.length], {
      rate,
      seconds: options.durationSeconds,
    });
    // Allow a consumer that fell behind some time to catch up.
    const settle = (consumer: Consumer) =>
      within(consumer.done, 5_000 + options.durationSeconds * 1000, "").then(
        () => undefined,
        () => undefined,
      );
    await Promise.all([settle(agent), settle(sub)]);
    const seconds = (now() - started) / 1000;
    const agentCpuUsed = cpuSeconds(agent.pid) - agentCpu;
    const subCpuUsed = cpuSeconds(sub.pid) - subCpu;
    await publisher.close();
    const agentExit = await agent.stop();
    const subExit = await sub.stop();
    const result = (name: string, report: LatencyReport | undefined, cpu: number) => {
      if (report === undefined) throw new Error(`${name} reported no latencies`);
      return latencyResult(name, expect, report, cpu, seconds);
    };
    return {
      rate,
      publishedRate: published.rate,
      publisherHeld: published.held,
      seconds: published.seconds,
      agent: result("agent", agentExit.report.latency, agentCpuUsed),
      mosquittoSub: result("mosquitto_sub", subExit.report.latency, subCpuUsed),
    };
  } finally {
    for (const consumer of consumers) await consumer.stop("SIGKILL").catch(() => {});
    await broker.stop();
  }
}

async function runIdle(options: BenchOptions): Promise<IdleScenario> {
  const broker = await startBroker();
  const port = freePort();
  const command = agentCommand(broker.url, clientId("idle"), port, { flags: options.agentFlags });
  const child = spawnAgent(command);
  try {
    await waitReady(command.readyUrl!, 20_000, 50);
    const cpuBefore = cpuSeconds(child.pid);
    log(`agent idle for ${options.idleSeconds} s`);
    await new Promise((resolve) => setTimeout(resolve, options.idleSeconds * 1000));
    const cpu = cpuSeconds(child.pid) - cpuBefore;
    const { rss, peakRss, rssAnon, rssFile } = memory(child.pid);
    return {
      seconds: options.idleSeconds,
      rssBytes: rss,
      peakRssBytes: peakRss,
      rssAnonBytes: rssAnon,
      rssFileBytes: rssFile,
      cpuPercent: 100 * cpu / options.idleSeconds,
    };
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await broker.stop();
  }
}

async function runStartup(options: BenchOptions): Promise<StartupScenario> {
  const broker = await startBroker();
  const runs: number[] = [];
  try {
    for (let i = 0; i < options.startups; i++) {
      const command = agentCommand(broker.url, clientId("startup"), freePort(), {
        flags: options.agentFlags,
      });
      const started = now();
      const child = spawnAgent(command);
      try {
        const readyAt = await waitReady(command.readyUrl!, 20_000, 2);
        runs.push(readyAt - started);
      } finally {
        child.kill("SIGTERM");
        await child.status;
      }
    }
  } finally {
    await broker.stop();
  }
  const sorted = [...runs].sort((a, b) => a - b);
  return {
    runs,
    median: sorted[Math.floor(sorted.length / 2)],
    min: sorted[0],
    max: sorted[sorted.length - 1],
  };
}

interface DenoBenchJson {
  benches: {
    name: string;
    results: { ok?: { avg: number; min: number; n: number } }[];
  }[];
}

// The transform's module in a checkout: in src/transform/, or at the top
// of src/ in revisions before src/ had a folder per part.
function transformModule(root: string): string {
  const module = `${root}src/transform/transform.ts`;
  try {
    Deno.statSync(module);
    return module;
  } catch {
    return `${root}src/transform.ts`;
  }
}

async function runTransform(
  compareRoot: string | undefined,
  runs: number,
): Promise<TransformScenario> {
  const sets = transformSets();
  type Sample = { floor: number; transform: number; compare?: number };
  const perRun: Sample[][] = sets.map(() => []);
  const fastest = sets.map(() => ({ floor: Infinity, transform: Infinity, compare: Infinity }));
  for (let run = 0; run < runs; run++) {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "bench",
        "--quiet",
        "--json",
        "--allow-env=BENCH_COMPARE_TRANSFORM",
        ...(compareRoot ? [`--allow-read=${compareRoot}`] : []),
        `${ROOT}bench/transform_bench.ts`,
      ],
      cwd: ROOT,
      env: {
        NO_COLOR: "1",
        ...(compareRoot ? { BENCH_COMPARE_TRANSFORM: transformModule(compareRoot) } : {}),
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (code !== 0) {
      throw new Error(`deno bench failed: ${new TextDecoder().decode(stderr).trim()}`);
    }
    const json = JSON.parse(new TextDecoder().decode(stdout)) as DenoBenchJson;
    for (const [i, set] of sets.entries()) {
      // Microseconds per payload: the mean, and the fastest iteration.
      const time = (bench: string) => {
        const name = benchName(bench, set.name);
        const ok = json.benches.find((bench) => bench.name === name)?.results[0]?.ok;
        if (ok === undefined) throw new Error(`deno bench reported no result for "${name}"`);
        return {
          avg: ok.avg / 1000 / set.messages.length,
          min: ok.min / 1000 / set.messages.length,
        };
      };
      const floor = time(FLOOR_BENCH);
      const transform = time(TRANSFORM_BENCH);
      const compare = compareRoot && set.mix ? time(COMPARE_BENCH) : undefined;
      perRun[i].push({ floor: floor.avg, transform: transform.avg, compare: compare?.avg });
      fastest[i].floor = Math.min(fastest[i].floor, floor.min);
      fastest[i].transform = Math.min(fastest[i].transform, transform.min);
      if (compare) fastest[i].compare = Math.min(fastest[i].compare, compare.min);
    }
  }
  // The run with the median ratio stands for all; on a busy machine single
  // runs stray.
  const rows = sets.map((set, i): TransformRow => {
    const sorted = [...perRun[i]].sort((a, b) => a.transform / a.floor - b.transform / b.floor);
    const median = sorted[Math.floor(sorted.length / 2)];
    const compared = median.compare !== undefined;
    return {
      payloads: set.messages.length,
      floorMicros: median.floor,
      transformMicros: median.transform,
      ratio: median.transform / median.floor,
      fastestRatio: fastest[i].transform / fastest[i].floor,
      ...(compared
        ? {
          compareMicros: median.compare,
          fastestCompareRatio: fastest[i].compare / fastest[i].floor,
        }
        : {}),
    };
  });
  const mix = (name: Mix) => rows[sets.findIndex((set) => set.mix === name)];
  return {
    runs,
    mixes: { compact: mix("compact"), realistic: mix("realistic") },
    sample: CLASS_SAMPLE,
    classes: sets.flatMap((set, i) =>
      set.class === undefined ? [] : [{ class: set.class, inSample: set.inSample!, ...rows[i] }]
    ),
  };
}

// Formatting ---------------------------------------------------------------

const MB = 1024 * 1024;

function fixed(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "n/a";
}

function thousands(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "n/a";
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, i) =>
    Math.max(cell.length, ...rows.map((row) => row[i].length))
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join(
    "\n",
  );
}

function targets(results: BenchResults): TargetRow[] {
  const rows: TargetRow[] = [];
  const { drain, latency, idle, startup, transform } = results;
  if (drain) {
    rows.push({
      figure: "backlog drain, agent / mosquitto_sub, same run",
      measured: fixed(drain.ratio, 2),
      target: "at least 0.9",
      met: drain.ratio >= 0.9,
    });
    rows.push({
      figure: "backlog drain, agent / floor (minimal JS consumer), same run",
      measured: fixed(drain.floorRatio, 2),
      target: "at least 1.0",
      met: drain.floorRatio >= 1,
    });
    rows.push({
      figure: "CPU per message, agent / floor",
      measured: fixed(drain.floorCpuRatio, 2),
      target: "at most 1.0",
      met: drain.floorCpuRatio <= 1,
    });
    rows.push({
      figure: `peak RSS during the ${thousands(drain.agent.messages)} drain`,
      measured: `${fixed(drain.peakRssBytes / MB)} MB`,
      target: "at most 110 MB",
      met: drain.peakRssBytes <= 110 * MB,
    });
  }
  if (idle) {
    rows.push({
      figure: `idle RSS (after ${idle.seconds} s)`,
      measured: `${fixed(idle.rssBytes / MB)} MB`,
      target: "at most 64 MB",
      met: idle.rssBytes <= 64 * MB,
    });
  }
  for (const scenario of latency ?? []) {
    const limit = scenario.rate <= 1000 ? 5 : scenario.rate <= 10_000 ? 20 : undefined;
    const p99 = scenario.agent.latency.p99;
    rows.push({
      figure: `p99 latency at ${thousands(scenario.rate)} msg/s`,
      measured: `${fixed(p99, 2)} ms${scenario.agent.keptUp ? "" : ", fell behind"}`,
      target: limit === undefined
        ? "none"
        : `at most ${limit} ms${scenario.rate > 1000 ? ", no growing backlog" : ""}`,
      met: limit === undefined ? undefined : p99 <= limit && scenario.agent.keptUp,
    });
  }
  if (startup) {
    rows.push({
      figure: "start-up to ready (median)",
      measured: `${fixed(startup.median, 0)} ms`,
      target: "at most 300 ms",
      met: startup.median <= 300,
    });
  }
  if (transform) {
    for (const mix of MIXES) {
      const { ratio } = transform.mixes[mix];
      rows.push({
        figure: `transform / (parse + stringify), ${mix} mix`,
        measured: fixed(ratio, 2),
        target: "at most 1.5",
        met: ratio <= 1.5,
      });
    }
    // No kind of payload may cost the agent more than the floor spends on it.
    const costliest = costliestClass(transform);
    if (costliest !== undefined) {
      rows.push({
        figure: "transform / (parse + stringify), costliest class",
        measured: `${fixed(costliest.ratio, 2)} (${costliest.class})`,
        target: "at most 1.0",
        met: costliest.ratio <= 1,
      });
    }
  }
  return rows;
}

function costliestClass(transform: TransformScenario): TransformClassRow | undefined {
  return [...transform.classes].sort((a, b) => b.ratio - a.ratio)[0];
}

/** The results as Markdown tables. */
export function formatResults(results: BenchResults): string {
  const out: string[] = [];
  const { machine, drain, latency, idle, startup, transform, options } = results;
  out.push(
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, ` +
      `Deno ${machine.deno}; load average ${fixed(machine.loadAverage, 2)} at start, ${
        fixed(results.loadAverageAtEnd, 2)
      } at end.`,
  );
  if (drain) {
    const sizes = drain.payloadSizes;
    out.push(
      "",
      `Backlog drain: ${thousands(drain.published.messages)} payloads of the ${options.mix} mix, ` +
        `${fixed(drain.published.bytes / 1e6)} MB, sizes p50 ${thousands(sizes.p50)} B, ` +
        `p90 ${thousands(sizes.p90)} B, p99 ${thousands(sizes.p99)} B, max ${
          thousands(sizes.max)
        } B.`,
      "",
      table(
        [
          ...(drain.rounds.length > 1 ? ["round"] : []),
          "consumer",
          "msg/s",
          "payload MB/s",
          "CPU µs/msg",
          "broker CPU µs/msg",
          "peak RSS",
          "s (exec to last)",
        ],
        drain.rounds.flatMap((round, n) =>
          [
            round.mosquittoSub,
            round.floor,
            ...(round.compare ? [round.compare] : []),
            round.agent,
          ].map((r) => [
            ...(drain.rounds.length > 1 ? [String(n + 1)] : []),
            r.consumer,
            thousands(r.messagesPerSecond),
            fixed(r.payloadMBPerSecond),
            fixed(r.cpuMicrosPerMessage),
            fixed(r.brokerCpuMicrosPerMessage),
            `${fixed(r.peakRssBytes / MB)} MB`,
            fixed(r.wallSeconds, 2),
          ])
        ),
      ),
    );
  }
  if (latency && latency.length > 0) {
    out.push(
      "",
      `Steady stream of the ${options.mix} mix, publish to line read (ms):`,
      "",
      table(
        ["rate", "consumer", "p50", "p99", "max", "received", "kept up", "CPU %"],
        latency.flatMap((s) =>
          [s.mosquittoSub, s.agent].map((r) => [
            `${thousands(s.rate)}/s (sent ${thousands(s.publishedRate)}/s)`,
            r.consumer,
            fixed(r.latency.p50, 2),
            fixed(r.latency.p99, 2),
            fixed(r.latency.max, 2),
            `${thousands(r.received)}/${thousands(r.expected)}`,
            r.keptUp ? "yes" : "no",
            fixed(r.cpuPercent, 0),
          ])
        ),
      ),
    );
  }
  const footprint: string[] = [];
  if (idle) {
    footprint.push(
      `Idle after ${idle.seconds} s: RSS ${fixed(idle.rssBytes / MB)} MB ` +
        `(${fixed(idle.rssAnonBytes / MB)} MB anonymous, ${
          fixed(idle.rssFileBytes / MB)
        } MB mapped files; peak ${fixed(idle.peakRssBytes / MB)} MB), ` +
        `CPU ${fixed(idle.cpuPercent, 2)} % of a core.`,
    );
  }
  if (startup) {
    footprint.push(
      `Start-up, exec to /readyz 200: median ${fixed(startup.median, 0)} ms ` +
        `(min ${fixed(startup.min, 0)}, max ${
          fixed(startup.max, 0)
        }, ${startup.runs.length} runs).`,
    );
  }
  if (footprint.length > 0) out.push("", ...footprint);
  if (transform) out.push(...formatTransform(transform, options.compare));
  out.push(
    "",
    table(
      ["figure", "measured", "target", "met"],
      results.targets.map((row) => [
        row.figure,
        row.measured,
        row.target,
        row.met === undefined ? "" : row.met ? "yes" : "no",
      ]),
    ),
  );
  return out.join("\n");
}

function formatTransform(transform: TransformScenario, compare: string | undefined): string[] {
  const compared = compare !== undefined;
  const pct = (part: number, whole: number) => `${fixed(100 * part / whole)} %`;
  return [
    "",
    `Transform micro-benchmark, µs per payload (each row the median ratio of ${transform.runs} ` +
    "runs; floor: decode, JSON.parse with NaN read as null, JSON.stringify):",
    "",
    table(
      [
        "payloads",
        "per iteration",
        "floor µs",
        "transform µs",
        "ratio",
        "fastest ratio",
        ...(compared ? [`${compare} µs`, `${compare} ratio`] : []),
      ],
      MIXES.map((mix) => {
        const row = transform.mixes[mix];
        return [
          `${mix} mix`,
          thousands(row.payloads),
          fixed(row.floorMicros),
          fixed(row.transformMicros),
          fixed(row.ratio, 2),
          fixed(row.fastestRatio, 2),
          ...(compared
            ? [
              fixed(row.compareMicros ?? NaN),
              fixed((row.compareMicros ?? NaN) / row.floorMicros, 2),
            ]
            : []),
        ];
      }),
    ),
    "",
    `By class, of ${thousands(transform.sample)} payloads of the realistic mix (a payload can be ` +
    "of several classes):",
    "",
    table(
      ["class", "payloads", "share", "measured on", "floor µs", "transform µs", "ratio", "fastest"],
      transform.classes.map((row) => [
        row.class,
        thousands(row.inSample),
        pct(row.inSample, transform.sample),
        thousands(row.payloads),
        fixed(row.floorMicros),
        fixed(row.transformMicros),
        fixed(row.ratio, 2),
        fixed(row.fastestRatio, 2),
      ]),
    ),
  ];
}

/** Runs the scenarios and resolves to their results. */
export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const results: BenchResults = {
    version: 2,
    startedAt: new Date().toISOString(),
    finishedAt: "",
    loadAverageAtEnd: NaN,
    options,
    machine: machineInfo(),
    targets: [],
  };
  const compareRoot = options.compare === undefined ? undefined : await checkout(options.compare);
  try {
    await runScenarios(options, results, compareRoot);
  } finally {
    if (compareRoot) await Deno.remove(compareRoot, { recursive: true });
  }
  results.finishedAt = new Date().toISOString();
  results.loadAverageAtEnd = Deno.loadavg()[0];
  results.targets = targets(results);
  return results;
}

async function runScenarios(
  options: BenchOptions,
  results: BenchResults,
  compareRoot: string | undefined,
): Promise<void> {
  const want = (scenario: Scenario) => options.scenarios.includes(scenario);
  if (want("drain")) results.drain = await runDrain(options, compareRoot);
  if (want("latency")) {
    results.latency = [];
    for (const rate of options.rates) results.latency.push(await runLatency(options, rate));
  }
  if (want("startup")) {
    log(`timing ${options.startups} start-ups`);
    results.startup = await runStartup(options);
  }
  if (want("idle")) results.idle = await runIdle(options);
  if (want("transform")) {
    log("running the transform micro-benchmark");
    results.transform = await runTransform(compareRoot, options.quick ? 1 : 3);
  }
}

// Extracts git revision `ref` of this repository into a temporary folder.
async function checkout(ref: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "ammp-agent-bench-compare-" });
  const { code, stderr } = await new Deno.Command("sh", {
    args: ["-c", 'git -C "$1" archive --format=tar "$2" | tar -x -C "$3"', "sh", ROOT, ref, dir],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    await Deno.remove(dir, { recursive: true });
    throw new Error(
      `Cannot check out "${ref}" to compare with: ${new TextDecoder().decode(stderr).trim()}`,
    );
  }
  log(`comparing with ${ref}`);
  return `${dir}/`;
}

async function main(args: string[]): Promise<number> {
  let options;
  try {
    options = parseOptions(args);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  if (options === undefined) return 0;
  const results = await runBench(options);
  console.log(formatResults(results));
  const dir = options.out.slice(0, options.out.lastIndexOf("/") + 1) || ".";
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(options.out, JSON.stringify(results, null, 2) + "\n");
  log(`results written to ${options.out}`);
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
