/**
 * `deno task dev`: the agent as `deno task start` runs it, with the settings
 * of `./.env` and a client id of its own, started again whenever one of its
 * modules changes.
 *
 * The agent runs as a child of this process rather than under
 * `deno run --watch`, which waits for a change whatever ended the program:
 * here its exit is seen. A first start that fails (a bad setting, exit 2;
 * the metrics port taken, exit 1) ends `deno task dev` with the agent's
 * code. SIGINT, SIGTERM and SIGHUP stop the agent (SIGTERM, so it drains)
 * and then this process, leaving nothing behind; SIGHUP too, since here it
 * means the terminal is gone, not that output files were rotated. Once the
 * agent has been started again for a change, an exit of its own (a typo in
 * the module just saved) waits for the next change instead.
 *
 * Unless `MQTT_CLIENT_ID` is set, in the environment or in the env file,
 * the agent connects as `ammp-agent-<hostname>-dev`: the broker keeps one
 * session per client id, and an agent in development must not take over
 * the session of the one installed on the same host.
 *
 * @module
 */

import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { AGENT_FLAGS, ROOT } from "../scripts/compile.ts";
import { ENV_VARS, loadSections } from "../src/settings/load_config.ts";
import { readEnvFile } from "../src/settings/env_file.ts";
import { logger, setupLogging } from "../src/log.ts";

/**
 * The flags the agent runs with under `dev`: those of `deno task start`,
 * but keeping the code cache, since it starts often.
 */
export const DEV_FLAGS: readonly string[] = AGENT_FLAGS.filter((flag) =>
  flag !== "--no-code-cache"
);

/** How long a save may go on writing before the agent starts again. */
const SETTLE_MS = 100;

const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** The env file the agent reads, and whether `dev` adds the `--env-file` for it. */
interface EnvFile {
  path: string;
  added: boolean;
}

/**
 * Runs the agent with `args` until a signal, or until its first start
 * exits; resolves to the exit code.
 */
export async function main(args: string[]): Promise<number> {
  const log = logger("dev");
  let stopping = false;
  const stop = Promise.withResolvers<{ stopped: true }>();
  const listeners = STOP_SIGNALS.map((signal) =>
    [signal, () => {
      // Ctrl-C arrives more than once: from the terminal and passed on by `deno task`.
      if (stopping) return;
      stopping = true;
      if (signal !== "SIGINT") log.info("Received {signal}, stopping the agent", { signal });
      stop.resolve({ stopped: true });
    }] as const
  );
  // The listeners stay until the process exits: a Ctrl-C passed on late
  // must not end this process while the agent drains, or after.
  for (const [signal, listener] of listeners) Deno.addSignalListener(signal, listener);
  let restarted = false;
  let code = 0;
  let modules = [`${ROOT}main.ts`];
  while (!stopping) {
    const envFile = _envFile(args);
    const env = _settings(envFile);
    setupLogging(_logging(env));
    modules = await _modules() ?? modules;
    using watcher = new _ChangeWatcher(envFile ? [...modules, resolve(envFile.path)] : modules);
    const agent = _startAgent(args, envFile, env);
    const outcome = await Promise.race([
      agent.status.then(({ code }) => ({ exited: code })),
      watcher.changed.then((path) => ({ changed: path })),
      stop.promise,
    ]);
    if ("exited" in outcome) {
      code = outcome.exited;
      if (!restarted) return code;
      log.warning("The agent exited with code {code}; it starts again on the next change", {
        code,
      });
      const next = await Promise.race([
        watcher.changed.then((path) => ({ changed: path })),
        stop.promise,
      ]);
      if ("stopped" in next) return code;
      log.info("{path} changed, starting the agent", { path: next.changed });
    } else {
      if ("changed" in outcome) {
        log.info("{path} changed, restarting the agent", { path: outcome.changed });
      }
      try {
        agent.kill("SIGTERM");
      } catch {
        // it has just exited
      }
      code = (await agent.status).code;
      if ("stopped" in outcome) return code;
    }
    restarted = true;
  }
  return code;
}

// `--env-file` of `args` when given, else ./.env when there is one.
function _envFile(args: readonly string[]): EnvFile | undefined {
  const at = args.findIndex((arg) => arg === "--env-file" || arg.startsWith("--env-file="));
  if (at !== -1) {
    const path = args[at] === "--env-file" ? args[at + 1] : args[at].slice("--env-file=".length);
    return path === undefined ? undefined : { path, added: false };
  }
  try {
    return Deno.statSync(".env").isFile ? { path: ".env", added: true } : undefined;
  } catch {
    return undefined;
  }
}

// The settings as the agent will read them: the env file, then the
// environment, which wins. A file it cannot read is left for the agent to
// report, with exit code 2.
function _settings(envFile: EnvFile | undefined): Record<string, string | undefined> {
  let env: Record<string, string | undefined> = {};
  try {
    if (envFile) env = readEnvFile(envFile.path);
  } catch {
    // the agent says why
  }
  for (const name of ENV_VARS) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

// The agent's log level and format; a bad one is the agent's to report.
function _logging(env: Record<string, string | undefined>) {
  try {
    return loadSections(env, ["log"]).log;
  } catch {
    return loadSections({}, ["log"]).log;
  }
}

// The files of the agent's modules, as `deno run --watch` would watch them;
// undefined when Deno cannot tell (the last list stays).
async function _modules(): Promise<string[] | undefined> {
  const { success, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", `--config=${ROOT}deno.json`, `${ROOT}main.ts`],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  if (!success) return undefined;
  const { modules } = JSON.parse(new TextDecoder().decode(stdout)) as {
    modules: { specifier: string }[];
  };
  const files = modules.map(({ specifier }) => specifier).filter((specifier) =>
    specifier.startsWith("file:")
  ).map((specifier) => fileURLToPath(specifier));
  return files.length === 0 ? undefined : files;
}

function _startAgent(
  args: readonly string[],
  envFile: EnvFile | undefined,
  env: Record<string, string | undefined>,
): Deno.ChildProcess {
  const clientId = env.MQTT_CLIENT_ID?.trim()
    ? undefined
    : `${loadSections({}, ["mqtt"]).mqtt.clientId}-dev`;
  // In this process group, so that Ctrl-C reaches it as it reaches `deno task start`.
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--config=${ROOT}deno.json`,
      ...DEV_FLAGS,
      `${ROOT}main.ts`,
      ...(envFile?.added ? ["--env-file", envFile.path] : []),
      ...args,
    ],
    env: clientId === undefined ? {} : { MQTT_CLIENT_ID: clientId },
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
}

// The first change to one of `files`, once the save has settled. Watching
// their folders, not the files, sees an editor's save that replaces a file.
class _ChangeWatcher implements Disposable {
  readonly changed: Promise<string>;
  #watcher: Deno.FsWatcher;

  constructor(files: readonly string[]) {
    const watched = new Set(files);
    const watcher = this.#watcher = Deno.watchFs([...new Set(files.map((file) => dirname(file)))], {
      recursive: false,
    });
    this.changed = (async () => {
      for await (const event of watcher) {
        if (event.kind === "access") continue;
        const path = event.paths.find((path) => watched.has(path));
        if (path === undefined) continue;
        await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
        return relative(Deno.cwd(), path) || path;
      }
      return new Promise<never>(() => {}); // closed: no change comes
    })();
  }

  [Symbol.dispose](): void {
    this.#watcher.close();
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
