/**
 * `ammp-agent`: runs the agent until a signal, a fatal error or, when
 * leaving, quiet; and {@linkcode runAgent}, the lifecycle every way of
 * running the agent shares.
 *
 * @module
 */

import { Agent } from "../agent.ts";
import { type Config, loadConfig } from "../settings/load_config.ts";
import { logger, setupLogging } from "../log.ts";
import { AgentMetrics } from "../metrics/metrics.ts";
import { dropPermissions, grantedPermissions, STARTUP_PERMISSIONS } from "../permissions.ts";
import { VERSION } from "../version.ts";
import { configFrom, type Env } from "./_config_from.ts";
import { type QuietClock, whenQuiet } from "./_quiet.ts";

/** How `leave` knows the session is empty: nothing has come for this long. */
export interface Leave {
  quietSeconds: number;
  /** The clock of the quiet timer; defaults to the system's. */
  clock?: QuietClock;
}

/** Options for {@linkcode runAgent}. */
export interface RunAgentOptions {
  /** The source revision a build was made from, for the log and metrics. */
  revision?: string;
  /** Leave: end the session once quiet. */
  leave?: Leave;
  /** The log category (default `main`). */
  logCategory?: string;
  /** Give up the permissions not needed once started (default true). */
  dropPermissions?: boolean;
  /** Called once the agent has started, with the function that stops it with an exit code. */
  onStarted?: (agent: Agent, stop: (code: number) => void) => Promise<void> | void;
  /** Called once it is asked to stop, before the agent drains. */
  onStopping?: () => Promise<void> | void;
}

/**
 * Runs the agent with `config` until SIGINT or SIGTERM (exit code 0), a
 * fatal error (1) or, when leaving, quiet; then drains for at most
 * `SHUTDOWN_TIMEOUT_SECONDS`. SIGHUP reopens the output files, if any, and
 * never stops the agent. Resolves to the exit code.
 */
export async function runAgent(config: Config, options: RunAgentOptions = {}): Promise<number> {
  const metrics = new AgentMetrics({ version: VERSION, revision: options.revision });
  try {
    return await _run(config, options, metrics);
  } finally {
    metrics.close();
  }
}

async function _run(
  config: Config,
  options: RunAgentOptions,
  metrics: AgentMetrics,
): Promise<number> {
  const { leave } = options;
  const log = logger(options.logCategory ?? "main");
  const exit = Promise.withResolvers<number>();
  let agent: Agent;
  try {
    agent = new Agent(config, {
      metrics,
      onFatal: (error) => {
        log.error("{error}; stopping without acknowledging more", { error: error.message });
        exit.resolve(1);
      },
      leaving: leave !== undefined,
    });
  } catch (error) {
    log.error("Cannot start: {error}", { error: (error as Error).message });
    return 1;
  }
  log.info("ammp-agent {version} starting", {
    version: VERSION,
    revision: options.revision ?? "unknown",
  });
  if (config.nodeId !== undefined) {
    log.info("Node id {nodeId} from {source}, for records whose topic carries none", {
      nodeId: config.nodeId,
      source: config.nodeIdFrom,
    });
  }
  if (options.dropPermissions ?? true) {
    // Every file the agent needs is read or open by now: give up the rest,
    // but keep writing files when it has output files to reopen on SIGHUP.
    const permissions = dropPermissions(
      agent.hasFiles ? STARTUP_PERMISSIONS.filter((name) => name !== "write") : STARTUP_PERMISSIONS,
    );
    log.info("Running with permissions: {granted}", {
      granted: grantedPermissions(permissions).join(", "),
      permissions,
    });
  }
  try {
    agent.start();
  } catch (error) {
    // A port in use says in full what failed, as METRICS_LISTEN's other problems do.
    const message = error instanceof Deno.errors.AddrInUse ? "{error}" : "Cannot start: {error}";
    log.error(message, { error: (error as Error).message });
    return 1;
  }

  let stopping = false;
  const onSignal = (signal: Deno.Signal) => () => {
    // Ctrl-C under `deno task` arrives twice: from the terminal and passed on.
    if (stopping) return;
    stopping = true;
    log.info("Received {signal}, draining", { signal });
    exit.resolve(0);
  };
  const signals: [Deno.Signal, () => void][] = [
    ["SIGINT", onSignal("SIGINT")],
    ["SIGTERM", onSignal("SIGTERM")],
  ];
  // logrotate's postrotate: the files were renamed, write to new ones.
  // Without files there is nothing to reopen, and a SIGHUP that a service
  // manager sends to the whole group must not end the agent.
  signals.push(["SIGHUP", () => {
    if (agent.hasFiles) {
      log.info("Received SIGHUP, reopening the output files");
      agent.reopen();
    } else {
      log.info("Received SIGHUP; no output file to reopen, carrying on");
    }
  }]);
  // The listeners stay until the process exits: Ctrl-C under `deno task`
  // delivers SIGINT twice (the terminal's, and the one the task runner
  // passes on), and the second must not cut the drain short.
  for (const [signal, listener] of signals) Deno.addSignalListener(signal, listener);
  const stopWatching = leave === undefined ? undefined : whenQuiet(agent, {
    quietSeconds: leave.quietSeconds,
    lastMessageReceived: () => metrics.lastMessageReceived,
    onQuiet: () => exit.resolve(0),
    clock: leave.clock,
  });
  await options.onStarted?.(agent, exit.resolve);

  const code = await exit.promise;
  stopWatching?.();
  await options.onStopping?.();
  // A signal while leaving keeps the session: what is left stays queued.
  const endSession = leave !== undefined && !stopping && code === 0;
  const timeout = AbortSignal.timeout(config.shutdownTimeoutSeconds * 1000);
  const ended = await agent.stop({ signal: timeout, endSession });
  if (timeout.aborted) {
    log.warning("Shutdown took longer than {seconds} s; unwritten messages stay unacknowledged", {
      seconds: config.shutdownTimeoutSeconds,
    });
  }
  if (leave && !ended) {
    log.error(
      stopping
        ? "Stopped before the session of {clientId} was ended; run leave again"
        : "Cannot end the session of {clientId}: not everything was written; run leave again",
      { clientId: config.mqtt.clientId },
    );
    return 1;
  }
  if (ended) {
    log.info("Left: told the broker to end the session of {clientId}", {
      clientId: config.mqtt.clientId,
    });
  }
  return code;
}

/** Options for {@linkcode runCommand}. */
export interface RunCommandOptions {
  /** The source revision a build was made from. */
  revision?: string;
  /** Leave instead of running on. */
  leave?: Leave;
}

/**
 * `ammp-agent`: loads the whole configuration, makes sure `METRICS_LISTEN`
 * can be listened on, sets up logging and runs the agent; resolves to the
 * exit code.
 */
export async function runCommand(env: Env, options: RunCommandOptions = {}): Promise<number> {
  const config = configFrom(() => loadConfig(env));
  if (config === undefined) return 2;
  const listenCode = listenProblem(config.metrics);
  if (listenCode !== undefined) return listenCode;
  if (options.leave && config.mqtt.protocolVersion !== 5) {
    console.error(
      `Cannot leave with MQTT_PROTOCOL_VERSION "${config.mqtt.protocolVersion}": ` +
        "ending a session needs MQTT 5",
    );
    return 2;
  }
  setupLogging(config.log);
  return await runAgent(config, options);
}

// Tries the host of METRICS_LISTEN by listening on a free port of it: only
// listening resolves the name the way the server will (getaddrinfo, with
// /etc/hosts), and trying before the first log line keeps the problem to one
// line that names the setting. Resolves to undefined when it can be listened
// on, else to the exit code once that line is printed: 2 for a name that does
// not resolve, 1 for what may change by itself (an address not yet on this
// machine, a name server not answering), so that systemd tries again, as it
// does for a port in use, which only the server's start finds.
function listenProblem(listen: { hostname: string; port: number }): 1 | 2 | undefined {
  try {
    Deno.listen({ hostname: listen.hostname, port: 0 }).close();
    return undefined;
  } catch (error) {
    const host = listen.hostname.includes(":") ? `[${listen.hostname}]` : listen.hostname;
    const shown = `METRICS_LISTEN "${host}:${listen.port}"`;
    const reason = (error as Error).message.replace(/ \(os error \d+\)$/, "");
    if (error instanceof Deno.errors.AddrNotAvailable || /temporary failure/i.test(reason)) {
      console.error(`Cannot listen on ${shown}: ${reason}`);
      return 1;
    }
    console.error(`Invalid ${shown}: cannot listen on host "${listen.hostname}": ${reason}`);
    return 2;
  }
}
