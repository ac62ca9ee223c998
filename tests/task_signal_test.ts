import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import denoJson from "../deno.json" with { type: "json" };
import { loadSections } from "../src/settings/load_config.ts";
import { minimalEnv, ROOT } from "./_support/agent_process.ts";
import { freePort, startBroker } from "./_support/broker.ts";
import { ctrlC, processesInGroup } from "./_support/process_group.ts";
import { waitFor } from "./_support/wait_for.ts";

Deno.test({
  name:
    "`deno task start` drains and exits 0 on Ctrl-C, though the task runner passes SIGINT on again",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using broker = await startBroker();
    const port = freePort();
    // A process group of its own, as a terminal gives a command, so that
    // SIGINT reaches the task runner and the agent alike, as Ctrl-C does.
    const child = new Deno.Command(Deno.execPath(), {
      args: ["task", "start"],
      cwd: ROOT,
      env: {
        NO_COLOR: "1",
        MQTT_URL: broker.url,
        MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
        MQTT_CLIENT_ID: `ctrl-c-${crypto.randomUUID()}`,
        METRICS_LISTEN: `127.0.0.1:${port}`,
      },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      detached: true,
    }).spawn();
    const stderr = new Response(child.stderr).text();
    try {
      let ready = false;
      await waitFor(async () =>
        ready = await fetch(`http://127.0.0.1:${port}/readyz`)
          .then(async (response) => (await response.text(), response.ok))
          .catch(() => false), { what: "/readyz to answer 200", intervalMs: 50 });
      assert.ok(ready, "the agent became ready");
      await ctrlC(child.pid);
      const status = await child.status;
      const log = await stderr;
      assert.equal(status.code, 0, log);
      assert.match(log, /Stopped after writing 0 records/);
      assert.deepEqual(await processesInGroup(child.pid), [], "no process is left");
    } finally {
      try {
        Deno.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
      await child.status;
    }
  },
});

/** `deno task dev` started as a terminal starts a command: a process group of its own. */
class DevTask implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly port: number;
  stderr = "";
  #reading: Promise<void>;

  constructor(env: Record<string, string>, options: { cwd?: string; args?: string[] } = {}) {
    this.port = freePort();
    const child = this.child = new Deno.Command(Deno.execPath(), {
      args: options.args ?? ["task", "dev"],
      cwd: options.cwd ?? ROOT,
      clearEnv: true,
      env: minimalEnv({ METRICS_LISTEN: `127.0.0.1:${this.port}`, ...env }),
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      detached: true,
    }).spawn();
    this.#reading = (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        this.stderr += chunk;
      }
    })();
  }

  /** Waits until the agent answers 200 on /readyz: connected and subscribed. */
  async ready(): Promise<void> {
    await waitFor(async () =>
      await fetch(`http://127.0.0.1:${this.port}/readyz`)
        .then(async (response) => (await response.text(), response.ok))
        .catch(() => false), {
      what: () => `/readyz to answer 200; stderr:\n${this.stderr}`,
      timeoutMs: 30_000,
      intervalMs: 50,
    });
  }

  /** The exit code once the task has exited within `timeoutMs`, else undefined. */
  async exitedWithin(timeoutMs: number): Promise<number | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    try {
      return await Promise.race([this.child.status.then(({ code }) => code), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The records of the complete JSON log lines on stderr so far. */
  get log(): Record<string, unknown>[] {
    const complete = this.stderr.slice(0, this.stderr.lastIndexOf("\n") + 1);
    return complete.split("\n").filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      Deno.kill(-this.child.pid, "SIGKILL");
    } catch {
      // the group is gone
    }
    await this.child.status;
    await this.#reading;
  }
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  const how = signal === "SIGINT" ? "Ctrl-C" : `${signal} to the task`;
  Deno.test({
    name: `\`deno task dev\` drains and ends on ${how}, leaving no process of its group behind`,
    ignore: Deno.build.os !== "linux",
    async fn() {
      await using broker = await startBroker();
      await using dev = new DevTask({
        MQTT_URL: broker.url,
        MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
        MQTT_CLIENT_ID: `dev-${crypto.randomUUID()}`,
      });
      await dev.ready();
      if (signal === "SIGINT") await ctrlC(dev.child.pid);
      else Deno.kill(dev.child.pid, signal);
      let left: number[] = [];
      await waitFor(async () => (left = await processesInGroup(dev.child.pid)).length === 0, {
        what: () =>
          `no process left in the group (left: ${left.join(", ")}); stderr:\n${dev.stderr}`,
        timeoutMs: 10_000,
        intervalMs: 100,
      });
      assert.equal(await dev.exitedWithin(1_000), 0, dev.stderr);
      assert.match(dev.stderr, /Stopped after writing 0 records/);
    },
  });
}

Deno.test({
  name: "`deno task dev` exits by itself with code 1 when the metrics port is taken",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using broker = await startBroker();
    using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    await using dev = new DevTask({
      MQTT_URL: broker.url,
      MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
      MQTT_CLIENT_ID: `dev-${crypto.randomUUID()}`,
      METRICS_LISTEN: `127.0.0.1:${(taken.addr as Deno.NetAddr).port}`,
    });
    const code = await dev.exitedWithin(10_000);
    assert.equal(code, 1, `exit code within 10 s; stderr:\n${dev.stderr}`);
    // The log is JSON: the quotes come escaped.
    assert.match(
      dev.stderr,
      /Cannot listen on METRICS_LISTEN \\"127\.0\.0\.1:\d+\\": address already in use/,
    );
    assert.deepEqual(await processesInGroup(dev.child.pid), [], "no process is left");
  },
});

Deno.test({
  name: "`deno task dev` exits by itself with code 2 on a bad setting",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using dev = new DevTask({ MQTT_QOS: "3" });
    const code = await dev.exitedWithin(10_000);
    assert.equal(code, 2, `exit code within 10 s; stderr:\n${dev.stderr}`);
    assert.match(dev.stderr, /Invalid MQTT_QOS "3"/);
    assert.deepEqual(await processesInGroup(dev.child.pid), [], "no process is left");
  },
});

const dotEnv = existsSync(`${ROOT}.env`);

Deno.test({
  name: `\`deno task dev\` connects as ammp-agent-<hostname>-dev when MQTT_CLIENT_ID is unset${
    dotEnv ? " (ignored: ./.env exists and may set MQTT_CLIENT_ID)" : ""
  }`,
  ignore: Deno.build.os !== "linux" || dotEnv,
  async fn() {
    await using broker = await startBroker();
    await using dev = new DevTask({
      MQTT_URL: broker.url,
      MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
    });
    await dev.ready();
    const connected = dev.log.find((record) => typeof record.clientId === "string");
    const { clientId } = loadSections({}, ["mqtt"]).mqtt;
    assert.equal(connected?.clientId, `${clientId}-dev`, dev.stderr);
  },
});

// The dev task's command, run in `dir` so that its ./.env is the test's:
// the script and the configuration by full path.
function devTaskIn(dir: string, env: Record<string, string>): DevTask {
  const [deno, run, ...words] = denoJson.tasks.dev.split(/\s+/);
  assert.deepEqual([deno, run], ["deno", "run"]);
  const args = [
    run,
    `--config=${ROOT}deno.json`,
    ...words.map((word) => word.endsWith(".ts") ? `${ROOT}${word}` : word),
  ];
  return new DevTask(env, { cwd: dir, args });
}

Deno.test({
  name: "`deno task dev` keeps the MQTT_CLIENT_ID that ./.env sets",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using broker = await startBroker();
    const dir = await Deno.makeTempDir({ prefix: "ammp-agent-dev-" });
    try {
      await Deno.writeTextFile(`${dir}/.env`, "MQTT_CLIENT_ID=from-dot-env\n");
      await using dev = devTaskIn(dir, {
        MQTT_URL: broker.url,
        MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
      });
      await dev.ready();
      const connected = dev.log.find((record) => typeof record.clientId === "string");
      assert.equal(connected?.clientId, "from-dot-env", dev.stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "`deno task dev` starts the agent again when ./.env changes, and waits for the next change when that start fails",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using broker = await startBroker();
    const dir = await Deno.makeTempDir({ prefix: "ammp-agent-dev-" });
    try {
      const connectedAs = (dev: DevTask) =>
        dev.log.filter((record) => typeof record.clientId === "string")
          .map((record) => record.clientId);
      await Deno.writeTextFile(`${dir}/.env`, "MQTT_CLIENT_ID=first\n");
      await using dev = devTaskIn(dir, {
        MQTT_URL: broker.url,
        MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
      });
      await dev.ready();
      assert.deepEqual(connectedAs(dev), ["first"]);

      await Deno.writeTextFile(`${dir}/.env`, "MQTT_CLIENT_ID=second\nMQTT_QOS=3\n");
      await waitFor(
        () => /exited with code 2; it starts again on the next change/.test(dev.stderr),
        {
          what: () => `the failed start to be reported; stderr:\n${dev.stderr}`,
        },
      );
      assert.match(dev.stderr, /Invalid MQTT_QOS "3"/);
      assert.equal(await dev.exitedWithin(0), undefined, "the task still runs");

      await Deno.writeTextFile(`${dir}/.env`, "MQTT_CLIENT_ID=second\n");
      await waitFor(() => connectedAs(dev).includes("second"), {
        what: () => `a connection as "second"; stderr:\n${dev.stderr}`,
      });
      await dev.ready();
      assert.deepEqual(connectedAs(dev), ["first", "second"]);

      Deno.kill(dev.child.pid, "SIGTERM");
      assert.equal(await dev.exitedWithin(10_000), 0, dev.stderr);
      assert.deepEqual(await processesInGroup(dev.child.pid), [], "no process is left");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
