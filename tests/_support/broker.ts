/**
 * A real MQTT broker for tests: mosquitto when it is on PATH (required when
 * `CI=true`), otherwise an in-process aedes broker so that the tests still
 * run on a machine that has only Deno.
 *
 * @module
 */

import net from "node:net";
import { waitFor } from "./wait_for.ts";

/**
 * A broker started for a test; `await using` stops it when the test's
 * scope ends.
 */
export interface TestBroker extends AsyncDisposable {
  kind: "mosquitto" | "aedes";
  host: string;
  port: number;
  /** `mqtt://127.0.0.1:<port>`, or `mqtts://` with TLS */
  url: string;
  /** The newest MQTT version the broker speaks: aedes speaks only 3.1.1. */
  protocolVersion: 4 | 5;
  /** Stops the broker cleanly (mosquitto saves its persistence); once. */
  stop(): Promise<void>;
  /** Stops the broker cleanly and starts it again on the same port. */
  restart(): Promise<void>;
}

/** Options for {@linkcode startBroker}. */
export interface StartBrokerOptions {
  /** Extra lines for mosquitto's configuration file. */
  config?: string[];
  /** Keep sessions and queued messages across {@linkcode TestBroker.restart}. */
  persistence?: boolean;
  /** Require mosquitto even outside CI (for tests only it can run). */
  require?: boolean;
  /** Serve MQTT over TLS (mosquitto only): the URL becomes `mqtts://`. */
  tls?: BrokerTls;
}

/** The TLS side of a test broker: PEM file paths. */
export interface BrokerTls {
  /** The CA that client certificates must be signed by. */
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Refuse clients without a certificate signed by `caFile`. */
  requireCertificate?: boolean;
}

/** Whether mosquitto is on PATH. */
export function hasMosquitto(): boolean {
  return which("mosquitto") !== undefined;
}

/** Whether a missing mosquitto is a failure (on CI) rather than a fallback. */
export function mosquittoRequired(): boolean {
  return Deno.env.get("CI") === "true";
}

/** Finds a command on PATH. */
export function which(command: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      const path = `${dir}/${command}`;
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** A TCP port that is free right now on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Starts mosquitto, or aedes where mosquitto is missing outside CI. */
export async function startBroker(options: StartBrokerOptions = {}): Promise<TestBroker> {
  if (hasMosquitto()) return disposable(await startMosquitto(options));
  if (mosquittoRequired() || options.require || options.tls) {
    throw new Error(
      "mosquitto is not on PATH; it is required with CI=true (apt-get install mosquitto)",
    );
  }
  return disposable(await startAedes());
}

type Broker = Omit<TestBroker, typeof Symbol.asyncDispose>;

// A second stop (the test's own, then the end of its scope) does nothing.
function disposable(broker: Broker): TestBroker {
  let stopped: Promise<void> | undefined;
  const stop = () => stopped ??= broker.stop();
  return { ...broker, stop, [Symbol.asyncDispose]: stop };
}

async function startMosquitto(options: StartBrokerOptions): Promise<Broker> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "ammp-agent-mosquitto-" });
  // mosquitto started as root drops to the "mosquitto" user unless told
  // otherwise; "user root" keeps it able to reach this private folder.
  const lines = [
    `listener ${port} 127.0.0.1`,
    "allow_anonymous true",
    "user root",
    "max_queued_messages 0",
    "max_inflight_messages 0",
    "persistent_client_expiration 1d",
    `log_dest file ${dir}/mosquitto.log`,
    "log_type error",
    "log_type warning",
    "log_type notice",
    ...(options.persistence
      ? ["persistence true", `persistence_location ${dir}/`, "autosave_interval 1"]
      : []),
    ...(options.config ?? []),
    // Listener settings: they apply to the listener above.
    ...(options.tls
      ? [
        `cafile ${options.tls.caFile}`,
        `certfile ${options.tls.certFile}`,
        `keyfile ${options.tls.keyFile}`,
        `require_certificate ${options.tls.requireCertificate ? "true" : "false"}`,
      ]
      : []),
  ];
  await Deno.writeTextFile(`${dir}/mosquitto.conf`, lines.join("\n") + "\n");

  let child: Deno.ChildProcess;
  const launch = async () => {
    child = new Deno.Command("mosquitto", {
      args: ["-c", `${dir}/mosquitto.conf`],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    await waitForPort(port, child.status);
  };
  const halt = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await child.status;
  };
  await launch();
  return {
    kind: "mosquitto",
    host: "127.0.0.1",
    port,
    url: `${options.tls ? "mqtts" : "mqtt"}://127.0.0.1:${port}`,
    protocolVersion: 5,
    async stop() {
      await halt();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
    async restart() {
      await halt();
      await launch();
    },
  };
}

async function startAedes(): Promise<Broker> {
  const { Aedes } = await import("aedes");
  const broker = await Aedes.createBroker();
  const port = freePort();
  let server: net.Server;
  const sockets = new Set<net.Socket>();
  const listen = () =>
    new Promise<void>((resolve) => {
      server = net.createServer((socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
        broker.handle(socket);
      });
      server.listen(port, "127.0.0.1", () => resolve());
    });
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  await listen();
  return {
    kind: "aedes",
    host: "127.0.0.1",
    port,
    url: `mqtt://127.0.0.1:${port}`,
    protocolVersion: 4,
    async stop() {
      await close();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
    async restart() {
      await close();
      await listen();
    },
  };
}

async function waitForPort(port: number, exited: Promise<Deno.CommandStatus>): Promise<void> {
  let gone = false;
  exited.then(() => gone = true);
  await waitFor(async () => {
    if (gone) throw new Error(`mosquitto exited before listening on port ${port}`);
    try {
      const connection = await Deno.connect({ hostname: "127.0.0.1", port });
      connection.close();
      return true;
    } catch {
      return false;
    }
  }, { what: `mosquitto to listen on port ${port}`, timeoutMs: 10_000, intervalMs: 25 });
}
