/**
 * Consumers under measurement, each started through its own reader
 * process (`reader.ts`) that reads its stdout: the agent as users run it,
 * and `mosquitto_sub` as the raw limit of broker plus client.
 *
 * @module
 */

import { agentFlags } from "../scripts/compile.ts";
import type { ReaderEvent, ReaderReport } from "./reader.ts";
import { minimalEnv } from "../tests/_support/agent_process.ts";

/** The project's root folder. */
export const ROOT: string = new URL("../", import.meta.url).pathname;

/** The topic filter every consumer subscribes to. */
export const FILTER = "a/+/u/data";

/** A command line and the environment it needs. */
export interface ConsumerCommand {
  /** `agent`, `agent@<ref>` or `mosquitto_sub`. */
  name: string;
  args: string[];
  env: Record<string, string>;
  /** The agent's `/readyz`, for the agent. */
  readyUrl?: string;
}

/** Options for {@linkcode agentCommand}. */
export interface AgentCommandOptions {
  /** Extra `deno run` flags, e.g. `--v8-flags=...` or `--cpu-prof`. */
  flags?: string[];
  /** Further environment variables. */
  env?: Record<string, string>;
  /** Run the agent of another checkout (default: this one). */
  root?: string;
  /** The consumer's name in the results (default `agent`). */
  name?: string;
}

/**
 * The flags between `deno run` and `main.ts` of the `start` task of the
 * checkout at `root`: the permission set and V8 flags users run with.
 */
export function startTaskFlags(root: string): string[] {
  const config = JSON.parse(Deno.readTextFileSync(`${root}deno.json`));
  return agentFlags(config.tasks.start);
}

/** The agent as users run it: `deno run`, the flags of `deno task start`, `main.ts`. */
export function agentCommand(
  brokerUrl: string,
  clientId: string,
  metricsPort: number,
  options: AgentCommandOptions = {},
): ConsumerCommand {
  const root = options.root ?? ROOT;
  return {
    name: options.name ?? "agent",
    args: [
      Deno.execPath(),
      "run",
      "--quiet",
      `--config=${root}deno.json`,
      ...startTaskFlags(root),
      ...(options.flags ?? []),
      `${root}main.ts`,
    ],
    env: {
      MQTT_URL: brokerUrl,
      MQTT_CLIENT_ID: clientId,
      MQTT_TOPICS: FILTER,
      METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
      ...options.env,
    },
    readyUrl: `http://127.0.0.1:${metricsPort}/readyz`,
  };
}

/**
 * The floor: the simplest JavaScript consumer (`floor_consumer.ts`), with
 * the Deno flags of the agent's `start` task but every permission it needs.
 */
export function floorCommand(brokerUrl: string, clientId: string): ConsumerCommand {
  const flags = startTaskFlags(ROOT).filter((flag) => !flag.startsWith("--permission-set"));
  return {
    name: "floor (minimal JS consumer)",
    args: [
      Deno.execPath(),
      "run",
      "--quiet",
      `--config=${ROOT}deno.json`,
      ...flags,
      "--allow-env",
      "--allow-net",
      `${ROOT}bench/floor_consumer.ts`,
    ],
    env: { MQTT_URL: brokerUrl, MQTT_CLIENT_ID: clientId, MQTT_TOPICS: FILTER },
  };
}

/** Options for {@linkcode mosquittoSubCommand}. */
export interface MosquittoSubOptions {
  /** Exit after this many messages. */
  count?: number;
  /** Resume a persistent session (clean start off). */
  persistent?: boolean;
  /** The receive maximum announced to the broker; the agent's default is 1000. */
  receiveMaximum?: number;
}

/** `mosquitto_sub` at QoS 1, printing each payload on its own line. */
export function mosquittoSubCommand(
  port: number,
  clientId: string,
  options: MosquittoSubOptions = {},
): ConsumerCommand {
  const args = ["mosquitto_sub", "-h", "127.0.0.1", "-p", String(port), "-V", "5"];
  args.push("-i", clientId, "-q", "1", "-t", FILTER);
  args.push("-D", "connect", "receive-maximum", String(options.receiveMaximum ?? 1000));
  if (options.persistent) args.push("-c", "-x", "3600");
  if (options.count !== undefined) args.push("-C", String(options.count));
  return { name: "mosquitto_sub", args, env: {} };
}

/** Options for {@linkcode Consumer.start}. */
export interface ConsumerStartOptions {
  mode: "count" | "latency";
  /** Lines (count) or probed sequence numbers (latency) to wait for. */
  expect: number;
}

/** A consumer running under its reader, with the reader's events. */
export class Consumer {
  readonly command: ConsumerCommand;
  readonly reader: Deno.ChildProcess;
  /** When the consumer was spawned (ms since the epoch, reader's clock). */
  readonly spawned: Promise<{ pid: number; at: number }>;
  /** When its first line arrived. */
  readonly first: Promise<number>;
  /** When the expected lines had arrived, and what the reader saw. */
  readonly done: Promise<{ at: number; report: ReaderReport }>;
  /** The consumer's exit code and what the reader saw in all. */
  readonly exit: Promise<{ code: number; report: ReaderReport; stderr: string }>;
  #pid = 0;

  private constructor(command: ConsumerCommand, options: ConsumerStartOptions) {
    this.command = command;
    const reader = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-run",
        `${ROOT}bench/reader.ts`,
        `--mode=${options.mode}`,
        `--expect=${options.expect}`,
        "--",
        ...command.args,
      ],
      cwd: ROOT,
      clearEnv: true,
      env: minimalEnv(command.env),
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.reader = reader;
    const spawned = Promise.withResolvers<{ pid: number; at: number }>();
    const first = Promise.withResolvers<number>();
    const done = Promise.withResolvers<{ at: number; report: ReaderReport }>();
    const exit = Promise.withResolvers<{ code: number; report: ReaderReport; stderr: string }>();
    this.spawned = spawned.promise;
    this.first = first.promise;
    this.done = done.promise;
    this.exit = exit.promise;
    // A consumer that ends early rejects what did not happen; nobody may
    // be waiting for those, so their rejections must not go unhandled.
    for (const promise of [this.spawned, this.first, this.done]) promise.catch(() => {});
    (async () => {
      let buffer = "";
      const decoder = new TextDecoder();
      for await (const chunk of reader.stdout) {
        buffer += decoder.decode(chunk, { stream: true });
        let newline;
        while ((newline = buffer.indexOf("\n")) !== -1) {
          const event = JSON.parse(buffer.slice(0, newline)) as ReaderEvent;
          buffer = buffer.slice(newline + 1);
          switch (event.event) {
            case "spawned":
              this.#pid = event.pid;
              spawned.resolve(event);
              break;
            case "first":
              first.resolve(event.at);
              break;
            case "done":
              done.resolve(event);
              break;
            case "exit":
              exit.resolve(event);
              break;
          }
        }
      }
      await reader.status;
      const ended = new Error(`The reader of ${command.name} ended early`);
      for (const deferred of [spawned, first, done, exit]) deferred.reject(ended);
    })();
  }

  /** Starts `command` under a reader. */
  static async start(command: ConsumerCommand, options: ConsumerStartOptions): Promise<Consumer> {
    const consumer = new Consumer(command, options);
    await consumer.spawned;
    return consumer;
  }

  /** The consumer's process id. */
  get pid(): number {
    return this.#pid;
  }

  /** Sends a signal to the consumer (not its reader); ignored once it is gone. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      Deno.kill(this.#pid, signal);
    } catch {
      // already exited
    }
  }

  /** Waits until the agent's `/readyz` answers 200. */
  async ready(timeoutMs = 20_000): Promise<void> {
    const url = this.command.readyUrl;
    if (url === undefined) return;
    await waitReady(url, timeoutMs, 10);
  }

  /** Stops the consumer and waits for its reader's last report. */
  async stop(
    signal: Deno.Signal = "SIGTERM",
  ): Promise<{ code: number; report: ReaderReport; stderr: string }> {
    this.kill(signal);
    const timer = setTimeout(() => this.kill("SIGKILL"), 15_000);
    try {
      return await this.exit;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Polls `url` every `everyMs` until it answers 200; resolves to when it did. */
export async function waitReady(url: string, timeoutMs: number, everyMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url);
      await response.body?.cancel();
      if (response.status === 200) return performance.timeOrigin + performance.now();
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`${url} did not answer 200 in time`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Resolves to `promise`, or rejects with `what` after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts a consumer on its own, its output thrown away: for what is measured from outside. */
export function spawnAgent(command: ConsumerCommand): Deno.ChildProcess {
  const [program, ...args] = command.args;
  return new Deno.Command(program, {
    args,
    cwd: ROOT,
    clearEnv: true,
    env: minimalEnv(command.env),
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}
