/**
 * Prometheus's own tools for tests: `promtool` and a real `prometheus`
 * server. Both come with Debian's `prometheus` package. Where they are
 * missing outside CI, the tests that need them are ignored with the reason
 * in their names; with `CI=true` their absence is a failure.
 *
 * @module
 */

import { freePort, which } from "./broker.ts";
import { waitFor } from "./wait_for.ts";

/** Whether a missing Prometheus tool is a failure (on CI) rather than a reason to skip. */
export function prometheusRequired(): boolean {
  return Deno.env.get("CI") === "true";
}

/**
 * Registers a test that needs `tool` on PATH. Without it, the test is
 * ignored and says why in its name, or fails when {@linkcode prometheusRequired}.
 */
export function testWithTool(tool: string, name: string, fn: () => Promise<void>): void {
  if (which(tool) !== undefined) {
    Deno.test(name, fn);
  } else if (prometheusRequired()) {
    Deno.test(name, () => {
      throw new Error(
        `${tool} is not on PATH; it is required with CI=true (apt-get install prometheus)`,
      );
    });
  } else {
    Deno.test({ name: `${name} (ignored: ${tool} not installed)`, ignore: true, fn });
  }
}

/** What a finished command printed. */
export interface CommandResult {
  code: number;
  /** stdout and stderr together, for messages. */
  output: string;
}

/** Runs `promtool` with `args` in `cwd`. */
export async function promtool(args: string[], cwd?: string): Promise<CommandResult> {
  const { code, stdout, stderr } = await new Deno.Command("promtool", {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

/** A sample as Prometheus's HTTP API returns it: Unix seconds and the value as text. */
export type Sample = [number, string];

/** A series of a query result: its labels and its samples. */
export interface Series {
  metric: Record<string, string>;
  /** For an instant vector. */
  value?: Sample;
  /** For a range vector. */
  values?: Sample[];
}

/** A Prometheus server started for a test. */
export interface TestPrometheus {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Evaluates a query now through `/api/v1/query`. */
  query(expr: string): Promise<Series[]>;
  /** GETs an API path and returns its `data`. */
  api(path: string): Promise<unknown>;
  /** What the server logged so far. */
  readonly log: string;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts `prometheus` with the configuration in `configFile`, its storage in
 * a new folder under `dir`, on a free port of 127.0.0.1, and waits until it
 * is ready.
 */
export async function startPrometheus(configFile: string, dir: string): Promise<TestPrometheus> {
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = new Deno.Command("prometheus", {
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=info",
    ],
    cwd: dir,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) log += decoder.decode(chunk, { stream: true });
  })();
  let exited = false;
  child.status.then(() => exited = true);

  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already exited
    }
    await child.status;
    await reading;
  };
  const api = async (path: string) => {
    const response = await fetch(`${url}${path}`);
    const body = await response.json();
    if (body.status !== "success") {
      throw new Error(`Prometheus answered ${path} with ${JSON.stringify(body)}`);
    }
    return body.data;
  };

  try {
    await waitFor(async () => {
      if (exited) throw new Error(`prometheus exited before it was ready:\n${log.slice(-3000)}`);
      try {
        const response = await fetch(`${url}/-/ready`);
        await response.body?.cancel();
        return response.status === 200;
      } catch {
        return false; // not listening yet
      }
    }, {
      what: () => `prometheus to be ready:\n${log.slice(-3000)}`,
      timeoutMs: 30_000,
      intervalMs: 100,
    });
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    url,
    api,
    async query(expr) {
      const data = await api(`/api/v1/query?query=${encodeURIComponent(expr)}`) as {
        result: Series[];
      };
      return data.result;
    },
    get log() {
      return log;
    },
    stop,
  };
}
