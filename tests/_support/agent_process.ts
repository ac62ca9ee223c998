/**
 * The agent as a subprocess, run exactly as users run it: `deno run` with
 * the permission set of `deno.json`.
 *
 * @module
 */

import { AGENT_FLAGS } from "../../scripts/compile.ts";
import { freePort } from "./broker.ts";
import { waitFor } from "./wait_for.ts";

/** The project's root folder. */
export const ROOT = new URL("../../", import.meta.url).pathname;

/**
 * The environment a child process starts with: only what Deno needs to
 * find its cache, no colour, and `extra`; nothing else of the caller's.
 */
export function minimalEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/tmp",
    ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
    NO_COLOR: "1",
    ...extra,
  };
}

/** Options for {@linkcode runTransform}. */
export interface RunTransformOptions {
  /** Set besides {@linkcode minimalEnv}'s. */
  env?: Record<string, string>;
  /** The topic the lines came on (default `x`). */
  topic?: string;
}

/** What {@linkcode runTransform} saw. */
export interface TransformRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `main.ts transform` as users run it, with `input` on its stdin and
 * only {@linkcode minimalEnv} set, and resolves once it has exited.
 */
export async function runTransform(
  input: string,
  options: RunTransformOptions = {},
): Promise<TransformRun> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--permission-set=agent",
      "main.ts",
      "transform",
      "--topic",
      options.topic ?? "x",
    ],
    cwd: ROOT,
    clearEnv: true,
    env: minimalEnv(options.env),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/** Options for {@linkcode startAgent}. */
export interface StartAgentOptions {
  /** Extra arguments after `main.ts`. */
  args?: string[];
  /** Wait until `/readyz` answers 200 (default true). */
  waitReady?: boolean;
  /**
   * The program and its arguments before `args`, e.g. a compiled binary
   * (default: `deno run` of `main.ts` with the `agent` permission set).
   */
  command?: string[];
  /**
   * Start with stdout not read, as {@linkcode AgentProcess.pauseReading}
   * after the start would not quite do: a read already waiting then takes
   * one more chunk from the pipe.
   */
  pauseReading?: boolean;
}

/**
 * A running agent with its stdout split into lines; `await using` kills it
 * (SIGKILL) when the test's scope ends, if it still runs.
 */
export class AgentProcess implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  /** The metrics port. */
  readonly port: number;
  /** Every complete stdout line so far. */
  readonly lines: string[] = [];
  /** Everything on stderr so far. */
  stderr = "";
  #reading: Promise<void>[];
  #partial = "";
  #paused: PromiseWithResolvers<void> | undefined;
  #stdout: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #stderr: ReadableStreamDefaultReader<Uint8Array> | undefined;

  constructor(child: Deno.ChildProcess, port: number, options: { pauseReading?: boolean } = {}) {
    this.child = child;
    this.port = port;
    if (options.pauseReading) this.pauseReading();
    this.#reading = [this.#readStdout(), this.#readStderr()];
  }

  async #readStdout(): Promise<void> {
    const decoder = new TextDecoder();
    this.#stdout = this.child.stdout.getReader();
    while (true) {
      if (this.#paused) await this.#paused.promise;
      let chunk;
      try {
        chunk = await this.#stdout.read();
      } catch {
        return; // cancelled by closeStdout()
      }
      if (chunk.done) return;
      const text = this.#partial + decoder.decode(chunk.value, { stream: true });
      const parts = text.split("\n");
      this.#partial = parts.pop()!;
      this.lines.push(...parts);
    }
  }

  /** Closes the reading end of stdout, as a consumer that died would. */
  async closeStdout(): Promise<void> {
    await this.#stdout?.cancel();
  }

  /**
   * Stops reading stdout, as a stalled consumer would; the pipe fills up.
   * A read already waiting still takes one chunk.
   */
  pauseReading(): void {
    this.#paused ??= Promise.withResolvers<void>();
  }

  /** Reads stdout again after {@linkcode pauseReading}. */
  resumeReading(): void {
    this.#paused?.resolve();
    this.#paused = undefined;
  }

  async #readStderr(): Promise<void> {
    const decoder = new TextDecoder();
    this.#stderr = this.child.stderr.getReader();
    while (true) {
      let chunk;
      try {
        chunk = await this.#stderr.read();
      } catch {
        return; // cancelled by closeStderr()
      }
      if (chunk.done) return;
      this.stderr += decoder.decode(chunk.value, { stream: true });
    }
  }

  /** Closes the reading end of stderr, as a log reader that died would. */
  async closeStderr(): Promise<void> {
    await this.#stderr?.cancel();
  }

  /** The `message` of every complete JSON log line on stderr so far. */
  get logMessages(): string[] {
    const complete = this.stderr.slice(0, this.stderr.lastIndexOf("\n") + 1);
    return complete.split("\n").filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line).message);
  }

  /** What is on stdout after the last newline (should stay empty). */
  get partialLine(): string {
    return this.#partial;
  }

  /** Fetches a path of the agent's HTTP endpoint. */
  async get(path: string): Promise<{ status: number; body: string }> {
    const response = await fetch(`http://127.0.0.1:${this.port}${path}`);
    return { status: response.status, body: await response.text() };
  }

  /** The value of one metric series, e.g. `metric('x_total{reason="a"}')`. */
  async metric(series: string): Promise<number | undefined> {
    const { body } = await this.get("/metrics");
    for (const line of body.split("\n")) {
      if (line.startsWith(series + " ")) return Number(line.slice(series.length + 1));
    }
    return undefined;
  }

  /** Waits until `predicate` holds, polling; throws with `what` on timeout. */
  async waitFor(
    predicate: () => boolean | Promise<boolean>,
    what: string,
    timeoutMs = 15_000,
  ): Promise<void> {
    await waitFor(predicate, {
      what: () => `${what}; stderr:\n${this.stderr.slice(-3000)}`,
      timeoutMs,
    });
  }

  /** Waits until at least `count` stdout lines have arrived. */
  async waitForLines(count: number, timeoutMs = 15_000): Promise<void> {
    await this.waitFor(
      () => this.lines.length >= count,
      `${count} stdout lines (have ${this.lines.length})`,
      timeoutMs,
    );
  }

  /** Sends a signal and waits for the exit code and the end of output. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<number> {
    try {
      this.child.kill(signal);
    } catch {
      // already exited
    }
    return await this.exited();
  }

  /** Kills the agent if it still runs, and waits for the end of its output. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop("SIGKILL");
  }

  /** The exit code once the process has exited within `timeoutMs`; undefined if it still runs. */
  async exitedWithin(timeoutMs: number): Promise<number | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    try {
      return await Promise.race([this.exited(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for the process to exit and its output to be read. */
  async exited(): Promise<number> {
    const { code } = await this.child.status;
    // A paused reader would otherwise wait forever for the rest of stdout.
    this.resumeReading();
    await Promise.all(this.#reading);
    return code;
  }
}

/** Starts `main.ts` (or `options.command`) with `env` and the flags of `deno task start`. */
export async function startAgent(
  env: Record<string, string>,
  options: StartAgentOptions = {},
): Promise<AgentProcess> {
  const port = freePort();
  const [program, ...programArgs] = options.command ?? [
    Deno.execPath(),
    "run",
    "--quiet",
    `--config=${ROOT}deno.json`,
    ...AGENT_FLAGS,
    `${ROOT}main.ts`,
  ];
  const child = new Deno.Command(program, {
    args: [...programArgs, ...(options.args ?? [])],
    cwd: ROOT,
    clearEnv: true,
    env: minimalEnv({ METRICS_LISTEN: `127.0.0.1:${port}`, ...env }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const agent = new AgentProcess(child, port, { pauseReading: options.pauseReading });
  if (options.waitReady ?? true) {
    await agent.waitFor(async () => {
      try {
        return (await agent.get("/readyz")).status === 200;
      } catch {
        return false;
      }
    }, "/readyz to answer 200");
  }
  return agent;
}
