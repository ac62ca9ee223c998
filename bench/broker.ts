/**
 * The benchmark's own mosquitto: a free port on loopback and a temporary
 * configuration that never drops queued messages.
 *
 * @module
 */

/** A running mosquitto. */
export interface BenchBroker {
  url: string;
  port: number;
  pid: number;
  /** Stops the broker and removes its temporary folder. */
  stop(): Promise<void>;
}

/** A TCP port that is free right now on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Starts mosquitto; throws when it is not installed. */
export async function startBroker(): Promise<BenchBroker> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "ammp-agent-bench-" });
  const lines = [
    `listener ${port} 127.0.0.1`,
    "allow_anonymous true",
    // mosquitto leaves Nagle's algorithm on by default: the last segment
    // of a large payload waits for the subscriber's delayed ACK, which put
    // 12 to 14 ms into the p99 of mosquitto_sub and the agent alike.
    "set_tcp_nodelay true",
    // Started as root, mosquitto would drop to the "mosquitto" user, which
    // cannot reach this private folder.
    "user root",
    // The default keeps 1000 messages per offline session and drops the
    // rest: the backlog would measure the broker's drops, not a consumer.
    "max_queued_messages 0",
    "max_queued_bytes 0",
    "max_inflight_messages 0",
    // The backlog lives in memory: a database saved to disk during a drain
    // would take the broker's time from the consumer being measured.
    "persistence false",
    `log_dest file ${dir}/mosquitto.log`,
    "log_type error",
    "log_type warning",
  ];
  await Deno.writeTextFile(`${dir}/mosquitto.conf`, lines.join("\n") + "\n");
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("mosquitto", {
      args: ["-c", `${dir}/mosquitto.conf`],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    if (error instanceof Deno.errors.NotFound) {
      throw new Error("Cannot start mosquitto: not on PATH (apt-get install mosquitto)");
    }
    throw error;
  }
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const stop = async () => {
    if (!exited) child.kill("SIGTERM");
    await status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (exited) {
      const log = await Deno.readTextFile(`${dir}/mosquitto.log`).catch(() => "");
      await stop();
      throw new Error(`mosquitto exited before listening on port ${port}: ${log.trim()}`);
    }
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`mosquitto did not listen on port ${port} within 10 s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  return { url: `mqtt://127.0.0.1:${port}`, port, pid: child.pid, stop };
}
