import assert from "node:assert/strict";
import { minimalEnv, ROOT } from "./_support/agent_process.ts";
import { freePort } from "./_support/broker.ts";
import { ctrlC, processesInGroup } from "./_support/process_group.ts";
import { waitFor } from "./_support/wait_for.ts";

Deno.test({
  name: "`deno task demo` streams records within seconds and stops cleanly on Ctrl-C",
  ignore: Deno.build.os !== "linux",
  async fn() {
    // Hold the usual metrics port (when it is free) to see the demo fall back to another.
    let held: Deno.Listener | undefined;
    try {
      held = Deno.listen({ hostname: "127.0.0.1", port: 2667 });
    } catch {
      // something else holds it already, which serves as well
    }
    const env: Record<string, string> = {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/tmp",
      NO_COLOR: "1",
    };
    if (Deno.env.get("DENO_DIR")) env.DENO_DIR = Deno.env.get("DENO_DIR")!;
    // detached: a process group of its own, as a terminal gives a command,
    // so that SIGINT goes to every process of it, as Ctrl-C does.
    const child = new Deno.Command(Deno.execPath(), {
      args: ["task", "demo", "--nodes", "3", "--interval", "0.5", "--seed", "1"],
      cwd: ROOT,
      clearEnv: true,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    }).spawn();
    const group = child.pid;
    const lines: string[] = [];
    let stderr = "";
    const reading = Promise.all([
      (async () => {
        let partial = "";
        for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
          const parts = (partial + chunk).split("\n");
          partial = parts.pop()!;
          lines.push(...parts);
        }
        assert.equal(partial, "", "stdout ends with a complete line");
      })(),
      (async () => {
        for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
          stderr += chunk;
        }
      })(),
    ]);
    try {
      await waitFor(() => lines.length >= 5, {
        what: () => `5 records on stdout; stderr:\n${stderr}`,
        timeoutMs: 30_000,
      });
      assert.ok(lines.length >= 5, `5 records on stdout; stderr:\n${stderr}`);

      // The status page is where the demo says, which is not the port held above.
      const page = /status page (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(stderr);
      assert.ok(page, stderr);
      if (held) assert.notEqual(page[2], "2667");
      const metrics = await (await fetch(`${page[1]}metrics`)).text();
      assert.match(metrics, /^ammp_agent_records_written_total [1-9]\d*$/m);
      assert.match(metrics, /^ammp_agent_broker_connected 1$/m);

      // The task runner and the demo it started, at least.
      assert.ok((await processesInGroup(group)).length >= 2);
      await ctrlC(group);
      const status = await child.status;
      await reading;
      assert.equal(status.code, 0, stderr);
      assert.match(stderr, /Stopped after writing \d+ records/);
      assert.deepEqual(await processesInGroup(group), [], "no process of the demo is left");

      const nodes = new Set<string>();
      for (const line of lines) {
        const record = JSON.parse(line);
        assert.deepEqual(Object.keys(record).filter((key) => key !== "status"), [
          "node_id",
          "time",
          "data",
        ]);
        assert.match(record.node_id, /^[0-9a-f]{12}$/);
        assert.ok(!Number.isNaN(Date.parse(record.time)));
        assert.ok(Object.keys(record.data).length >= 3);
        nodes.add(record.node_id);
      }
      assert.equal(nodes.size, 3);
    } finally {
      held?.close();
      if ((await processesInGroup(group)).length > 0) Deno.kill(-group, "SIGKILL");
      await child.status;
      await reading.catch(() => {});
    }
  },
});

Deno.test({
  name: "`deno task demo` shows a site in every state of the fleet view",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const port = freePort();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["task", "demo", "--nodes", "5", "--interval", "0.5", "--fault-after", "1"],
      cwd: ROOT,
      clearEnv: true,
      env: minimalEnv({ METRICS_LISTEN: `127.0.0.1:${port}`, NODE_SILENT_AFTER_SECONDS: "2" }),
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      detached: true,
    }).spawn();
    const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    const reading = (async () => {
      while (true) {
        const { value, done } = await stderr.read();
        if (done) return;
        seen += value;
      }
    })();
    const states = async () => {
      try {
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return Object.fromEntries(
          [...metrics.matchAll(/^ammp_agent_nodes\{state="(\w+)"\} (\d+)$/gm)]
            .map((m) => [m[1], Number(m[2])]),
        );
      } catch {
        return {};
      }
    };
    try {
      const want = { reporting: 2, silent: 1, offline: 1, backfilling: 1 };
      let last = {};
      await waitFor(async () => {
        last = await states();
        return JSON.stringify(last) === JSON.stringify(want);
      }, {
        what: () => `the node states ${JSON.stringify(want)}; seen:\n${seen.slice(-3000)}`,
        timeoutMs: 60_000,
        intervalMs: 200,
      });
      assert.deepEqual(last, want, seen);
    } finally {
      await ctrlC(child.pid);
      await child.status;
      await reading;
    }
  },
});

Deno.test({
  name: "`deno task demo --local` runs the agent on the gateway: u/data records of NODE_ID's node",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const port = freePort();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["task", "demo", "--local", "--interval", "0.3", "--seed", "3"],
      cwd: ROOT,
      clearEnv: true,
      env: minimalEnv({ METRICS_LISTEN: `127.0.0.1:${port}`, NODE_ID: "b827eb00beef" }),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    }).spawn();
    let stdout = "";
    let stderr = "";
    const reading = Promise.all([
      (async () => {
        for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
          stdout += chunk;
        }
      })(),
      (async () => {
        for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
          stderr += chunk;
        }
      })(),
    ]);
    const nodes = async () => {
      try {
        return (await (await fetch(`http://127.0.0.1:${port}/nodes`)).json()).nodes;
      } catch {
        return [];
      }
    };
    try {
      let last: { node_id: string; state: string; bridge_up: boolean | null }[] = [];
      await waitFor(async () => {
        last = await nodes();
        return last[0]?.state === "reporting" && stdout.split("\n").length > 3;
      }, {
        what: () => `the node reporting; /nodes ${JSON.stringify(last)}; stderr:\n${stderr}`,
        timeoutMs: 30_000,
        intervalMs: 200,
      });
      assert.deepEqual(last.map((node) => [node.node_id, node.bridge_up]), [[
        "b827eb00beef",
        true,
      ]]);
      assert.match(
        stderr,
        /Demo on the gateway: the datalogger of node b827eb00beef publishes u\/data/,
      );
      assert.match(stderr, /Node id b827eb00beef from NODE_ID/);
    } finally {
      await ctrlC(child.pid);
      const status = await child.status;
      await reading;
      assert.equal(status.code, 0, stderr);
    }
    const records = stdout.trim().split("\n").map((line) => JSON.parse(line));
    assert.ok(records.length >= 3);
    for (const record of records) assert.equal(record.node_id, "b827eb00beef");
  },
});
